package registry

import (
	"fmt"

	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/staking"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
)

// registerEntity registers or updates the entity signed in s. The transaction must be signed
// by the entity itself (so that nobody replays an old descriptor), and the entity's escrow must
// cover the entity threshold on top of its other claims.
func registerEntity(ctx *consensus.Context, s *signature.Signed) error {
	e, err := api.OpenEntity(s, api.RegisterEntitySignatureContext.ForChain(ctx.ChainContext()))
	if err != nil {
		return err
	}
	if signer := ctx.Caller().Signer; signer == nil || *signer != e.ID {
		return fmt.Errorf("%w: entity %s must send its own registration", api.ErrForbidden, e.ID)
	}
	addr := stakingapi.NewAddress(e.ID)
	if err := staking.AddStakeClaim(ctx, addr, api.EntityStakeClaim(e.ID), []stakingapi.ThresholdKind{stakingapi.KindEntity}); err != nil {
		return err
	}
	if err := (stateView{ctx.State()}).put(idKey(tableEntity, e.ID), e); err != nil {
		return err
	}
	ctx.EmitEvent(api.EntityRegisteredEvent{Entity: *e})
	return nil
}

// deregisterEntity removes the signer's entity, which must have no node records (expired
// ones included: they stay slashable) and own no runtimes, and releases its stake claim.
func deregisterEntity(ctx *consensus.Context) error {
	signer := ctx.Caller().Signer
	if signer == nil {
		return fmt.Errorf("%w: no signer", api.ErrForbidden)
	}
	id := *signer
	v := stateView{ctx.State()}
	e, err := v.entity(id)
	if err != nil {
		return err
	}
	if e == nil {
		return fmt.Errorf("%w: %s", api.ErrNoSuchEntity, id)
	}
	nodes, err := v.entityNodes(id)
	if err != nil {
		return err
	}
	if len(nodes) > 0 {
		return fmt.Errorf("%w: entity %s has %d node records (expired ones are kept for the debonding interval)", api.ErrEntityHasNodes, id, len(nodes))
	}
	owned := 0
	err = v.runtimes(func(rt *api.Runtime) error {
		if rt.EntityID == id {
			owned++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if owned > 0 {
		return fmt.Errorf("%w: entity %s owns %d runtimes", api.ErrEntityHasRuntimes, id, owned)
	}
	if err := staking.RemoveStakeClaim(ctx, stakingapi.NewAddress(id), api.EntityStakeClaim(id)); err != nil {
		return err
	}
	if err := v.s.Remove(idKey(tableEntity, id)); err != nil {
		return err
	}
	ctx.EmitEvent(api.EntityDeregisteredEvent{ID: id})
	return nil
}
