package registry

import (
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/staking"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
)

// updateValidators is step 4 of an epoch transition: it recomputes the validator set
// (validatorSet) and records the changes for CometBFT. The genesis validators start the set;
// a registered validator node joins when it is unexpired, not frozen and its entity passes its
// stake check (which covers the node-validator threshold of its claim), and leaves when that
// no longer holds; a genesis validator whose consensus key a node registered is handed over to
// that node. A set that would be empty is not applied (the chain would halt): the current one
// stays and an error is logged.
func updateValidators(ctx *consensus.Context, epoch beacon.EpochTime) error {
	s := ctx.State()
	v := stateView{s}
	staticMap, staticOrder, err := v.staticValidators()
	if err != nil {
		return err
	}
	static := make([]validatorPower, 0, len(staticOrder))
	for _, k := range staticOrder {
		sv := staticMap[k]
		static = append(static, validatorPower{EntityID: sv.EntityID, ConsensusKey: k, Power: sv.Power})
	}
	nodes, escrow, err := eligibleValidators(v, epoch)
	if err != nil {
		return err
	}
	desired := validatorSet(static, nodes, escrow, genesis.MaxPower, genesis.MaxValidators)
	if len(desired) == 0 {
		ctx.Logger().Error("no eligible validators: keeping the current set", "module", "registry", "epoch", epoch)
		return nil
	}
	cur, err := consensus.Validators(s)
	if err != nil {
		return err
	}
	current := make([]validatorPower, len(cur))
	for i, c := range cur {
		current[i] = validatorPower(c)
	}
	for _, u := range validatorChanges(current, desired) {
		if err := ctx.UpdateValidator(consensus.ValidatorUpdate(u)); err != nil {
			return err
		}
	}
	return nil
}

// eligibleValidators returns the validator nodes eligible in epoch and their entities' escrow.
func eligibleValidators(v stateView, epoch beacon.EpochTime) ([]validatorNode, map[signature.PublicKey]*quantity.Quantity, error) {
	var candidates []*node.Node
	err := v.nodes(func(n *node.Node) error {
		if n.HasRole(node.RoleValidator) && !n.IsExpired(uint64(epoch)) {
			candidates = append(candidates, n)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var out []validatorNode
	escrow := make(map[signature.PublicKey]*quantity.Quantity)
	for _, n := range candidates {
		st, err := v.nodeStatus(n.ID)
		if err != nil {
			return nil, nil, err
		}
		if st != nil && st.IsFrozen(epoch) {
			continue
		}
		addr := stakingapi.NewAddress(n.EntityID)
		if err := staking.CheckStakeClaims(v.s, addr); err != nil {
			if consensus.IsStateError(err) {
				return nil, nil, err
			}
			continue
		}
		if escrow[n.EntityID] == nil {
			e, err := staking.EscrowBalance(v.s, addr)
			if err != nil {
				return nil, nil, err
			}
			escrow[n.EntityID] = e
		}
		out = append(out, validatorNode{EntityID: n.EntityID, ConsensusKey: n.Consensus.ID})
	}
	return out, escrow, nil
}
