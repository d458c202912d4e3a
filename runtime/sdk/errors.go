package sdk

import (
	"errors"

	coded "github.com/atoll-project/atoll/common/errors"
)

// ModuleName is the module of the SDK's coded errors.
const ModuleName = "sdk"

// Coded errors. Those marked "tx" are a transaction's outcome: they end up in its output (or
// its CheckTx result) and say nothing about the node. The others fail a whole request and tell
// the host why.
var (
	// ErrMalformedTx (tx) is for input bytes the runtime could not decode; runtimes may wrap
	// it in their DecodeTx errors.
	ErrMalformedTx = coded.New(ModuleName, 1, "malformed transaction")
	// ErrTooManyMessages (tx) fails a transaction whose consensus messages would take the
	// batch past max_messages.
	ErrTooManyMessages = coded.New(ModuleName, 2, "too many consensus messages in the batch")
	// ErrInvalidMessage (tx) fails a transaction that emitted a structurally invalid message.
	ErrInvalidMessage = coded.New(ModuleName, 3, "invalid consensus message")
	// ErrTxTooLarge (tx) fails a transaction whose writes alone would break the batch limits
	// (DESIGN.md §6): it is executed as failed rather than deferred forever.
	ErrTxTooLarge = coded.New(ModuleName, 4, "transaction results exceed the batch limits")
	// ErrReadOnly (tx) is returned by a state write outside ExecuteTx (in CheckTx, in a query).
	ErrReadOnly = coded.New(ModuleName, 5, "state is read-only here")
	// ErrInvalidArgument (tx) is returned by a state write with a key or value over the MKVS
	// size caps, or a tag with an empty key.
	ErrInvalidArgument = coded.New(ModuleName, 6, "invalid argument")

	// ErrStateUnavailable fails a request whose state could not be read from the host (a
	// storage error or a proof that does not verify). The executor reports such a round as a
	// "state unavailable" failure.
	ErrStateUnavailable = coded.New(ModuleName, 10, "state unavailable")
	// ErrInputRootMismatch fails an ExecuteTxBatch whose inputs do not give its io_root.
	ErrInputRootMismatch = coded.New(ModuleName, 11, "inputs do not match the input root")
	// ErrWrongRuntime fails a request about a block of another runtime than the one named in
	// the handshake.
	ErrWrongRuntime = coded.New(ModuleName, 12, "block of another runtime")
	// ErrAborted fails a request cancelled by the host's Abort (or by the connection ending).
	ErrAborted = coded.New(ModuleName, 13, "request aborted")
	// ErrInvalidBlock fails a request whose block header is malformed.
	ErrInvalidBlock = coded.New(ModuleName, 14, "invalid block header")
)

// ErrNoSocket is returned by Run when no host socket is configured.
var ErrNoSocket = errors.New("sdk: no host socket: set " + SocketEnv + " or use WithSocketPath")
