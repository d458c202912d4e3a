package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	cerrors "github.com/atoll-project/atoll/common/errors"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/roothash"
	roothashapi "github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/rpc"
)

// Runtime blocks: roothash's chain of blocks per runtime, read from the committed consensus
// state. Workers and clients follow a runtime with WatchRuntimeBlocks.
//
// Contract:
//   - Blocks are read from state by round, so a stream never skips or repeats a round, however
//     many blocks one consensus block makes and however far the client falls behind, as long
//     as the rounds it still needs are stored: roothash keeps only its latest
//     max_past_roots_stored blocks, and a round older than those fails with ErrRoundPruned.
//   - An unknown runtime fails with roothash's ErrNoSuchRuntime, a round not made yet (unary
//     calls) with roothash's ErrNoSuchBlock, a round before the runtime's genesis round with
//     ErrInvalidArgument, and any call before the first committed block with ErrNotReady.

// ErrRoundPruned: the runtime round is older than the blocks roothash still stores.
var ErrRoundPruned = cerrors.New(ModuleName, 7, "runtime round no longer stored")

// Runtime methods of the consensus service.
var (
	MethodRuntimeBlock       = rpc.NewUnary[RuntimeBlockRequest, RuntimeBlock](ServiceName, "RuntimeBlock")
	MethodRuntimeState       = rpc.NewUnary[RuntimeStateRequest, RuntimeStatus](ServiceName, "RuntimeState")
	MethodWatchRuntimeBlocks = rpc.NewServerStream[WatchRuntimeBlocksRequest, RuntimeBlock](ServiceName, "WatchRuntimeBlocks")
)

// runtimeBlocksPerRead bounds the blocks read from one state snapshot before they are sent, so
// that a slow client never keeps a snapshot open while the node DB prunes old heights.
const runtimeBlocksPerRead = 64

// RuntimeBlockRequest names a runtime block by round; a nil Round names the latest block.
type RuntimeBlockRequest struct {
	RuntimeID namespace.Namespace `cbor:"runtime_id"`
	Round     *uint64             `cbor:"round,omitempty"`
}

// RuntimeStateRequest names a runtime at a consensus height (0: the last committed one).
type RuntimeStateRequest struct {
	RuntimeID namespace.Namespace `cbor:"runtime_id"`
	Height    int64               `cbor:"height"`
}

// WatchRuntimeBlocksRequest streams a runtime's blocks from FromRound on; a nil FromRound
// starts at the latest block. A FromRound ahead of the latest block waits for it.
type WatchRuntimeBlocksRequest struct {
	RuntimeID namespace.Namespace `cbor:"runtime_id"`
	FromRound *uint64             `cbor:"from_round,omitempty"`
}

// RuntimeBlock is one block of a runtime's chain: its header with the round, type and hash
// spelled out.
type RuntimeBlock struct {
	Round  uint64                 `cbor:"round"`
	Type   roothashapi.HeaderType `cbor:"type"`
	Hash   hash.Hash              `cbor:"hash"`
	Header roothashapi.Header     `cbor:"header"`
}

// RuntimeStatus is roothash's state of a runtime (descriptor snapshot, epoch, committees,
// suspension, latest block) at a consensus height.
type RuntimeStatus struct {
	Height int64                    `cbor:"height"`
	State  roothashapi.RuntimeState `cbor:"state"`
}

func newRuntimeBlock(h *roothashapi.Header) RuntimeBlock {
	return RuntimeBlock{Round: h.Round, Type: h.HeaderType, Hash: h.Hash(), Header: *h}
}

// RuntimeService serves the runtime methods from a mux's committed state alone. Service
// includes them; NewRuntimeService serves them without a CometBFT node (over the test backend,
// for instance). It is safe for concurrent use.
type RuntimeService struct {
	mux      *consensus.Mux
	interval time.Duration
}

// NewRuntimeService returns the runtime methods over mux; WatchRuntimeBlocks looks for a newly
// committed block every watchInterval (0: DefaultWatchInterval). A nil mux panics.
func NewRuntimeService(mux *consensus.Mux, watchInterval time.Duration) *RuntimeService {
	if mux == nil {
		panic("grpcapi: the runtime service needs a mux")
	}
	if watchInterval <= 0 {
		watchInterval = DefaultWatchInterval
	}
	return &RuntimeService{mux: mux, interval: watchInterval}
}

// Methods returns the runtime methods, for rpc.NewServer.
func (r *RuntimeService) Methods() []rpc.Method {
	return []rpc.Method{
		MethodRuntimeBlock.Handler(r.block),
		MethodRuntimeState.Handler(r.state),
		MethodWatchRuntimeBlocks.Handler(r.watchBlocks),
	}
}

// readCommitted calls fn with the committed state at height (0: the last committed one) and
// returns the height read.
func (r *RuntimeService) readCommitted(ctx context.Context, height int64, fn func(consensus.State) error) (int64, error) {
	if err := checkHeight(height); err != nil {
		return 0, err
	}
	committed, _ := r.mux.LastCommitted()
	switch {
	case committed == 0:
		return 0, fmt.Errorf("%w: no block committed yet", ErrNotReady)
	case height == 0:
		height = committed
	}
	return height, runtimeError(r.mux.ReadState(ctx, height, fn))
}

// runtimeError passes coded and context errors and maps the others: state not available is
// ErrNoBlock, anything else ErrInternal.
func runtimeError(err error) error {
	var ce *cerrors.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, consensus.ErrNoState):
		return fmt.Errorf("%w: %w", ErrNoBlock, err)
	case errors.As(err, &ce), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("%w: reading runtime blocks: %v", ErrInternal, err)
}

func (r *RuntimeService) block(ctx context.Context, req RuntimeBlockRequest) (RuntimeBlock, error) {
	var out RuntimeBlock
	_, err := r.readCommitted(ctx, 0, func(st consensus.State) error {
		rs, err := runtimeState(st, req.RuntimeID)
		if err != nil {
			return err
		}
		if req.Round == nil {
			out = newRuntimeBlock(&rs.Latest)
			return nil
		}
		if *req.Round > rs.Latest.Round {
			return fmt.Errorf("%w: runtime %s round %d: the latest round is %d", roothashapi.ErrNoSuchBlock, req.RuntimeID, *req.Round, rs.Latest.Round)
		}
		blocks, err := readRuntimeBlocks(st, rs, *req.Round, 1)
		if err != nil {
			return err
		}
		out = blocks[0]
		return nil
	})
	return out, err
}

func (r *RuntimeService) state(ctx context.Context, req RuntimeStateRequest) (RuntimeStatus, error) {
	var out RuntimeStatus
	h, err := r.readCommitted(ctx, req.Height, func(st consensus.State) error {
		rs, err := runtimeState(st, req.RuntimeID)
		if err != nil {
			return err
		}
		out.State = *rs
		return nil
	})
	out.Height = h
	return out, err
}

// watchBlocks streams the runtime's blocks from the requested round on until the client goes
// away. At each newly committed height it reads the rounds it has not sent yet from that
// height's state, at most runtimeBlocksPerRead at a time, and sends them in order.
func (r *RuntimeService) watchBlocks(ctx context.Context, req WatchRuntimeBlocksRequest, send func(RuntimeBlock) error) error {
	var next uint64
	started := req.FromRound != nil
	if started {
		next = *req.FromRound
	}
	var readHeight int64 // the last height whose blocks were all sent
	ticker := time.NewTicker(r.interval)
	defer ticker.Stop()
	for {
		if committed, _ := r.mux.LastCommitted(); committed > readHeight || committed == 0 {
			var batch []RuntimeBlock
			var latest uint64
			h, err := r.readCommitted(ctx, committed, func(st consensus.State) error {
				rs, err := runtimeState(st, req.RuntimeID)
				if err != nil {
					return err
				}
				if !started {
					next, started = rs.Latest.Round, true
				}
				latest = rs.Latest.Round
				batch, err = readRuntimeBlocks(st, rs, next, runtimeBlocksPerRead)
				return err
			})
			if err != nil {
				return err
			}
			for _, b := range batch {
				if err := send(b); err != nil {
					return err
				}
				next = b.Round + 1
			}
			if next <= latest {
				// More stored rounds at this height: read on without waiting.
				if err := ctx.Err(); err != nil {
					return nil
				}
				continue
			}
			readHeight = h
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// runtimeState returns roothash's record of the runtime, or ErrNoSuchRuntime.
func runtimeState(st consensus.State, id namespace.Namespace) (*roothashapi.RuntimeState, error) {
	rs, err := roothash.GetRuntimeState(st, id)
	if err != nil {
		return nil, err
	}
	if rs == nil {
		return nil, fmt.Errorf("%w: %s: is it registered, and is its ID right?", roothashapi.ErrNoSuchRuntime, id)
	}
	return rs, nil
}

// readRuntimeBlocks returns the runtime's stored blocks of rounds from.. up to its latest
// round, at most limit of them (none when from is past the latest round). A round before the
// runtime's genesis is ErrInvalidArgument; a round no longer stored is ErrRoundPruned.
func readRuntimeBlocks(st consensus.State, rs *roothashapi.RuntimeState, from uint64, limit int) ([]RuntimeBlock, error) {
	id := rs.Runtime.ID
	if genesis := rs.Runtime.Genesis.Round; from < genesis {
		return nil, fmt.Errorf("%w: runtime %s starts at round %d, not %d", ErrInvalidArgument, id, genesis, from)
	}
	var out []RuntimeBlock
	for round := from; round <= rs.Latest.Round && len(out) < limit; round++ {
		h, err := roothash.GetBlock(st, id, round)
		if err != nil {
			return nil, err
		}
		if h == nil {
			return nil, prunedError(st, rs, round)
		}
		out = append(out, newRuntimeBlock(h))
	}
	return out, nil
}

// prunedError explains a stored round that is missing: roothash pruned it.
func prunedError(st consensus.State, rs *roothashapi.RuntimeState, round uint64) error {
	p, err := roothash.GetParams(st)
	if err != nil {
		return err
	}
	oldest := rs.Runtime.Genesis.Round
	if keep := p.MaxPastRootsStored; rs.Latest.Round+1 > oldest+keep {
		oldest = rs.Latest.Round + 1 - keep
	}
	return fmt.Errorf("%w: runtime %s round %d: roothash keeps the latest %d blocks (rounds %d..%d now); start from round %d or later, or from the latest",
		ErrRoundPruned, rs.Runtime.ID, round, p.MaxPastRootsStored, oldest, rs.Latest.Round, oldest)
}
