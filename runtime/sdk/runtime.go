package sdk

import (
	"context"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/version"
	roothash "github.com/atoll-project/atoll/consensus/roothash/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

// Tx is a decoded transaction: whatever the runtime's DecodeTx returns.
type Tx = any

// Runtime is what a runtime author implements: business logic only. The SDK calls it from
// several goroutines at once (checks and queries run beside a batch), so an implementation
// must be safe for concurrent use; all state it needs lives in the State handed to it.
//
// Every method must be deterministic: its result may depend only on its arguments, the
// State, and what its context says about the block (round, timestamp, epoch, seed, round
// results). No clock, no randomness, no map iteration order in anything it returns or
// writes, no I/O.
type Runtime interface {
	// Version is announced in the handshake.
	Version() version.Version
	// DecodeTx decodes one input strictly (unknown fields, trailing bytes and non-canonical
	// encodings rejected). An error makes the input malformed: CheckTx refuses it, and in a
	// batch it is dropped without output (TxRejectHashes). Wrap ErrMalformedTx or a coded
	// error of the runtime's own.
	DecodeTx(raw []byte) (Tx, error)
	// CheckTx says whether tx may execute against the state in ctx: cheap and read-only
	// (writes, messages and tags fail with ErrReadOnly). The SDK calls it for the pool
	// (CheckTxBatch) and again right before ExecuteTx, against the batch's state so far; a
	// transaction it refuses is executed as failed with its error.
	CheckTx(ctx *TxContext, tx Tx) error
	// ExecuteTx executes tx: it reads and writes ctx.State(), emits consensus messages with
	// ctx.EmitMessage and event tags with ctx.EmitTag, and returns an output that is
	// CBOR-encoded into the IO tree. When it returns an error, nothing it did survives (no
	// state change, message or tag) and the error, preferably coded, is the output.
	ExecuteTx(ctx *TxContext, tx Tx) (output any, err error)
	// Query answers a read-only query with a value the SDK CBOR-encodes; args is the raw CBOR
	// the client sent (possibly empty). Unknown methods should fail with a coded error.
	Query(ctx *QueryContext, method string, args []byte) (any, error)
}

// Prefetcher is implemented by runtimes that can tell from a decoded transaction which state
// keys it will touch. Before a batch executes, the SDK fetches the paths to
// all those keys from the host in a few requests instead of one round trip per key. It is a
// hint only: results never depend on it.
type Prefetcher interface {
	PrefetchKeys(tx Tx) [][]byte
}

// BatchStarter is implemented by runtimes that act once per batch before its transactions,
// typically to record the results of the previous round's consensus messages
// (ctx.RoundResults). Its writes and messages count as the batch's; when it fails, they are
// dropped and the batch goes on. It may not emit tags.
type BatchStarter interface {
	BeginBatch(ctx *TxContext) error
}

// blockEnv is what a request says about the block it runs on; it is shared by every context
// of one request and never modified.
type blockEnv struct {
	block        roothash.Header
	blockHash    hash.Hash
	epoch        uint64
	results      *roothash.RoundResults
	maxMessages  uint32
	roundSeedVal hash.Hash
}

// seedContext separates the per-round seed from every other hash of a block hash.
var seedContext = []byte("atoll/sdk: round seed")

func newBlockEnv(block *roothash.Header, epoch uint64, results *roothash.RoundResults, maxMessages uint32) *blockEnv {
	h := block.Hash()
	if results == nil {
		results = &roothash.RoundResults{}
	}
	return &blockEnv{
		block:        *block,
		blockHash:    h,
		epoch:        epoch,
		results:      results,
		maxMessages:  maxMessages,
		roundSeedVal: hash.Digest(seedContext, h[:]),
	}
}

// BlockInfo describes the block a request runs on; every value in it is the same on every
// node, so runtimes may use it freely.
type BlockInfo struct{ env *blockEnv }

// Header returns a copy of the latest block's header: the batch executes on top of it, checks
// and queries read its state.
func (b BlockInfo) Header() roothash.Header { return b.env.block }

// Round returns the round a batch executes: the latest block's round + 1.
func (b BlockInfo) Round() uint64 { return b.env.block.Round + 1 }

// Timestamp returns the latest block's time in Unix seconds: the only clock a runtime has.
func (b BlockInfo) Timestamp() uint64 { return b.env.block.Timestamp }

// Epoch returns the consensus epoch the host gave.
func (b BlockInfo) Epoch() uint64 { return b.env.epoch }

// Seed returns the per-round seed H("atoll/sdk: round seed" || latest block hash): the only
// randomness a runtime has. It is known to everyone once the latest block is, and the
// previous round's executors could bias it, so it must not guard anything of value.
func (b BlockInfo) Seed() hash.Hash { return b.env.roundSeedVal }

// RuntimeID returns the runtime's ID (the block's namespace).
func (b BlockInfo) RuntimeID() namespace.Namespace { return b.env.block.Namespace }

// RuntimeAddress returns the runtime's staking account, from which its consensus messages
// move funds.
func (b BlockInfo) RuntimeAddress() staking.Address {
	return staking.NewRuntimeAddress(b.env.block.Namespace)
}

// TxContext is what CheckTx, ExecuteTx and BeginBatch get. It is valid only during that call
// and must not be kept or shared with other goroutines.
type TxContext struct {
	BlockInfo
	ctx     context.Context
	state   *State
	txHash  hash.Hash
	hasTx   bool
	checkOn bool

	// batchMessages is how many messages earlier transactions of the batch emitted.
	batchMessages int
	messages      []roothash.Message
	tags          []tag
}

type tag struct {
	key, value []byte
}

// Context returns the request's context, cancelled when the host aborts the request. The SDK
// checks it between transactions and on every state fetch; long computations may check it
// too.
func (c *TxContext) Context() context.Context { return c.ctx }

// State returns the runtime state as this transaction sees it.
func (c *TxContext) State() *State { return c.state }

// IsCheckOnly reports whether this is CheckTx: state, messages and tags are then read-only.
func (c *TxContext) IsCheckOnly() bool { return c.checkOn }

// TxHash returns the hash of the transaction's raw bytes (the zero hash in BeginBatch).
func (c *TxContext) TxHash() hash.Hash { return c.txHash }

// RoundResults returns the results of the consensus messages of the last Normal round, as the
// host gave them with the batch (empty in CheckTx).
func (c *TxContext) RoundResults() roothash.RoundResults { return *c.env.results }

// EmitMessage queues a consensus message, executed at finalization from the runtime's account
// (DESIGN.md §3), and returns its index in the batch's message list, which is the index its
// result will have in the next round's RoundResults. It fails with ErrInvalidMessage for a
// malformed message and ErrTooManyMessages past the batch's max_messages; the transaction
// then fails even if it ignores the error. Messages of a transaction that fails are dropped.
func (c *TxContext) EmitMessage(msg roothash.Message) (uint32, error) {
	if c.checkOn {
		return 0, ErrReadOnly
	}
	if err := msg.ValidateBasic(); err != nil {
		c.messages = append(c.messages, msg) // makes the transaction fail at its end
		return 0, ErrInvalidMessage
	}
	idx := c.batchMessages + len(c.messages)
	c.messages = append(c.messages, msg)
	if idx >= int(c.env.maxMessages) {
		return 0, ErrTooManyMessages
	}
	return uint32(idx), nil
}

// EmitTag records an event tag under the IO tree key 'E' || key || H(tx). A later tag with
// the same key in the same transaction replaces the earlier. Tags of a transaction that fails
// are dropped. It fails with ErrInvalidArgument for an empty or oversized key or value.
func (c *TxContext) EmitTag(key, value []byte) error {
	if c.checkOn {
		return ErrReadOnly
	}
	if !c.hasTx {
		return ErrInvalidArgument
	}
	if len(key) == 0 || len(key) > maxTagKeySize || len(value) > maxValueSize {
		return ErrInvalidArgument
	}
	c.tags = append(c.tags, tag{key: clone(key), value: clone(value)})
	return nil
}

// QueryContext is what Query gets. It is valid only during that call.
type QueryContext struct {
	BlockInfo
	ctx   context.Context
	state *State
}

// Context returns the request's context.
func (c *QueryContext) Context() context.Context { return c.ctx }

// State returns the read-only state of the block the query names.
func (c *QueryContext) State() *State { return c.state }

// clone returns a non-nil copy of b.
func clone(b []byte) []byte { return append(make([]byte, 0, len(b)), b...) }
