// Package memchain is the test consensus backend: it runs the real applications through the
// real consensus.Mux and node DB, without CometBFT, with explicit heights and times, a
// round-robin proposer over the genesis validators, and a small in-order mempool with
// CometBFT's recheck-after-commit behaviour. It records every block it delivers so a chain
// can be replayed from genesis and its AppHashes compared, and it can reopen its node DB to
// check that state survives a restart.
//
// A Chain is not safe for concurrent use; the mux underneath is, so benchmarks may drive
// Mux() directly.
package memchain

import (
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/atoll-project/atoll/common/cbor"
	cerrors "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/mkvs/db"
)

// Config configures New.
type Config struct {
	// Genesis is the sanity-checked genesis document.
	Genesis *genesis.Document
	// NewApps returns fresh applications; it is called at every (re)open.
	NewApps func() []consensus.Application
	// BlockInterval is the time between blocks (default one second).
	BlockInterval time.Duration
	// KeepHeights is passed to the mux (0 keeps all).
	KeepHeights uint64
}

// Block is a delivered block, as recorded for replay.
type Block struct {
	Height   int64
	Time     time.Time
	Proposer []byte
	Txs      [][]byte
	AppHash  []byte
}

// BlockResult is what delivering a block produced.
type BlockResult struct {
	Height    int64
	AppHash   []byte
	TxResults []*abci.ExecTxResult
	// Events are the block's own events (BeginBlock and EndBlock).
	Events           []abci.Event
	ValidatorUpdates []abci.ValidatorUpdate
}

// TxErr returns the coded error of transaction i, nil when it succeeded.
func (r *BlockResult) TxErr(i int) error {
	res := r.TxResults[i]
	return cerrors.FromWire(cerrors.Wire{Module: res.Codespace, Code: res.Code, Message: res.Log})
}

// Chain is a running test chain.
type Chain struct {
	cfg     Config
	fs      vfs.FS
	db      *db.DB
	mux     *consensus.Mux
	blocks  []Block
	mempool [][]byte
}

const dbPath = "consensus-state"

// New starts a chain from its genesis document on a fresh in-memory node DB (InitChain
// included; the first block is not produced yet).
func New(cfg Config) (*Chain, error) {
	if cfg.BlockInterval <= 0 {
		cfg.BlockInterval = time.Second
	}
	c := &Chain{cfg: cfg, fs: vfs.NewMem()}
	if err := c.open(); err != nil {
		return nil, err
	}
	doc := cfg.Genesis
	_, err := c.mux.InitChain(context.Background(), &abci.RequestInitChain{
		Time: doc.GenesisTime, ChainId: doc.CometBFTChainID(), InitialHeight: doc.InitialHeight,
	})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("memchain: InitChain: %w", err)
	}
	return c, nil
}

func (c *Chain) open() error {
	d, err := db.Open(db.Options{FS: c.fs, Path: dbPath, Namespace: consensus.StateNamespace(c.cfg.Genesis), NoSync: true})
	if err != nil {
		return fmt.Errorf("memchain: opening the node DB: %w", err)
	}
	mux, err := consensus.NewMux(consensus.MuxConfig{
		Genesis: c.cfg.Genesis, Apps: c.cfg.NewApps(), NodeDB: d, KeepHeights: c.cfg.KeepHeights,
	})
	if err != nil {
		d.Close()
		return fmt.Errorf("memchain: %w", err)
	}
	c.db, c.mux = d, mux
	return nil
}

// Close closes the node DB.
func (c *Chain) Close() {
	if c.db != nil {
		c.db.Close()
		c.db = nil
	}
}

// Reopen closes the node DB and opens it again with fresh applications, as a restarted node
// would; the mempool is lost. It checks that Info reports the last block and AppHash.
func (c *Chain) Reopen() error {
	c.Close()
	c.mempool = nil
	if err := c.open(); err != nil {
		return err
	}
	info, err := c.mux.Info(context.Background(), &abci.RequestInfo{})
	if err != nil {
		return err
	}
	if n := len(c.blocks); n > 0 {
		last := c.blocks[n-1]
		if info.LastBlockHeight != last.Height || string(info.LastBlockAppHash) != string(last.AppHash) {
			return fmt.Errorf("memchain: reopened at height %d app hash %x, want %d %x",
				info.LastBlockHeight, info.LastBlockAppHash, last.Height, last.AppHash)
		}
	}
	return nil
}

// Mux returns the ABCI application.
func (c *Chain) Mux() *consensus.Mux { return c.mux }

// Blocks returns the delivered blocks.
func (c *Chain) Blocks() []Block { return c.blocks }

// Height returns the last delivered height (0 before the first block).
func (c *Chain) Height() int64 {
	h, _ := c.mux.LastCommitted()
	return h
}

// NextHeight returns the height of the next block.
func (c *Chain) NextHeight() int64 {
	if h := c.Height(); h > 0 {
		return h + 1
	}
	return c.cfg.Genesis.InitialHeight
}

// TimeAt returns the time of the block at height: the genesis time plus one interval per
// block after the first.
func (c *Chain) TimeAt(height int64) time.Time {
	return c.cfg.Genesis.GenesisTime.Add(time.Duration(height-c.cfg.Genesis.InitialHeight) * c.cfg.BlockInterval)
}

// ProposerAt returns the index, in the genesis validator list, of the proposer of height.
func (c *Chain) ProposerAt(height int64) int {
	n := int64(len(c.cfg.Genesis.Validators))
	return int((height - c.cfg.Genesis.InitialHeight) % n)
}

// Deliver runs the next block with exactly txs: ProcessProposal (which must accept), then
// FinalizeBlock and Commit. It returns the block's results.
func (c *Chain) Deliver(txs ...[]byte) (*BlockResult, error) {
	height := c.NextHeight()
	v := c.cfg.Genesis.Validators[c.ProposerAt(height)]
	addr := consensus.ValidatorAddress(v.ConsensusKey)
	b := Block{Height: height, Time: c.TimeAt(height), Proposer: addr[:], Txs: txs}
	return c.deliver(b)
}

func (c *Chain) deliver(b Block) (*BlockResult, error) {
	ctx := context.Background()
	pp, err := c.mux.ProcessProposal(ctx, &abci.RequestProcessProposal{Txs: b.Txs, Height: b.Height, Time: b.Time, ProposerAddress: b.Proposer})
	if err != nil {
		return nil, err
	}
	if pp.Status != abci.ResponseProcessProposal_ACCEPT {
		return nil, fmt.Errorf("memchain: block %d: proposal rejected (%s)", b.Height, pp.Status)
	}
	resp, err := c.mux.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Txs: b.Txs, Height: b.Height, Time: b.Time, ProposerAddress: b.Proposer})
	if err != nil {
		return nil, err
	}
	if len(resp.TxResults) != len(b.Txs) {
		return nil, fmt.Errorf("memchain: block %d: %d results for %d transactions", b.Height, len(resp.TxResults), len(b.Txs))
	}
	if _, err := c.mux.Commit(ctx, &abci.RequestCommit{}); err != nil {
		return nil, err
	}
	b.AppHash = resp.AppHash
	c.blocks = append(c.blocks, b)
	return &BlockResult{Height: b.Height, AppHash: resp.AppHash, TxResults: resp.TxResults, Events: resp.Events, ValidatorUpdates: resp.ValidatorUpdates}, nil
}

// CheckTx runs CheckTx on tx and returns its coded rejection, or nil when accepted. It does not
// add tx to the mempool (see Submit).
func (c *Chain) CheckTx(tx []byte) error {
	return c.checkTx(tx, abci.CheckTxType_New)
}

func (c *Chain) checkTx(tx []byte, typ abci.CheckTxType) error {
	resp, err := c.mux.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: tx, Type: typ})
	if err != nil {
		return fmt.Errorf("memchain: CheckTx halted: %w", err)
	}
	return cerrors.FromWire(cerrors.Wire{Module: resp.Codespace, Code: resp.Code, Message: resp.Log})
}

// Submit checks tx and, if accepted, appends it to the mempool.
func (c *Chain) Submit(tx []byte) error {
	if err := c.CheckTx(tx); err != nil {
		return err
	}
	c.mempool = append(c.mempool, tx)
	return nil
}

// Mempool returns the pending transactions in order.
func (c *Chain) Mempool() [][]byte { return c.mempool }

// ProduceBlock proposes the next block from the mempool through PrepareProposal (within the
// block byte and gas limits), delivers it, removes the included transactions and rechecks the
// rest in order, as CometBFT does. It returns the block's results and the transactions the
// recheck dropped.
func (c *Chain) ProduceBlock() (*BlockResult, [][]byte, error) {
	height := c.NextHeight()
	v := c.cfg.Genesis.Validators[c.ProposerAt(height)]
	addr := consensus.ValidatorAddress(v.ConsensusKey)
	prep, err := c.mux.PrepareProposal(context.Background(), &abci.RequestPrepareProposal{
		MaxTxBytes: c.cfg.Genesis.Consensus.MaxBlockBytes, Txs: c.mempool, Height: height,
		Time: c.TimeAt(height), ProposerAddress: addr[:],
	})
	if err != nil {
		return nil, nil, err
	}
	res, err := c.deliver(Block{Height: height, Time: c.TimeAt(height), Proposer: addr[:], Txs: prep.Txs})
	if err != nil {
		return nil, nil, err
	}
	included := make(map[string]bool, len(prep.Txs))
	for _, tx := range prep.Txs {
		included[string(tx)] = true
	}
	var kept, dropped [][]byte
	for _, tx := range c.mempool {
		if included[string(tx)] {
			continue
		}
		if err := c.checkTx(tx, abci.CheckTxType_Recheck); err != nil {
			dropped = append(dropped, tx)
			continue
		}
		kept = append(kept, tx)
	}
	c.mempool = kept
	return res, dropped, nil
}

// Query runs a query at height (0: the latest) with CBOR-encoded args (nil for none) and
// decodes the answer into out.
func (c *Chain) Query(method string, args any, out any, height int64) error {
	var data []byte
	if args != nil {
		data = cbor.Marshal(args)
	}
	resp, err := c.mux.Query(context.Background(), &abci.RequestQuery{Path: method, Data: data, Height: height})
	if err != nil {
		return err
	}
	if resp.Code != abci.CodeTypeOK {
		return cerrors.FromWire(cerrors.Wire{Module: resp.Codespace, Code: resp.Code, Message: resp.Log})
	}
	return cbor.UnmarshalTrusted(resp.Value, out)
}

// Replay starts a new chain from the same genesis on a fresh node DB, delivers every recorded
// block again (same transactions, times and proposers) and checks that each yields the
// recorded AppHash. It returns the new chain.
func (c *Chain) Replay() (*Chain, error) {
	r, err := New(c.cfg)
	if err != nil {
		return nil, err
	}
	for _, b := range c.blocks {
		want := b.AppHash
		b.AppHash = nil
		res, err := r.deliver(b)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("memchain: replaying block %d: %w", b.Height, err)
		}
		if string(res.AppHash) != string(want) {
			r.Close()
			return nil, fmt.Errorf("memchain: replayed block %d has app hash %x, recorded %x", b.Height, res.AppHash, want)
		}
	}
	return r, nil
}

// ReadState calls fn with a read-only view of the latest committed state.
func (c *Chain) ReadState(fn func(consensus.State) error) error {
	return c.mux.ReadState(context.Background(), 0, fn)
}
