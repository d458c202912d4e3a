package roothash

import (
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/consensus/roothash/commitment"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
)

// applyOutcome carries out one step of the pool: its events, the penalties it names
// (equivocation found in the pool, incorrect results, liveness faults), then the block that
// decides the round (Normal with the round's messages executed, or RoundFailed), or else the
// pool's new state. It reports whether the round was decided.
func (a *App) applyOutcome(ctx *consensus.Context, p *api.ConsensusParameters, rs *api.RuntimeState, pool *commitment.Pool, out *commitment.Outcome) (bool, error) {
	for _, ev := range out.Events {
		ctx.EmitEvent(ev)
	}
	for i := range out.Equivocations {
		if err := a.punishEvidence(ctx, p, rs, &out.Equivocations[i]); err != nil {
			return false, err
		}
	}
	for _, id := range out.IncorrectResults {
		if err := a.slashNode(ctx, rs, id, stakingapi.SlashIncorrectResults); err != nil {
			return false, err
		}
	}
	for _, id := range out.LivenessFaults {
		// A node without a registry record cannot be charged; only a state failure stops.
		child := ctx.NewChild()
		switch err := a.registry.RecordLivenessFault(child, id, rs.Runtime.ID); {
		case consensus.IsStateError(err):
			return false, err
		case err != nil:
			ctx.Logger().Warn("liveness fault not recorded", "module", api.ModuleName, "runtime_id", rs.Runtime.ID, "node", id, "err", err)
		default:
			if err := child.CommitTo(ctx); err != nil {
				return false, err
			}
		}
	}
	switch {
	case out.Finalized != nil:
		return true, a.finalize(ctx, p, rs, out.Finalized)
	case out.FailureReason != 0:
		h := NextBlock(&rs.Latest, api.HeaderTypeRoundFailed, blockTime(ctx))
		return true, appendBlock(ctx, p, rs, h, nil)
	}
	return false, savePool(stateView{ctx.State()}, rs, pool)
}

// checkTimeout fires the pool timer of the runtime.
func (a *App) checkTimeout(ctx *consensus.Context, p *api.ConsensusParameters, id namespace.Namespace) error {
	v := stateView{ctx.State()}
	rs, err := v.mustRuntime(id)
	if err != nil {
		return consensus.StateError(err)
	}
	pool, err := v.pool(id)
	if err != nil {
		return err
	}
	if pool == nil {
		return consensus.StateErrorf("roothash: timer armed for %s without a pool", id)
	}
	_, err = a.applyOutcome(ctx, p, rs, pool, pool.CheckTimeout(ctx.Height()))
	return err
}

// finalize executes the round's messages and makes the Normal block with the scheduler's
// results.
func (a *App) finalize(ctx *consensus.Context, p *api.ConsensusParameters, rs *api.RuntimeState, fin *commitment.FinalizedRound) error {
	results, err := a.executeMessages(ctx, rs, fin.Messages)
	if err != nil {
		return err
	}
	h := NormalBlock(&rs.Latest, fin, blockTime(ctx))
	return appendBlock(ctx, p, rs, h, results)
}
