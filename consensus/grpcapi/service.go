package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/mempool"

	"github.com/atoll-project/atoll/common/cbor"
	cerrors "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/cometbft"
	"github.com/atoll-project/atoll/consensus/genesis"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
	"github.com/atoll-project/atoll/rpc"
)

// DefaultWatchInterval is how often WatchBlocks looks for a newly committed block.
const DefaultWatchInterval = 10 * time.Millisecond

// ServiceConfig configures NewService.
type ServiceConfig struct {
	// Genesis is the chain's genesis document.
	Genesis *genesis.Document
	// Mux is the consensus application; queries read its committed state directly.
	Mux *consensus.Mux
	// Node is the running CometBFT node: blocks, results, transaction submission.
	Node *cometbft.Node
	// WatchInterval is WatchBlocks' polling interval (0: DefaultWatchInterval).
	WatchInterval time.Duration
	// Logger receives the service's logs; nil discards them.
	Logger *slog.Logger
}

// Service serves the consensus API over a mux and the CometBFT node driving it. It is safe for
// concurrent use.
type Service struct {
	doc      *genesis.Document
	chainCtx hash.Hash
	mux      *consensus.Mux
	node     *cometbft.Node
	interval time.Duration
	logger   *slog.Logger
}

// NewService returns the service. Genesis, Mux and Node are required: a nil one is a
// programming error and panics.
func NewService(cfg ServiceConfig) *Service {
	if cfg.Genesis == nil || cfg.Mux == nil || cfg.Node == nil {
		panic("grpcapi: the service needs a genesis document, a mux and a node")
	}
	interval := cfg.WatchInterval
	if interval <= 0 {
		interval = DefaultWatchInterval
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		doc: cfg.Genesis, chainCtx: cfg.Genesis.ChainContext(), mux: cfg.Mux, node: cfg.Node,
		interval: interval, logger: logger.With("module", "consensus/grpc"),
	}
}

// Methods returns the service's methods, for rpc.NewServer.
func (s *Service) Methods() []rpc.Method {
	return append([]rpc.Method{
		MethodStatus.Handler(s.status),
		MethodEpoch.Handler(s.epoch),
		MethodAccount.Handler(s.account),
		MethodQuery.Handler(s.query),
		MethodBlock.Handler(s.block),
		MethodEvents.Handler(s.events),
		MethodSubmitTx.Handler(s.submitTx),
		MethodSubmitTxs.Handler(s.submitTxs),
		MethodWatchBlocks.Handler(s.watchBlocks),
	}, NewRuntimeService(s.mux, s.interval).Methods()...)
}

// nodeError maps an error of the CometBFT node to a coded error: applications' coded errors
// pass as they are.
func nodeError(err error) error {
	var ce *cerrors.Error
	var full mempool.ErrMempoolIsFull
	var large mempool.ErrTxTooLarge
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, cometbft.ErrNotRunning):
		return fmt.Errorf("%w: %v", ErrNotReady, err)
	case errors.Is(err, mempool.ErrTxInCache):
		return ErrDuplicateTx
	case errors.As(err, &full), errors.Is(err, mempool.ErrRecheckFull):
		return fmt.Errorf("%w: %v", ErrMempoolFull, err)
	case errors.As(err, &large):
		return fmt.Errorf("%w: %v", transaction.ErrTooLarge, err)
	}
	return fmt.Errorf("%w: %v", ErrInternal, err)
}

// stateError maps a mux query error: no state yet or at that height is ErrNoBlock.
func stateError(err error) error {
	if errors.Is(err, consensus.ErrNoState) {
		return fmt.Errorf("%w: %w", ErrNoBlock, err)
	}
	return err
}

func checkHeight(h int64) error {
	if h < 0 {
		return fmt.Errorf("%w: negative height %d", ErrInvalidArgument, h)
	}
	return nil
}

func (s *Service) status(ctx context.Context, _ StatusRequest) (Status, error) {
	st, err := s.node.Status(ctx)
	if err != nil {
		return Status{}, nodeError(err)
	}
	committed, root := s.mux.LastCommitted()
	out := Status{
		ChainID:         s.doc.ChainID,
		CometBFTChainID: s.doc.CometBFTChainID(),
		ChainContext:    s.chainCtx,
		GenesisHeight:   s.doc.InitialHeight,
		LatestHeight:    st.SyncInfo.LatestBlockHeight,
		LatestHash:      toHash(st.SyncInfo.LatestBlockHash),
		LatestTime:      st.SyncInfo.LatestBlockTime.UTC(),
		LatestAppHash:   toHash(st.SyncInfo.LatestAppHash),
		CommittedHeight: committed,
		StateRoot:       root.Hash,
		CatchingUp:      st.SyncInfo.CatchingUp,
		VotingPower:     st.ValidatorInfo.VotingPower,
		Validator:       st.ValidatorInfo.VotingPower > 0,
		P2PID:           string(st.NodeInfo.DefaultNodeID),
		Moniker:         st.NodeInfo.Moniker,
	}
	if committed > 0 {
		var e beacon.EpochInfo
		if _, err := s.runQuery(ctx, beacon.QueryEpoch, nil, committed, &e); err == nil {
			out.Epoch = e.Epoch
		}
	}
	return out, nil
}

// runQuery runs an application query on the mux and decodes its answer into out.
func (s *Service) runQuery(ctx context.Context, method string, args []byte, height int64, out any) (int64, error) {
	resp, err := s.mux.Query(ctx, &abci.RequestQuery{Path: method, Data: args, Height: height})
	if err != nil {
		return 0, fmt.Errorf("%w: query %s: %v", ErrInternal, method, err)
	}
	if resp.Code != abci.CodeTypeOK {
		return resp.Height, stateError(cerrors.FromWire(cerrors.Wire{Module: resp.Codespace, Code: resp.Code, Message: resp.Log}))
	}
	if out != nil {
		if err := cbor.UnmarshalTrusted(resp.Value, out); err != nil {
			return resp.Height, fmt.Errorf("%w: decoding %s: %v", ErrInternal, method, err)
		}
	}
	return resp.Height, nil
}

func (s *Service) epoch(ctx context.Context, req HeightRequest) (Epoch, error) {
	if err := checkHeight(req.Height); err != nil {
		return Epoch{}, err
	}
	var e beacon.EpochInfo
	h, err := s.runQuery(ctx, beacon.QueryEpoch, nil, req.Height, &e)
	if err != nil {
		return Epoch{}, err
	}
	return Epoch{Height: h, Epoch: e.Epoch, StartHeight: e.Height, Interval: e.Interval, Entropy: e.Entropy}, nil
}

func (s *Service) account(ctx context.Context, req AccountRequest) (Account, error) {
	if err := checkHeight(req.Height); err != nil {
		return Account{}, err
	}
	out := Account{Address: req.Address}
	args := cbor.Marshal(staking.OwnerQuery{Owner: req.Address})
	h, err := s.runQuery(ctx, staking.QueryAccount, args, req.Height, &out.Account)
	if err != nil {
		return Account{}, err
	}
	out.Height = h
	return out, nil
}

func (s *Service) query(ctx context.Context, req QueryRequest) (QueryResponse, error) {
	if err := checkHeight(req.Height); err != nil {
		return QueryResponse{}, err
	}
	if n := len(req.Method); n == 0 || n > MaxQueryMethodLength {
		return QueryResponse{}, fmt.Errorf("%w: query method of %d bytes, want 1..%d", ErrInvalidArgument, n, MaxQueryMethodLength)
	}
	var value cbor.RawMessage
	h, err := s.runQuery(ctx, req.Method, req.Args, req.Height, &value)
	if err != nil {
		return QueryResponse{}, err
	}
	return QueryResponse{Height: h, Value: value}, nil
}

func toHash(b []byte) hash.Hash {
	var h hash.Hash
	if len(b) == len(h) {
		copy(h[:], b)
	}
	return h
}
