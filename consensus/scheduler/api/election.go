package api

import (
	"fmt"

	"github.com/atoll-project/atoll/common/namespace"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
)

// Outcome is how a runtime's election ended.
type Outcome uint8

const (
	// OutcomeElected: both committees were elected.
	OutcomeElected Outcome = 1
	// OutcomeNotDeployed: the runtime has no active deployment in the epoch; it is neither
	// elected nor suspended.
	OutcomeNotDeployed Outcome = 2
	// OutcomeTooFewExecutors: fewer eligible executors than max(group_size, min_pool_size);
	// no committees, and the runtime is suspended.
	OutcomeTooFewExecutors Outcome = 3
	// OutcomeTooFewStorage: fewer eligible storage nodes than max(storage.group_size,
	// storage min_pool_size); no committees, and the runtime is suspended.
	OutcomeTooFewStorage Outcome = 4
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case OutcomeElected:
		return "elected"
	case OutcomeNotDeployed:
		return "not deployed"
	case OutcomeTooFewExecutors:
		return "too few eligible executors"
	case OutcomeTooFewStorage:
		return "too few eligible storage nodes"
	}
	return fmt.Sprintf("unknown(%d)", uint8(o))
}

// ElectionResult is one runtime's election for one epoch. It is both the CommitteeElected
// message the scheduler sends registry and roothash (DESIGN.md §3) and the event it emits.
// Executor and Storage are both set when Outcome is OutcomeElected and both nil otherwise.
type ElectionResult struct {
	RuntimeID namespace.Namespace `json:"runtime_id" cbor:"runtime_id"`
	Epoch     beacon.EpochTime    `json:"epoch" cbor:"epoch"`
	Outcome   Outcome             `json:"outcome" cbor:"outcome"`
	Executor  *Committee          `json:"executor,omitempty" cbor:"executor,omitempty"`
	Storage   *Committee          `json:"storage,omitempty" cbor:"storage,omitempty"`
	// EligibleExecutors and EligibleStorage count the candidates that passed the eligibility
	// rules and the per-entity limits (for operators reading why a runtime was suspended).
	EligibleExecutors uint32 `json:"eligible_executors" cbor:"eligible_executors"`
	EligibleStorage   uint32 `json:"eligible_storage" cbor:"eligible_storage"`
}

// EventKind implements consensus.Event.
func (ElectionResult) EventKind() string { return "scheduler.Election" }

// Elected reports whether the runtime got committees.
func (r *ElectionResult) Elected() bool { return r.Outcome == OutcomeElected }

// Suspends reports whether the outcome suspends the runtime: no committees although it has an
// active deployment.
func (r *ElectionResult) Suspends() bool {
	return r.Outcome == OutcomeTooFewExecutors || r.Outcome == OutcomeTooFewStorage
}

// MessageKindElectionResult is the kind of ElectionResult as a message (CommitteeElected in
// DESIGN.md §3).
const MessageKindElectionResult = "scheduler.ElectionResult"

// MessageKind implements consensus.Message: the scheduler publishes one ElectionResult per
// non-suspended runtime at each epoch transition, in its BeginBlock.
func (ElectionResult) MessageKind() string { return MessageKindElectionResult }
