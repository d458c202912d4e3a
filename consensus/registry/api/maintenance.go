package api

import (
	"fmt"
	"math/bits"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// MaintenanceEpochs returns the epochs a registration in epoch pays ahead when it moves the
// node's expiration from oldExpiration to newExpiration: newExpiration − max(epoch,
// oldExpiration), or 0 when that is not positive. A node registered in epoch e with
// expiration x is live in e..x, so epochs up to max(epoch, oldExpiration) are either the
// current one or already paid, and are never charged twice.
func MaintenanceEpochs(epoch, oldExpiration, newExpiration beacon.EpochTime) uint64 {
	paid := max(epoch, oldExpiration)
	if newExpiration <= paid {
		return 0
	}
	return uint64(newExpiration - paid)
}

// MaintenanceFee returns the gas a registration of n in epoch must pay for prepaid runtime
// maintenance (DESIGN.md §3): epoch_maintenance_gas × (distinct runtime IDs in n) ×
// MaintenanceEpochs(epoch, previous expiration, n's expiration). previous is the node's
// current record (expired or not), or nil for a new node. The application charges it as part
// of the transaction's gas and rejects the registration with ErrMaintenanceNotPaid when the
// transaction's gas does not cover it; an overflowing fee is ErrInvalidArgument.
func MaintenanceFee(params *ConsensusParameters, n *node.Node, epoch beacon.EpochTime, previous *node.Node) (transaction.Gas, error) {
	var oldExpiration beacon.EpochTime
	if previous != nil {
		oldExpiration = beacon.EpochTime(previous.Expiration)
	}
	epochs := MaintenanceEpochs(epoch, oldExpiration, beacon.EpochTime(n.Expiration))
	hi, perEpoch := bits.Mul64(uint64(params.EpochMaintenanceGas), uint64(len(n.RuntimeIDs())))
	hi2, total := bits.Mul64(perEpoch, epochs)
	if hi != 0 || hi2 != 0 {
		return 0, fmt.Errorf("%w: maintenance fee of node %s overflows", ErrInvalidArgument, n.ID)
	}
	return transaction.Gas(total), nil
}

// Stake claim names, as the staking service's AddStakeClaim takes them.

// EntityStakeClaim names the claim of a registered entity: "registry.RegisterEntity.<id>".
func EntityStakeClaim(id signature.PublicKey) string {
	return string(MethodRegisterEntity) + "." + id.String()
}

// NodeStakeClaim names the claim of a registered node: "registry.RegisterNode.<id>".
func NodeStakeClaim(id signature.PublicKey) string {
	return string(MethodRegisterNode) + "." + id.String()
}

// RuntimeStakeClaim names the claim of a registered runtime: "registry.RegisterRuntime.<id>".
func RuntimeStakeClaim(id namespace.Namespace) string {
	return string(MethodRegisterRuntime) + "." + id.String()
}

// NodeThresholdKinds returns the global threshold kinds a node's roles claim, in role order:
// node-validator, node-compute, node-storage (the client role claims nothing).
func NodeThresholdKinds(n *node.Node) []staking.ThresholdKind {
	var kinds []staking.ThresholdKind
	for _, rk := range []struct {
		role node.RolesMask
		kind staking.ThresholdKind
	}{
		{node.RoleValidator, staking.KindNodeValidator},
		{node.RoleCompute, staking.KindNodeCompute},
		{node.RoleStorage, staking.KindNodeStorage},
	} {
		if n.HasRole(rk.role) {
			kinds = append(kinds, rk.kind)
		}
	}
	return kinds
}

// NodeRuntimeStake returns the stake a node needs on top of the global thresholds of its
// kinds: the largest, over its runtimes, of the sum of the runtime's thresholds of those
// kinds. runtime returns a registered descriptor or nil (unknown runtimes add nothing; the
// registration checks reject them).
func NodeRuntimeStake(n *node.Node, runtime func(namespace.Namespace) *Runtime) (*quantity.Quantity, error) {
	best := new(quantity.Quantity)
	kinds := NodeThresholdKinds(n)
	for _, id := range n.RuntimeIDs() {
		rt := runtime(id)
		if rt == nil {
			continue
		}
		sum := new(quantity.Quantity)
		for _, k := range kinds {
			if q, ok := rt.Staking.Thresholds[k]; ok {
				if err := sum.Add(&q); err != nil {
					return nil, fmt.Errorf("%w: runtime %s thresholds: %w", ErrInvalidArgument, id, err)
				}
			}
		}
		if sum.Cmp(best) > 0 {
			best = sum
		}
	}
	return best, nil
}
