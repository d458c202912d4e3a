package api

import "github.com/atoll-project/atoll/common/namespace"

// Event kinds of the service, the types of their ABCI events.
const (
	// EventKindRuntime is the kind of Event (committed, discrepancy, finalized, round failed).
	EventKindRuntime = "roothash.Event"
	// EventKindNewBlock is the kind of NewBlockEvent.
	EventKindNewBlock = "roothash.NewBlock"
)

// EventKind implements consensus.Event.
func (Event) EventKind() string { return EventKindRuntime }

// NewBlockEvent reports a new runtime block of any type. Workers and clients follow a
// runtime's chain by it.
type NewBlockEvent struct {
	RuntimeID namespace.Namespace `cbor:"runtime_id"`
	// Height is the consensus height the block was made at.
	Height int64  `cbor:"height"`
	Header Header `cbor:"header"`
}

// EventKind implements consensus.Event.
func (NewBlockEvent) EventKind() string { return EventKindNewBlock }
