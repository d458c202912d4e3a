package api

import (
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/quantity"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
)

func TestMaintenanceFeeChargesEachRuntimeEpochOnce(t *testing.T) {
	p := testParams() // 1000 gas per runtime-epoch
	twoRuntimes := func(exp uint64) *node.Node {
		n := testNode(t)
		n.Expiration = exp
		n.Runtimes = append(n.Runtimes, node.Runtime{ID: n.Runtimes[0].ID, Version: v(2)}, node.Runtime{ID: testRuntimeID("second"), Version: v(1)})
		return n
	}
	prev := func(exp uint64) *node.Node { n := testNode(t); n.Expiration = exp; return n }
	for _, tc := range []struct {
		name     string
		n        *node.Node
		epoch    uint64
		previous *node.Node
		want     uint64
	}{
		{"a new node pays every epoch up to its expiration", twoRuntimes(15), 10, nil, 1000 * 2 * 5},
		{"versions of one runtime count once", testNode(t), 10, nil, 1000 * 1 * 2},
		{"a renewal pays only the epochs after its old expiration", twoRuntimes(15), 10, prev(13), 1000 * 2 * 2},
		{"a renewal that does not extend pays nothing", twoRuntimes(13), 10, prev(13), 0},
		{"a renewal that shortens pays nothing", twoRuntimes(12), 10, prev(13), 0},
		{"an expired record's paid epochs do not count", twoRuntimes(15), 10, prev(4), 1000 * 2 * 5},
		{"a node without runtimes pays nothing", func() *node.Node { n := testNode(t); n.Runtimes = nil; n.Roles = node.RoleValidator; return n }(), 10, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MaintenanceFee(p, tc.n, epochT(tc.epoch), tc.previous)
			if err != nil || uint64(got) != tc.want {
				t.Fatalf("MaintenanceFee = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
	p.EpochMaintenanceGas = 1 << 63
	n := twoRuntimes(15)
	if _, err := MaintenanceFee(p, n, 10, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("overflowing fee: %v", err)
	}
}

func TestStakeClaimsNameTheMethodAndKey(t *testing.T) {
	n := testNode(t)
	if got := NodeStakeClaim(n.ID); got != "registry.RegisterNode."+n.ID.String() {
		t.Errorf("NodeStakeClaim = %q", got)
	}
	if got := EntityStakeClaim(n.EntityID); got != "registry.RegisterEntity."+n.EntityID.String() {
		t.Errorf("EntityStakeClaim = %q", got)
	}
	if got := RuntimeStakeClaim(testRuntimeID("rt")); got != "registry.RegisterRuntime."+testRuntimeID("rt").String() {
		t.Errorf("RuntimeStakeClaim = %q", got)
	}
	n.Roles = node.RolesAll
	kinds := NodeThresholdKinds(n)
	if len(kinds) != 3 || kinds[0] != staking.KindNodeValidator || kinds[1] != staking.KindNodeCompute || kinds[2] != staking.KindNodeStorage {
		t.Errorf("NodeThresholdKinds(all roles) = %v", kinds)
	}
}

func TestNodeRuntimeStakeIsTheLargestRuntimeSumOverTheNodesKinds(t *testing.T) {
	n := testNode(t)
	n.Roles = node.RoleCompute | node.RoleStorage
	n.Runtimes = append(n.Runtimes, node.Runtime{ID: testRuntimeID("b"), Version: v(1)}, node.Runtime{ID: testRuntimeID("c"), Version: v(1)})
	q := func(x uint64) quantity.Quantity { return *quantity.NewFromUint64(x) }
	a, b := validRuntime(t), validRuntime(t)
	a.Staking.Thresholds = map[staking.ThresholdKind]quantity.Quantity{staking.KindNodeCompute: q(30), staking.KindNodeValidator: q(1000)}
	b.Staking.Thresholds = map[staking.ThresholdKind]quantity.Quantity{staking.KindNodeCompute: q(20), staking.KindNodeStorage: q(15)}
	lookup := map[namespace.Namespace]*Runtime{testRuntimeID("rt"): a, testRuntimeID("b"): b}
	got, err := NodeRuntimeStake(n, func(id namespace.Namespace) *Runtime { return lookup[id] })
	if err != nil || got.Cmp(quantity.NewFromUint64(35)) != 0 {
		t.Errorf("NodeRuntimeStake = %v, %v; want 35 (runtime b: 20 + 15; a's validator threshold does not apply)", got, err)
	}
}
