package genesis

import (
	"fmt"

	"github.com/atoll-project/atoll/common/quantity"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

// FirstEpoch returns the epoch of the chain's first block. It needs a sane beacon section.
func (d *Document) FirstEpoch() beacon.EpochTime {
	return beacon.EpochAt(d.InitialHeight, d.Beacon.Params.EpochInterval)
}

// checkRegistry checks the registry and scheduler sections and how they fit the rest of the
// document: every descriptor opens and passes the registry's rules for the first epoch; a
// genesis node that uses a genesis validator's consensus key belongs to that validator's
// entity; and the genesis escrow of every account covers the stake claims the registry makes
// at InitChain (entities, nodes per role, runtimes at their owner's account), as the staking
// service would check them.
func (d *Document) checkRegistry() error {
	if d.Scheduler != nil {
		if err := d.Scheduler.SanityCheck(); err != nil {
			return fmt.Errorf("genesis: %w", err)
		}
	}
	if d.Registry == nil {
		return nil
	}
	st, err := d.Registry.Open(d.FirstEpoch())
	if err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	validatorEntity := make(map[[32]byte]staking.Address, len(d.Validators))
	for i := range d.Validators {
		validatorEntity[d.Validators[i].ConsensusKey] = d.Validators[i].EntityAddress()
	}
	claims := make(map[staking.Address][]staking.ThresholdKind)
	var order []staking.Address
	claim := func(addr staking.Address, kinds ...staking.ThresholdKind) {
		if _, ok := claims[addr]; !ok {
			order = append(order, addr)
		}
		claims[addr] = append(claims[addr], kinds...)
	}
	for _, e := range st.Entities {
		claim(staking.NewAddress(e.ID), staking.KindEntity)
	}
	for _, n := range st.Nodes {
		if owner, ok := validatorEntity[n.Consensus.ID]; ok && owner != staking.NewAddress(n.EntityID) {
			return fmt.Errorf("genesis: registry node %s uses the consensus key of a validator of another entity", n.ID)
		}
		claim(staking.NewAddress(n.EntityID), registry.NodeThresholdKinds(n)...)
	}
	for _, rt := range st.Runtimes {
		claim(rt.StakingAddress(), staking.KindRuntime)
	}
	escrow := d.genesisEscrow()
	th := &d.Staking.Params.Thresholds
	for _, addr := range order {
		need := new(quantity.Quantity)
		for _, k := range claims[addr] {
			if err := need.Add(th.Of(k)); err != nil {
				return fmt.Errorf("genesis: stake claims of %s: %w", addr, err)
			}
		}
		have := escrow[addr]
		if have == nil {
			have = new(quantity.Quantity)
		}
		if have.Cmp(need) < 0 {
			return fmt.Errorf("genesis: account %s has escrow %s, but its registry descriptors claim %s", addr, have, need)
		}
	}
	return nil
}

// genesisEscrow returns each account's active escrow at genesis: the sum of the delegations
// to it.
func (d *Document) genesisEscrow() map[staking.Address]*quantity.Quantity {
	out := make(map[staking.Address]*quantity.Quantity)
	for i := range d.Staking.Delegations {
		g := &d.Staking.Delegations[i]
		q := out[g.To]
		if q == nil {
			q = new(quantity.Quantity)
			out[g.To] = q
		}
		// The staking section's sanity check has already summed these without overflow.
		_ = q.Add(&g.Amount)
	}
	return out
}
