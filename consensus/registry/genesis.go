package registry

import (
	"fmt"

	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/staking"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
)

// initGenesis stores the genesis descriptors with their stake claims (the staking application
// has written the genesis escrow already; the genesis sanity check made sure it covers them)
// and the genesis validators that no genesis node takes over. Genesis runtimes start active
// unless listed as suspended.
func initGenesis(ctx *consensus.Context, doc *genesis.Document, st *api.GenesisState) error {
	v := stateView{ctx.State()}
	for _, e := range st.Entities {
		if err := v.put(idKey(tableEntity, e.ID), e); err != nil {
			return err
		}
		if err := staking.AddStakeClaim(ctx, stakingapi.NewAddress(e.ID), api.EntityStakeClaim(e.ID), []stakingapi.ThresholdKind{stakingapi.KindEntity}); err != nil {
			return fmt.Errorf("registry: genesis entity %s: %w", e.ID, err)
		}
	}
	for _, rt := range st.Runtimes {
		if err := v.setRuntime(rt); err != nil {
			return err
		}
		if err := v.setSuspended(rt.ID, st.Suspended[rt.ID]); err != nil {
			return err
		}
		if err := claimRuntimeStake(ctx, rt); err != nil {
			return fmt.Errorf("registry: genesis runtime %s: %w", rt.ID, err)
		}
	}
	handedOver := make(map[signature.PublicKey]bool)
	for _, n := range st.Nodes {
		if err := v.setNode(n, nil); err != nil {
			return err
		}
		if err := v.setNodeStatus(n.ID, &api.NodeStatus{}); err != nil {
			return err
		}
		if err := staking.AddStakeClaim(ctx, stakingapi.NewAddress(n.EntityID), api.NodeStakeClaim(n.ID), api.NodeThresholdKinds(n)); err != nil {
			return fmt.Errorf("registry: genesis node %s: %w", n.ID, err)
		}
		handedOver[n.Consensus.ID] = true
	}
	for _, val := range doc.Validators {
		if handedOver[val.ConsensusKey] {
			continue
		}
		if err := v.put(idKey(tableStaticValidator, val.ConsensusKey), &staticValidator{EntityID: val.EntityID, Power: val.Power}); err != nil {
			return err
		}
	}
	return nil
}
