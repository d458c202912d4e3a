package registry

import (
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/registry/api"
	scheduler "github.com/atoll-project/atoll/consensus/scheduler/api"
)

// onEpochChanged is step 1 of an epoch transition (see the package comment): node
// expirations, then the descriptor snapshots of the new epoch, then the transition record the
// registry's BeginBlock and EndBlock work from.
func onEpochChanged(ctx *consensus.Context, epoch beacon.EpochTime) error {
	if err := expireNodes(ctx, epoch); err != nil {
		return err
	}
	v := stateView{ctx.State()}
	var all []*api.Runtime
	if err := v.runtimes(func(rt *api.Runtime) error { all = append(all, rt); return nil }); err != nil {
		return err
	}
	for _, rt := range all {
		if err := v.put(idKey(tableRuntimeSnapshot, rt.ID), rt); err != nil {
			return err
		}
	}
	return v.setTransition(&transitionRecord{Epoch: epoch})
}

// onElection is step 2: the scheduler's result for one runtime decides whether it is
// suspended (no committee although deployed, or its owner short of stake) or, when it was
// suspended, resumed (a committee elected and the owner's stake back).
func onElection(ctx *consensus.Context, res *scheduler.ElectionResult) error {
	v := stateView{ctx.State()}
	rt, err := v.runtimeIn(tableRuntimeSnapshot, res.RuntimeID)
	if err != nil {
		return err
	}
	if rt == nil {
		return consensus.StateErrorf("registry: election result for runtime %s without a descriptor snapshot", res.RuntimeID)
	}
	suspended, err := v.isSuspended(rt.ID)
	if err != nil {
		return err
	}
	facts, err := runtimeFacts(v, rt, res.Epoch, suspended)
	if err != nil {
		return err
	}
	facts.HasActiveDeployment = res.Outcome != scheduler.OutcomeNotDeployed
	facts.CommitteeElected = res.Elected()
	switch api.DecideSuspension(facts) {
	case api.Suspend:
		why := res.Outcome.String()
		if res.Elected() {
			why = "the owner fails the stake check"
		}
		return suspend(ctx, rt.ID, why)
	case api.Resume:
		return resume(ctx, rt.ID)
	}
	return nil
}

// mayResumeAt reports whether suspended runtime id takes part in epoch's elections
// (api.MayResume).
func mayResumeAt(v stateView, id namespace.Namespace, epoch beacon.EpochTime) (bool, error) {
	suspended, err := v.isSuspended(id)
	if err != nil || !suspended {
		return false, err
	}
	rt, err := v.runtimeIn(tableRuntimeSnapshot, id)
	if err != nil || rt == nil {
		return false, err
	}
	facts, err := runtimeFacts(v, rt, epoch, true)
	if err != nil {
		return false, err
	}
	return api.MayResume(facts), nil
}

// runtimeFacts gathers what api.DecideSuspension needs about rt in epoch, before an election.
func runtimeFacts(v stateView, rt *api.Runtime, epoch beacon.EpochTime, suspended bool) (api.RuntimeFacts, error) {
	stakeOK, err := ownerStakeOK(v.s, rt)
	if err != nil {
		return api.RuntimeFacts{}, err
	}
	live, err := hasUnexpiredNodes(v, rt.ID, epoch)
	if err != nil {
		return api.RuntimeFacts{}, err
	}
	return api.RuntimeFacts{
		HasActiveDeployment: rt.ActiveDeployment(epoch) != nil,
		OwnerStakeOK:        stakeOK,
		HasUnexpiredNodes:   live,
		Suspended:           suspended,
	}, nil
}

// hasUnexpiredNodes reports whether some node live in epoch has an entry for runtime.
func hasUnexpiredNodes(v stateView, runtime namespace.Namespace, epoch beacon.EpochTime) (bool, error) {
	found := false
	err := v.nodes(func(n *node.Node) error {
		if !found && !n.IsExpired(uint64(epoch)) && n.HasRuntime(runtime) {
			found = true
		}
		return nil
	})
	return found, err
}
