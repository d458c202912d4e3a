package consensus

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/signature"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// Mode says what a Context is running.
type Mode uint8

const (
	// ModeInitChain writes the genesis state.
	ModeInitChain Mode = iota + 1
	// ModeBeginBlock runs BeginBlock.
	ModeBeginBlock
	// ModeDeliverTx runs a transaction of a decided block.
	ModeDeliverTx
	// ModeEndBlock runs EndBlock.
	ModeEndBlock
	// ModeCheckTx runs a transaction against the check state, for the mempool.
	ModeCheckTx
	// ModeQuery answers a query; its writes go nowhere.
	ModeQuery
)

// String names the mode.
func (m Mode) String() string {
	switch m {
	case ModeInitChain:
		return "init-chain"
	case ModeBeginBlock:
		return "begin-block"
	case ModeDeliverTx:
		return "deliver-tx"
	case ModeEndBlock:
		return "end-block"
	case ModeCheckTx:
		return "check-tx"
	case ModeQuery:
		return "query"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// BlockInfo describes the block a Context belongs to. It is shared by a block's Contexts and
// must not be modified.
type BlockInfo struct {
	// Height is the block's height (for CheckTx the next block's; for a query the queried
	// one; for InitChain the initial height).
	Height int64
	// Time is the block's time from the block header, never the wall clock (for CheckTx the
	// last block's; for InitChain the genesis time).
	Time time.Time
	// ChainContext is the hash of the genesis document.
	ChainContext hash.Hash
	// Epoch is the block's epoch.
	Epoch beacon.EpochTime
	// ProposerEntity is the entity of the block's proposer, nil when unknown (or outside
	// FinalizeBlock).
	ProposerEntity *signature.PublicKey
}

// Caller is who runs the current transaction or message.
type Caller struct {
	// Address is the account acting: the signer's, or a runtime's for runtime messages.
	Address staking.Address
	// Signer is the transaction's signer; nil for a runtime message.
	Signer *signature.PublicKey
	// TxHash is the hash of the transaction being run (zero outside transactions).
	TxHash hash.Hash
}

// ValidatorUpdate changes a validator's power (0 removes it). Only EndBlock may emit one.
type ValidatorUpdate struct {
	EntityID     signature.PublicKey `cbor:"entity_id"`
	ConsensusKey signature.PublicKey `cbor:"consensus_key"`
	Power        int64               `cbor:"power"`
}

// Context is what an application runs in: the block, the mode, the caller, gas, events,
// messages and the state, with nesting so that a failed part is reverted alone.
//
// A Context is used by one goroutine. It is valid only during the call it was given to;
// applications must not keep it.
type Context struct {
	mode    Mode
	block   *BlockInfo
	state   State
	overlay *Overlay // the buffered writes of a child Context; nil for a root Context
	gas     *GasAccountant
	caller  *Caller
	events  []Event
	updates []ValidatorUpdate
	router  *router
	logger  *slog.Logger
}

// Mode returns the Context's mode.
func (c *Context) Mode() Mode { return c.mode }

// IsCheckOnly reports whether the Context's effects are never committed (CheckTx, queries).
func (c *Context) IsCheckOnly() bool { return c.mode == ModeCheckTx || c.mode == ModeQuery }

// Block returns the block information.
func (c *Context) Block() *BlockInfo { return c.block }

// Height returns the block height.
func (c *Context) Height() int64 { return c.block.Height }

// Time returns the block time (from the block, never the wall clock).
func (c *Context) Time() time.Time { return c.block.Time }

// ChainContext returns the chain context (the genesis document's hash).
func (c *Context) ChainContext() hash.Hash { return c.block.ChainContext }

// Epoch returns the block's epoch.
func (c *Context) Epoch() beacon.EpochTime { return c.block.Epoch }

// State returns the state the Context reads and writes.
func (c *Context) State() State { return c.state }

// Gas returns the gas accountant of the current transaction (unlimited outside one).
func (c *Context) Gas() *GasAccountant { return c.gas }

// Caller returns who runs the current transaction or message; nil outside them.
func (c *Context) Caller() *Caller { return c.caller }

// Logger returns the logger.
func (c *Context) Logger() *slog.Logger { return c.logger }

// EmitEvent records an event; it is dropped with the Context if the Context is not committed.
func (c *Context) EmitEvent(ev Event) { c.events = append(c.events, ev) }

// Events returns the events recorded in this Context so far.
func (c *Context) Events() []Event { return c.events }

// UpdateValidator records a validator set change. It is allowed only in EndBlock.
func (c *Context) UpdateValidator(u ValidatorUpdate) error {
	if c.mode != ModeEndBlock {
		return fmt.Errorf("%w: validator update in %s", ErrForbiddenInMode, c.mode)
	}
	c.updates = append(c.updates, u)
	return nil
}

// Publish sends msg to every application that handles its kind, in application order, and
// returns their results. It stops at the first error, which the publisher decides how to
// treat (run the Publish in a child Context to revert a failed handler's writes). It fails with
// ErrNoHandler when no application handles the kind.
func (c *Context) Publish(msg Message) ([]any, error) {
	return c.router.publish(c, msg)
}

// NewChild returns a Context over an overlay of this Context's state, sharing its block,
// mode, caller and gas. Its writes, events and validator updates reach this Context only
// through Commit; dropping it reverts them.
func (c *Context) NewChild() *Context {
	ov := NewOverlay(c.state)
	return &Context{
		mode: c.mode, block: c.block, state: ov, overlay: ov, gas: c.gas, caller: c.caller,
		router: c.router, logger: c.logger,
	}
}

// WithCaller returns a child Context (see NewChild) run by caller with its own gas
// accountant: for the transactions and runtime messages an application runs on others'
// behalf.
func (c *Context) WithCaller(caller *Caller, gas *GasAccountant) *Context {
	child := c.NewChild()
	child.caller = caller
	child.gas = gas
	return child
}

// CommitTo applies a child's writes to its parent's state and appends its events and
// validator updates to parent, which must be the Context it was made from.
func (c *Context) CommitTo(parent *Context) error {
	if c.overlay == nil {
		return fmt.Errorf("consensus: commit of a root context")
	}
	if err := c.overlay.Commit(); err != nil {
		return err
	}
	parent.events = append(parent.events, c.events...)
	parent.updates = append(parent.updates, c.updates...)
	c.events, c.updates = nil, nil
	return nil
}

// GasAccountant counts a transaction's gas against its limit. It is used by one goroutine.
type GasAccountant struct {
	limit transaction.Gas
	used  transaction.Gas
}

// NewGasAccountant returns an accountant with the given limit.
func NewGasAccountant(limit transaction.Gas) *GasAccountant {
	return &GasAccountant{limit: limit}
}

// unlimitedGas is the limit outside transactions.
const unlimitedGas = ^transaction.Gas(0)

// UseGas spends n gas; past the limit it fails with transaction.ErrOutOfGas (and spends
// nothing).
func (g *GasAccountant) UseGas(n transaction.Gas) error {
	if n > g.limit-g.used {
		return fmt.Errorf("%w: need %d more, %d of %d used", transaction.ErrOutOfGas, n, g.used, g.limit)
	}
	g.used += n
	return nil
}

// Used returns the gas used so far.
func (g *GasAccountant) Used() transaction.Gas { return g.used }

// Limit returns the limit.
func (g *GasAccountant) Limit() transaction.Gas { return g.limit }
