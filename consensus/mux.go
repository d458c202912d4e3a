package consensus

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/transaction"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/db"
	"github.com/atoll-project/atoll/mkvs/node"
)

// AppVersion is the ABCI application protocol version reported in Info.
const AppVersion uint64 = 1

// DefaultVerifiedCacheSize is the default number of verified transactions remembered between
// CheckTx and FinalizeBlock.
const DefaultVerifiedCacheSize = 200_000

// MuxConfig configures NewMux.
type MuxConfig struct {
	// Genesis is the chain's sanity-checked genesis document.
	Genesis *genesis.Document
	// Apps are the applications, in any order.
	Apps []Application
	// NodeDB is the consensus state's node DB, opened with Namespace StateNamespace(Genesis).
	// The mux does not close it.
	NodeDB *db.DB
	// KeepHeights is how many committed heights of state to keep (0 keeps all).
	KeepHeights uint64
	// VerifiedCacheSize bounds the CheckTx verdict cache (0: DefaultVerifiedCacheSize).
	VerifiedCacheSize int
	// Logger receives the mux's logs; nil discards them.
	Logger *slog.Logger
}

// StateNamespace returns the namespace of the consensus state's node DB: the chain context,
// so that a state DB of one chain is never opened for another.
func StateNamespace(doc *genesis.Document) namespace.Namespace {
	return namespace.Namespace(doc.ChainContext())
}

// chainParams are the immutable facts of the chain the mux runs.
type chainParams struct {
	doc          *genesis.Document
	chainContext hash.Hash
	chainID      string
	ns           namespace.Namespace
	txContext    signature.BoundContext
	keepHeights  uint64
}

// committed is the last committed block.
type committed struct {
	height int64
	root   node.Root
	time   time.Time
}

// pendingBlock is a block FinalizeBlock executed (and applied to the node DB) whose state
// Commit has not finalized yet.
type pendingBlock struct {
	height int64
	time   time.Time
	root   node.Root
}

// Mux is the ABCI application: it drives the consensus applications for CometBFT (or for
// memchain). It is safe for concurrent calls on CometBFT's connections: CheckTx (mempool),
// Query and Info (query) run beside the consensus connection's calls; FinalizeBlock and Commit
// are serialised by CometBFT and by deliverMu.
type Mux struct {
	chain    chainParams
	router   *router
	db       *db.DB
	verified *verifiedCache
	stats    muxCounters
	logger   *slog.Logger

	deliverMu sync.Mutex
	deliver   *mkvs.Tree // the deliver state, at last.root plus what FinalizeBlock changed
	pending   *pendingBlock

	checkMu sync.Mutex
	check   *checkState

	lastMu sync.RWMutex
	last   committed
}

var _ abci.Application = (*Mux)(nil)

// NewMux returns a mux over the node DB's latest committed state (or an empty one, awaiting
// InitChain).
func NewMux(cfg MuxConfig) (*Mux, error) {
	if cfg.Genesis == nil || cfg.NodeDB == nil {
		return nil, fmt.Errorf("consensus: mux needs a genesis document and a node DB")
	}
	r, err := newRouter(cfg.Apps)
	if err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	size := cfg.VerifiedCacheSize
	if size <= 0 {
		size = DefaultVerifiedCacheSize
	}
	cc := cfg.Genesis.ChainContext()
	m := &Mux{
		chain: chainParams{
			doc: cfg.Genesis, chainContext: cc, chainID: cfg.Genesis.CometBFTChainID(),
			ns: namespace.Namespace(cc), txContext: transaction.SignatureContext.ForChain(cc),
			keepHeights: cfg.KeepHeights,
		},
		router:   r,
		db:       cfg.NodeDB,
		verified: newVerifiedCache(size),
		logger:   logger.With("module", "consensus/mux"),
	}
	if err := m.load(); err != nil {
		return nil, err
	}
	return m, nil
}

// load restores the last committed block from the node DB.
func (m *Mux) load() error {
	m.last = committed{root: node.Root{Namespace: m.chain.ns, Type: node.RootTypeState, Hash: hash.Empty}}
	version, ok, err := m.db.LatestVersion()
	if err != nil {
		return fmt.Errorf("consensus: reading the latest version: %w", err)
	}
	if ok {
		root, found, err := m.db.LatestFinalizedRoot(node.RootTypeState)
		if err != nil {
			return fmt.Errorf("consensus: reading the latest root: %w", err)
		}
		if !found || root.Version != version {
			return fmt.Errorf("consensus: node DB has version %d but no state root for it", version)
		}
		m.last.height = int64(version)
		m.last.root = root
	}
	m.deliver = mkvs.NewWithRoot(m.last.root, m.db)
	if ok {
		st := &treeState{ctx: context.Background(), tree: m.deliver}
		rec, err := getLastBlock(st)
		if err != nil {
			return fmt.Errorf("consensus: reading the last block: %w", err)
		}
		if rec == nil || rec.Height != m.last.height {
			return fmt.Errorf("consensus: state at height %d lacks its last-block record", m.last.height)
		}
		m.last.time = time.Unix(0, rec.Time).UTC()
	}
	check, err := m.newCheckState(m.last.root)
	if err != nil {
		return fmt.Errorf("consensus: opening the check state: %w", err)
	}
	m.check = check
	return nil
}

// MuxStats count the mux's signature work since it started.
type MuxStats struct {
	// SingleVerified counts signatures verified one by one (CheckTx).
	SingleVerified uint64
	// BatchVerified counts signatures verified in FinalizeBlock's batches.
	BatchVerified uint64
	// CacheHits counts block transactions whose CheckTx verdict was reused.
	CacheHits uint64
	// PreVerified counts signatures PreverifyTxs verified (in batches) and cached.
	PreVerified uint64
}

type muxCounters struct {
	single, batch, hits, pre atomic.Uint64
}

// Stats returns the signature counters.
func (m *Mux) Stats() MuxStats {
	return MuxStats{
		SingleVerified: m.stats.single.Load(), BatchVerified: m.stats.batch.Load(),
		CacheHits: m.stats.hits.Load(), PreVerified: m.stats.pre.Load(),
	}
}

// ChainContext returns the chain context the mux runs.
func (m *Mux) ChainContext() hash.Hash { return m.chain.chainContext }

// LastCommitted returns the height and state root of the last committed block (0 and the
// empty root before the first).
func (m *Mux) LastCommitted() (int64, node.Root) {
	m.lastMu.RLock()
	defer m.lastMu.RUnlock()
	return m.last.height, m.last.root
}

func (m *Mux) lastCommitted() committed {
	m.lastMu.RLock()
	defer m.lastMu.RUnlock()
	return m.last
}

// nextHeight returns the height of the next block.
func (m *Mux) nextHeight(last committed) int64 {
	if last.height == 0 {
		return m.chain.doc.InitialHeight
	}
	return last.height + 1
}

// Info implements abci.Application: the last committed height and app hash, so CometBFT's
// handshake replays exactly the blocks the state lacks.
func (m *Mux) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	last := m.lastCommitted()
	resp := &abci.ResponseInfo{
		Data:            "atoll",
		Version:         "atoll",
		AppVersion:      AppVersion,
		LastBlockHeight: last.height,
	}
	if last.height > 0 {
		resp.LastBlockAppHash = append([]byte(nil), last.root.Hash[:]...)
	}
	return resp, nil
}

// InitChain implements abci.Application: it writes every application's genesis state into
// the deliver state, which the first block then commits. It returns no app hash (the first
// block's header carries the empty genesis app hash) and the genesis validators.
func (m *Mux) InitChain(ctx context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	m.deliverMu.Lock()
	defer m.deliverMu.Unlock()
	doc := m.chain.doc
	if req.ChainId != m.chain.chainID {
		return nil, fmt.Errorf("consensus: InitChain for chain %q, genesis document gives %q", req.ChainId, m.chain.chainID)
	}
	if req.InitialHeight != doc.InitialHeight {
		return nil, fmt.Errorf("consensus: InitChain at height %d, genesis document gives %d", req.InitialHeight, doc.InitialHeight)
	}
	if last := m.lastCommitted(); last.height != 0 {
		return nil, fmt.Errorf("consensus: InitChain on a chain already at height %d", last.height)
	}
	// A fresh deliver state: an InitChain repeated after a crash starts over.
	m.deliver = mkvs.NewWithRoot(m.lastCommitted().root, m.db)
	st := &treeState{ctx: ctx, tree: m.deliver}
	block := &BlockInfo{Height: doc.InitialHeight, Time: doc.GenesisTime, ChainContext: m.chain.chainContext}
	c := m.rootContext(ModeInitChain, block, st)
	resp := &abci.ResponseInitChain{}
	for _, v := range doc.Validators {
		info := ValidatorInfo{EntityID: v.EntityID, ConsensusKey: v.ConsensusKey, Power: v.Power}
		if err := setValidator(st, info); err != nil {
			return nil, fmt.Errorf("consensus: InitChain: %w", err)
		}
		resp.Validators = append(resp.Validators, abci.Ed25519ValidatorUpdate(v.ConsensusKey[:], v.Power))
	}
	for _, app := range m.router.apps {
		if err := app.InitChain(c, doc); err != nil {
			return nil, fmt.Errorf("consensus: InitChain of %s: %w", app.Name(), err)
		}
	}
	if len(c.events) > 0 {
		m.logger.Info("genesis events dropped", "count", len(c.events))
	}
	return resp, nil
}

func (m *Mux) rootContext(mode Mode, block *BlockInfo, st State) *Context {
	return &Context{mode: mode, block: block, state: st, gas: NewGasAccountant(unlimitedGas), router: m.router, logger: m.logger}
}

// epochAt asks the epoch source for the epoch of height over st.
func (m *Mux) epochAt(st State, height int64) (beacon.EpochTime, error) {
	if m.router.epochs == nil {
		return 0, nil
	}
	return m.router.epochs.EpochAt(st, height)
}

// Commit implements abci.Application: it finalizes the state FinalizeBlock computed and wrote,
// in one atomic, durable step (the node DB's Finalize), resets the check state to the new root
// and prunes old heights. Any failure halts the node.
func (m *Mux) Commit(ctx context.Context, _ *abci.RequestCommit) (*abci.ResponseCommit, error) {
	m.deliverMu.Lock()
	defer m.deliverMu.Unlock()
	p := m.pending
	if p == nil {
		return nil, fmt.Errorf("consensus: Commit without a finalized block")
	}
	if err := m.finalize(ctx, p); err != nil {
		return nil, err
	}
	if err := m.prune(ctx, p.height); err != nil {
		return nil, err
	}
	return &abci.ResponseCommit{}, nil
}

// finalize makes p the last committed block and resets the check state to its root. It
// holds checkMu throughout: the check state reads the flat index of the latest finalized
// root, which must not move under it.
func (m *Mux) finalize(ctx context.Context, p *pendingBlock) error {
	m.checkMu.Lock()
	defer m.checkMu.Unlock()
	if err := m.db.Finalize(ctx, uint64(p.height), []node.Root{p.root}); err != nil {
		return fmt.Errorf("consensus: finalizing block %d: %w", p.height, err)
	}
	m.pending = nil
	m.lastMu.Lock()
	m.last = committed{height: p.height, root: p.root, time: p.time}
	m.lastMu.Unlock()
	check, err := m.newCheckState(p.root)
	if err != nil {
		return fmt.Errorf("consensus: resetting the check state: %w", err)
	}
	m.check = check
	return nil
}

func (m *Mux) prune(ctx context.Context, height int64) error {
	keep := m.chain.keepHeights
	if keep == 0 {
		return nil
	}
	for {
		earliest, ok, err := m.db.EarliestVersion()
		if err != nil {
			return fmt.Errorf("consensus: pruning: %w", err)
		}
		if !ok || earliest+keep > uint64(height) {
			return nil
		}
		if err := m.db.Prune(ctx, earliest); err != nil {
			return fmt.Errorf("consensus: pruning height %d: %w", earliest, err)
		}
	}
}

// ExtendVote implements abci.Application: Atoll uses no vote extensions.
func (m *Mux) ExtendVote(context.Context, *abci.RequestExtendVote) (*abci.ResponseExtendVote, error) {
	return &abci.ResponseExtendVote{}, nil
}

// VerifyVoteExtension implements abci.Application: the (empty) extension is accepted.
func (m *Mux) VerifyVoteExtension(context.Context, *abci.RequestVerifyVoteExtension) (*abci.ResponseVerifyVoteExtension, error) {
	return &abci.ResponseVerifyVoteExtension{Status: abci.ResponseVerifyVoteExtension_ACCEPT}, nil
}

// ListSnapshots implements abci.Application: state sync is not offered.
func (m *Mux) ListSnapshots(context.Context, *abci.RequestListSnapshots) (*abci.ResponseListSnapshots, error) {
	return &abci.ResponseListSnapshots{}, nil
}

// OfferSnapshot implements abci.Application: every snapshot is rejected.
func (m *Mux) OfferSnapshot(context.Context, *abci.RequestOfferSnapshot) (*abci.ResponseOfferSnapshot, error) {
	return &abci.ResponseOfferSnapshot{Result: abci.ResponseOfferSnapshot_REJECT}, nil
}

// LoadSnapshotChunk implements abci.Application: there are no snapshots.
func (m *Mux) LoadSnapshotChunk(context.Context, *abci.RequestLoadSnapshotChunk) (*abci.ResponseLoadSnapshotChunk, error) {
	return &abci.ResponseLoadSnapshotChunk{}, nil
}

// ApplySnapshotChunk implements abci.Application: state sync is aborted.
func (m *Mux) ApplySnapshotChunk(context.Context, *abci.RequestApplySnapshotChunk) (*abci.ResponseApplySnapshotChunk, error) {
	return &abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_ABORT}, nil
}
