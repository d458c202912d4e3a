package registry

import (
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/staking"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
)

// registerRuntimeTx registers a new runtime or updates one by transaction. A new runtime is
// registered by its (registered) entity, passes api.VerifyRuntimeRegistration, claims the
// runtime threshold at its owner's account and starts suspended; an update is authorised by
// api.AuthorizeRuntimeTx and applied by applyRuntimeUpdate.
func registerRuntimeTx(ctx *consensus.Context, p *api.ConsensusParameters, rt *api.Runtime) error {
	signer := ctx.Caller().Signer
	if signer == nil {
		return fmt.Errorf("%w: no signer", api.ErrForbidden)
	}
	v := stateView{ctx.State()}
	old, err := v.runtime(rt.ID)
	if err != nil {
		return err
	}
	if err := api.AuthorizeRuntimeTx(old, rt, *signer); err != nil {
		return err
	}
	if old != nil {
		return applyRuntimeUpdate(ctx, p, old, rt)
	}
	entity, err := v.entity(rt.EntityID)
	if err != nil {
		return err
	}
	if entity == nil {
		return fmt.Errorf("%w: entity %s of runtime %s", api.ErrNoSuchEntity, rt.EntityID, rt.ID)
	}
	if err := api.VerifyRuntimeRegistration(p, rt, ctx.Epoch(), false); err != nil {
		return err
	}
	if err := claimRuntimeStake(ctx, rt); err != nil {
		return err
	}
	if err := v.setRuntime(rt); err != nil {
		return err
	}
	if err := v.setSuspended(rt.ID, true); err != nil {
		return err
	}
	ctx.EmitEvent(api.RuntimeRegisteredEvent{Runtime: *rt})
	return publish(ctx, api.RuntimeRegistered{Runtime: rt})
}

// updateRuntimeByMessage applies a runtime's update_runtime message.
func updateRuntimeByMessage(ctx *consensus.Context, p *api.ConsensusParameters, m *api.UpdateRuntimeMessage) error {
	next, err := api.DecodeRuntime(m.Descriptor)
	if err != nil {
		return err
	}
	old, err := stateView{ctx.State()}.runtime(next.ID)
	if err != nil {
		return err
	}
	if old == nil {
		return fmt.Errorf("%w: %s", api.ErrNoSuchRuntime, next.ID)
	}
	if err := api.AuthorizeRuntimeMessage(old, m.Caller); err != nil {
		return err
	}
	return applyRuntimeUpdate(ctx, p, old, next)
}

// applyRuntimeUpdate checks next against old (api.VerifyRuntimeUpdate with the versions ever
// announced), moves the runtime's stake claim when its owner account changes (entity →
// runtime governance) and stores next. The runtime stays active or suspended; the scheduler
// and roothash see next from the next epoch transition's snapshot on.
func applyRuntimeUpdate(ctx *consensus.Context, p *api.ConsensusParameters, old, next *api.Runtime) error {
	v := stateView{ctx.State()}
	announced, err := v.announced(old.ID)
	if err != nil {
		return err
	}
	if err := api.VerifyRuntimeUpdate(p, old, next, ctx.Epoch(), announced); err != nil {
		return err
	}
	if old.StakingAddress() != next.StakingAddress() {
		if err := staking.RemoveStakeClaim(ctx, old.StakingAddress(), api.RuntimeStakeClaim(old.ID)); err != nil {
			return err
		}
		if err := claimRuntimeStake(ctx, next); err != nil {
			return err
		}
	}
	if err := v.setRuntime(next); err != nil {
		return err
	}
	ctx.EmitEvent(api.RuntimeRegisteredEvent{Runtime: *next})
	return publish(ctx, api.RuntimeUpdated{Runtime: next})
}

func claimRuntimeStake(ctx *consensus.Context, rt *api.Runtime) error {
	return staking.AddStakeClaim(ctx, rt.StakingAddress(), api.RuntimeStakeClaim(rt.ID), []stakingapi.ThresholdKind{stakingapi.KindRuntime})
}

// resumePaidRuntimes resumes every suspended runtime n pays maintenance for whose owner
// passes the stake check (api.ResumesOnNodeRegistration).
func resumePaidRuntimes(ctx *consensus.Context, n *node.Node) error {
	v := stateView{ctx.State()}
	for _, id := range n.RuntimeIDs() {
		suspended, err := v.isSuspended(id)
		if err != nil || !suspended {
			if err != nil {
				return err
			}
			continue
		}
		rt, err := v.runtime(id)
		if err != nil {
			return err
		}
		stakeOK, err := ownerStakeOK(ctx.State(), rt)
		if err != nil {
			return err
		}
		if api.ResumesOnNodeRegistration(suspended, stakeOK) {
			if err := resume(ctx, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// ownerStakeOK reports whether the runtime's staking address passes its stake check.
func ownerStakeOK(s consensus.State, rt *api.Runtime) (bool, error) {
	err := staking.CheckStakeClaims(s, rt.StakingAddress())
	switch {
	case err == nil:
		return true, nil
	case consensus.IsStateError(err):
		return false, err
	}
	return false, nil
}

// suspend moves the runtime to the suspended set and tells the other applications.
func suspend(ctx *consensus.Context, id namespace.Namespace, why string) error {
	if err := (stateView{ctx.State()}).setSuspended(id, true); err != nil {
		return err
	}
	ctx.Logger().Info("runtime suspended", "module", "registry", "runtime_id", id, "epoch", ctx.Epoch(), "reason", why)
	ctx.EmitEvent(api.RuntimeSuspendedEvent{ID: id})
	return publish(ctx, api.RuntimeSuspended{RuntimeID: id})
}

// resume moves the runtime back to the active set and tells the other applications.
func resume(ctx *consensus.Context, id namespace.Namespace) error {
	if err := (stateView{ctx.State()}).setSuspended(id, false); err != nil {
		return err
	}
	ctx.Logger().Info("runtime resumed", "module", "registry", "runtime_id", id, "epoch", ctx.Epoch())
	ctx.EmitEvent(api.RuntimeResumedEvent{ID: id})
	return publish(ctx, api.RuntimeResumed{RuntimeID: id})
}

// publish sends msg to the applications that handle it; none handling it is fine.
func publish(ctx *consensus.Context, msg consensus.Message) error {
	_, err := ctx.Publish(msg)
	if errors.Is(err, consensus.ErrNoHandler) {
		return nil
	}
	return err
}
