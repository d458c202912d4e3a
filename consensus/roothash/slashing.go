package roothash

import (
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/roothash/api"
	"github.com/atoll-project/atoll/consensus/staking"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
)

// slashNode slashes the entity of node id for reason in the runtime (by the runtime's own
// penalty when its descriptor sets one, else the global one), sends the stake to the
// runtime's account and freezes the node. A node the registry does not know (its record
// removed) cannot be slashed and is skipped, as is a slash that staking rejects; both are
// logged. Only a state failure is returned.
func (a *App) slashNode(ctx *consensus.Context, rs *api.RuntimeState, id signature.PublicKey, reason stakingapi.SlashReason) error {
	logger := ctx.Logger().With("module", api.ModuleName, "runtime_id", rs.Runtime.ID, "node", id, "reason", reason)
	n, err := a.registry.Node(ctx.State(), id)
	if err != nil {
		return err
	}
	if n == nil {
		logger.Warn("cannot slash an unknown node")
		return nil
	}
	to := stakingapi.NewRuntimeAddress(rs.Runtime.ID)
	child := ctx.NewChild()
	res, err := staking.Slash(child, staking.SlashRequest{Offender: stakingapi.NewAddress(n.EntityID), Reason: reason, To: &to, Params: SlashParams(&rs.Runtime, reason)})
	if err == nil {
		err = a.registry.FreezeNode(child, id, FreezeInterval(&rs.Runtime, reason, res.FreezeInterval))
	}
	switch {
	case consensus.IsStateError(err):
		return err
	case err != nil:
		logger.Warn("slash rejected", "err", err)
		return nil
	}
	logger.Info("node slashed", "amount", res.Amount)
	return child.CommitTo(ctx)
}

// punishEvidence slashes the offence that evidence the pool found proves, once.
func (a *App) punishEvidence(ctx *consensus.Context, p *api.ConsensusParameters, rs *api.RuntimeState, ev *api.Evidence) error {
	off, err := a.verifyEvidence(ctx, p, rs, ev)
	if err != nil {
		// The pool's evidence always verifies; if it does not, nothing is punished.
		ctx.Logger().Warn("pool evidence does not verify", "module", api.ModuleName, "runtime_id", rs.Runtime.ID, "err", err)
		return nil
	}
	slashed, err := stateView{ctx.State()}.offenceSlashed(off)
	if err != nil || slashed {
		return err
	}
	return a.punishOffence(ctx, rs, off)
}

// punishOffence records the offence as slashed and slashes its signer for equivocation.
func (a *App) punishOffence(ctx *consensus.Context, rs *api.RuntimeState, off *api.Offence) error {
	if err := (stateView{ctx.State()}).setOffenceSlashed(off); err != nil {
		return err
	}
	return a.slashNode(ctx, rs, off.Signer, stakingapi.SlashEquivocation)
}
