package roothash

import (
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/consensus/roothash/commitment"
)

// blockTime returns the timestamp of runtime blocks made in ctx's block: its Unix seconds.
func blockTime(ctx *consensus.Context) uint64 {
	if t := ctx.Time().Unix(); t > 0 {
		return uint64(t)
	}
	return 0
}

// appendBlock makes h the runtime's latest block at the current height: it stores the block,
// prunes the history beyond max_past_roots_stored, replaces the pool with the empty pool of
// the next round (none while the runtime takes no commitments), saves rs and emits
// NewBlockEvent. For a Normal block, results become the round results delivered until the
// next Normal block.
func appendBlock(ctx *consensus.Context, p *api.ConsensusParameters, rs *api.RuntimeState, h api.Header, results *api.RoundResults) error {
	v := stateView{ctx.State()}
	id := rs.Runtime.ID
	oldDeadline := rs.NextTimeout
	rs.Latest, rs.LatestHeight, rs.NextTimeout = h, ctx.Height(), 0
	if h.HeaderType == api.HeaderTypeNormal {
		rs.LastNormalRound, rs.LastNormalHeight = h.Round, ctx.Height()
		if results == nil {
			results = &api.RoundResults{}
		}
		if err := v.setRoundResults(id, results); err != nil {
			return err
		}
	}
	if err := v.setBlock(&h); err != nil {
		return err
	}
	if h.Round >= p.MaxPastRootsStored {
		if err := v.pruneBlocks(id, h.Round+1-p.MaxPastRootsStored); err != nil {
			return err
		}
	}
	if err := resetPool(v, rs); err != nil {
		return err
	}
	if err := v.setRuntime(rs, oldDeadline); err != nil {
		return err
	}
	ctx.EmitEvent(api.NewBlockEvent{RuntimeID: id, Height: ctx.Height(), Header: h})
	return nil
}

// resetPool stores the empty pool of the round after rs.Latest, or removes the pool when the
// runtime takes no commitments.
func resetPool(v stateView, rs *api.RuntimeState) error {
	cfg, ok := PoolConfig(rs)
	if !ok {
		return v.removePool(rs.Runtime.ID)
	}
	pool, err := commitment.NewPool(cfg)
	if err != nil {
		return consensus.StateError(err)
	}
	return v.setPool(rs.Runtime.ID, pool)
}

// savePool stores the pool of an undecided round and its timer.
func savePool(v stateView, rs *api.RuntimeState, pool *commitment.Pool) error {
	oldDeadline := rs.NextTimeout
	rs.NextTimeout = 0
	if d, ok := pool.NextTimeout(); ok {
		rs.NextTimeout = d
	}
	if err := v.setPool(rs.Runtime.ID, pool); err != nil {
		return err
	}
	return v.setRuntime(rs, oldDeadline)
}
