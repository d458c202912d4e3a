package consensus

import (
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// Application is a consensus service run by the mux. The mux calls an application from
// several goroutines (CheckTx, queries and FinalizeBlock run concurrently on different
// Contexts over different states): an application keeps no mutable per-block state of its
// own beyond what it stores through its Context, and any cache it keeps must be safe for
// concurrent use.
//
// Errors: an error wrapping ErrState halts the node; any other error returned by ExecuteTx,
// HandleMessage or Query rejects that call only (use coded errors). InitChain, BeginBlock and
// EndBlock have no one to reject: any error from them halts the node.
type Application interface {
	// Name is the service name: "beacon", "staking", ... (one of AppOrder).
	Name() string
	// Methods lists the transaction methods the application owns.
	Methods() []transaction.MethodName
	// Messages lists the message kinds the application handles.
	Messages() []string

	// InitChain writes the application's genesis state.
	InitChain(ctx *Context, doc *genesis.Document) error
	// BeginBlock runs at the start of every block.
	BeginBlock(ctx *Context) error
	// ExecuteTx runs one transaction's method (the fee and nonce are already handled), in a
	// Context of its own that is discarded if it fails. It runs in CheckTx too (ctx.IsCheckOnly).
	ExecuteTx(ctx *Context, tx *transaction.Transaction) error
	// EndBlock runs at the end of every block.
	EndBlock(ctx *Context) error

	// HandleMessage handles a message published by another application, in the publisher's
	// Context; the result goes back to the publisher.
	HandleMessage(ctx *Context, msg Message) (any, error)
	// Query answers a read-only query at some height; args is the CBOR argument. The result is
	// CBOR-encoded for the caller.
	Query(ctx *Context, method string, args []byte) (any, error)
}

// Message is a typed in-process message between applications.
type Message interface {
	// MessageKind names the message type ("beacon.EpochChanged").
	MessageKind() string
}

// Event is a typed event: CBOR-encoded into one attribute of an ABCI event of type
// EventKind().
type Event interface {
	// EventKind names the event type ("staking.Transfer").
	EventKind() string
}

// TxAuthenticator checks a transaction's nonce and charges its fee before the method runs.
// Exactly one application (staking) implements it. It runs in its own nested Context, which is
// kept even when the method then fails; an error rejects the transaction (nothing charged).
type TxAuthenticator interface {
	AuthenticateTx(ctx *Context, tx *transaction.Transaction) error
}

// EpochSource gives the epoch of a height. The beacon implements it; without one every
// Context is in epoch 0. It reads state only and must be safe for concurrent use.
type EpochSource interface {
	EpochAt(state State, height int64) (beacon.EpochTime, error)
}
