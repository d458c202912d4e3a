package registry_test

import (
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/consensus"
	beaconapi "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/memchain"
	"github.com/atoll-project/atoll/consensus/registry"
	"github.com/atoll-project/atoll/consensus/registry/api"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

func TestAnEntityRegistersWithAStakeClaimAndDeregisters(t *testing.T) {
	h := newHarness(t, withStake(100, 0, 0, 100))
	h.deliver()
	s := entitySigner(0)
	h.registerEntity(0)
	var e api.Entity
	if err := h.c.Query(api.QueryEntity, api.IDQuery{ID: s.Public()}, &e, 0); err != nil || e.ID != s.Public() {
		t.Fatalf("entity %+v, %v", e, err)
	}
	if _, ok := h.account(memchain.Address(s)).Escrow.Claims[api.EntityStakeClaim(s.Public())]; !ok {
		t.Fatal("no entity stake claim")
	}
	h.mustDeliver(h.f.SignTx(s, memchain.Tx{Nonce: h.nonce(s), Gas: 10_000, Method: api.MethodDeregisterEntity, Body: api.DeregisterEntity{}}))
	if err := h.c.Query(api.QueryEntity, api.IDQuery{ID: s.Public()}, &e, 0); !errors.Is(err, api.ErrNoSuchEntity) {
		t.Fatalf("got %v after deregistration", err)
	}
	if len(h.account(memchain.Address(s)).Escrow.Claims) != 0 {
		t.Fatal("the claim outlived the entity")
	}
}

func TestAnEntityShortOfTheStakeThresholdIsRejected(t *testing.T) {
	h := newHarness(t, withStake(101, 0, 0, 100))
	h.deliver()
	s := entitySigner(0)
	h.deliverErr(h.f.RegisterEntityTx(s, h.nonce(s)), stakingapi.ErrInsufficientStake)
}

func TestAnEntityMustSendItsOwnRegistration(t *testing.T) {
	h := newHarness(t, nil)
	h.deliver()
	e := entitySigner(0)
	signed, err := api.SignEntity(e, api.RegisterEntitySignatureContext.ForChain(h.f.ChainContext), &api.Entity{ID: e.Public()})
	if err != nil {
		t.Fatal(err)
	}
	other := entitySigner(1)
	h.deliverErr(h.f.SignTx(other, memchain.Tx{Nonce: h.nonce(other), Gas: 10_000, Method: api.MethodRegisterEntity, Body: signed}), api.ErrForbidden)
}

func TestAnEntityWithANodeRecordCannotDeregister(t *testing.T) {
	h := newHarness(t, nil)
	h.deliver()
	s := entitySigner(0)
	h.registerEntity(0, memchain.TestNodeSigner(0).Public())
	n := memchain.TestNode(0, s.Public(), node.RoleValidator, 2)
	h.mustDeliver(h.nodeTx(s, n, 0))
	h.deliverErr(h.f.SignTx(s, memchain.Tx{Nonce: h.nonce(s), Gas: 10_000, Method: api.MethodDeregisterEntity, Body: api.DeregisterEntity{}}), api.ErrEntityHasNodes)
}

// registryWithRuntime registers entity 0 (listing nodes 0..3) and gives the genesis a runtime
// of entity 0 active from epoch 0.
func registryWithRuntime(extra func(*genesis.Document)) func(*genesis.Document) {
	return func(d *genesis.Document) {
		e := entitySigner(0)
		var nodes []signature.PublicKey
		for i := 0; i < 4; i++ {
			nodes = append(nodes, memchain.TestNodeSigner(i).Public())
		}
		memchain.AddGenesisRegistry(d, memchain.GenesisRegistry{
			Entities: []memchain.GenesisEntity{{Signer: e, Nodes: nodes}, {Signer: entitySigner(1)}},
			Runtimes: []memchain.GenesisRuntime{{Signer: e, Runtime: memchain.TestRuntime(0, e.Public(), 0)}},
		})
		if extra != nil {
			extra(d)
		}
	}
}

func TestNodeRegistrationEnforcesTheRegistryRules(t *testing.T) {
	e := entitySigner(0)
	rt := memchain.TestRuntime(0, e.Public(), 0)
	v1 := version.Version{Major: 1}
	compute := func(i int, exp beaconapi.EpochTime) *node.Node {
		return memchain.TestNode(i, e.Public(), node.RoleCompute, exp, memchain.NodeRuntime(rt, v1))
	}
	for _, tc := range []struct {
		name   string
		node   func() *node.Node
		signer int // node key index that signs the descriptor
		payer  signature.Signer
		want   error
	}{
		{"a node its entity does not list", func() *node.Node { return compute(5, 2) }, 5, e, api.ErrNodeNotListed},
		{"a node of an unregistered entity", func() *node.Node {
			n := compute(0, 2)
			n.EntityID = entitySigner(3).Public()
			return n
		}, 0, memchain.TestNodeSigner(0), api.ErrNoSuchEntity},
		{"an expiration in the current epoch", func() *node.Node { return compute(0, 0) }, 0, e, api.ErrInvalidExpiration},
		{"an expiration beyond max_node_expiration", func() *node.Node { return compute(0, 11) }, 0, e, api.ErrInvalidExpiration},
		{"a runtime that does not exist", func() *node.Node {
			return memchain.TestNode(0, e.Public(), node.RoleCompute, 2, memchain.NodeRuntime(memchain.TestRuntime(9, e.Public(), 0), v1))
		}, 0, e, api.ErrNoSuchRuntime},
		{"a descriptor signed by another node key", func() *node.Node { return compute(0, 2) }, 1, e, api.ErrInvalidSignature},
		{"a transaction from neither the node nor its entity", func() *node.Node { return compute(0, 2) }, 0, entitySigner(2), api.ErrForbidden},
		{"a TLS key another node uses", func() *node.Node {
			n := compute(1, 2)
			n.TLS.PubKey = memchain.TestSigner("node-tls", 2).Public()
			return n
		}, 1, e, api.ErrKeyInUse},
		{"a TEE capability for a runtime without TEE", func() *node.Node {
			n := compute(1, 2)
			n.Runtimes[0].Capabilities.TEE = &node.CapabilityTEE{Hardware: node.TEEHardwareMock, RAK: memchain.TestSigner("rak", 1).Public(), Attestation: []byte{1}}
			return n
		}, 1, e, api.ErrTEEVerificationFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, registryWithRuntime(nil))
			h.deliver()
			h.mustDeliver(h.nodeTx(e, compute(2, 2), 2))
			n := tc.node()
			signed, err := signature.SignBlob(memchain.TestNodeSigner(tc.signer), node.RegisterSignatureContext.ForChain(h.f.ChainContext), n)
			if err != nil {
				t.Fatal(err)
			}
			tx := h.f.SignTx(tc.payer, memchain.Tx{Nonce: h.nonce(tc.payer), Gas: 1_000_000, Method: api.MethodRegisterNode, Body: signed})
			h.deliverErr(tx, tc.want)
		})
	}
}

func TestANodeCannotChangeItsEntityWhileItsRecordExists(t *testing.T) {
	h := newHarness(t, registryWithRuntime(func(d *genesis.Document) {
		// Entity 1 lists node 0 as well.
		memchain.AddGenesisRegistry(d, memchain.GenesisRegistry{Entities: []memchain.GenesisEntity{{Signer: entitySigner(2), Nodes: []signature.PublicKey{memchain.TestNodeSigner(0).Public()}}}})
	}))
	h.deliver()
	e := entitySigner(0)
	h.mustDeliver(h.nodeTx(e, memchain.TestNode(0, e.Public(), node.RoleValidator, 2), 0))
	other := entitySigner(2)
	h.deliverErr(h.nodeTx(other, memchain.TestNode(0, other.Public(), node.RoleValidator, 2), 0), api.ErrNodeUpdateNotAllowed)
}

func TestTheAdmissionPolicyLimitsAnEntitysNodesPerRole(t *testing.T) {
	e := entitySigner(0)
	rt := memchain.TestRuntime(0, e.Public(), 0)
	rt.AdmissionPolicy = api.AdmissionPolicy{EntityWhitelist: &api.EntityWhitelistPolicy{Entities: map[signature.PublicKey]api.EntityWhitelistConfig{
		e.Public(): {MaxNodes: map[node.RolesMask]uint16{node.RoleCompute: 1}},
	}}}
	h := newHarness(t, func(d *genesis.Document) {
		memchain.AddGenesisRegistry(d, memchain.GenesisRegistry{
			Entities: []memchain.GenesisEntity{{Signer: e, Nodes: []signature.PublicKey{memchain.TestNodeSigner(0).Public(), memchain.TestNodeSigner(1).Public()}}},
			Runtimes: []memchain.GenesisRuntime{{Signer: e, Runtime: rt}},
		})
	})
	h.deliver()
	v1 := version.Version{Major: 1}
	h.mustDeliver(h.nodeTx(e, memchain.TestNode(0, e.Public(), node.RoleCompute, 2, memchain.NodeRuntime(rt, v1)), 0))
	h.deliverErr(h.nodeTx(e, memchain.TestNode(1, e.Public(), node.RoleCompute, 2, memchain.NodeRuntime(rt, v1)), 1), api.ErrNotAdmitted)
	// The admitted node renews: it does not count against itself.
	h.mustDeliver(h.nodeTx(e, memchain.TestNode(0, e.Public(), node.RoleCompute, 3, memchain.NodeRuntime(rt, v1)), 0))
}

func TestNodeStakeClaimsCoverTheRolesAndTheRuntimesExtraThresholds(t *testing.T) {
	e := entitySigner(0)
	v1 := version.Version{Major: 1}
	plain := memchain.TestRuntime(0, e.Public(), 0)
	demanding := memchain.TestRuntime(1, e.Public(), 0)
	demanding.Staking.Thresholds = map[stakingapi.ThresholdKind]quantity.Quantity{stakingapi.KindNodeCompute: *quantity.NewFromUint64(30)}
	var listed []signature.PublicKey
	for i := 0; i < 4; i++ {
		listed = append(listed, memchain.TestNodeSigner(i).Public())
	}
	h := newHarness(t, func(d *genesis.Document) {
		withStake(0, 40, 0, 100)(d)
		memchain.AddGenesisRegistry(d, memchain.GenesisRegistry{
			Entities: []memchain.GenesisEntity{{Signer: e, Nodes: listed}},
			Runtimes: []memchain.GenesisRuntime{{Signer: e, Runtime: plain}, {Signer: e, Runtime: demanding}},
		})
	})
	h.deliver()
	// A compute node of the demanding runtime needs 40 + 30 on top of the other claims.
	h.mustDeliver(h.nodeTx(e, memchain.TestNode(0, e.Public(), node.RoleCompute, 2, memchain.NodeRuntime(demanding, v1)), 0))
	// With 40 claimed, a second one would need 40 + 40 + 30 > 100; a plain one fits.
	h.deliverErr(h.nodeTx(e, memchain.TestNode(1, e.Public(), node.RoleCompute, 2, memchain.NodeRuntime(demanding, v1)), 1), stakingapi.ErrInsufficientStake)
	h.mustDeliver(h.nodeTx(e, memchain.TestNode(2, e.Public(), node.RoleCompute, 2, memchain.NodeRuntime(plain, v1)), 2))
	// A third compute node would claim 120 of the 100 in escrow.
	h.deliverErr(h.nodeTx(e, memchain.TestNode(3, e.Public(), node.RoleCompute, 2, memchain.NodeRuntime(plain, v1)), 3), stakingapi.ErrInsufficientStake)
	claims := h.account(memchain.Address(e)).Escrow.Claims
	for i, want := range []bool{true, false, true, false} {
		if _, ok := claims[api.NodeStakeClaim(memchain.TestNodeSigner(i).Public())]; ok != want {
			t.Fatalf("node %d has a claim: %v, want %v", i, ok, want)
		}
	}
}

func TestPrepaidMaintenanceIsChargedAsGasOncePerEpochPaid(t *testing.T) {
	h := newHarness(t, registryWithRuntime(nil))
	h.deliver()
	e := entitySigner(0)
	rt := memchain.TestRuntime(0, e.Public(), 0)
	v1 := version.Version{Major: 1}
	methodGas := uint64(api.DefaultGasCosts()[api.GasOpRegisterNode])
	register := func(exp beaconapi.EpochTime, gas transaction.Gas) *memchain.BlockResult {
		n := memchain.TestNode(0, e.Public(), node.RoleCompute, exp, memchain.NodeRuntime(rt, v1), memchain.NodeRuntime(rt, version.Version{Major: 2}))
		return h.deliver(h.f.RegisterNodeTx(e, memchain.TestNodeSigner(0), h.nonce(e), gas, n))
	}
	paid := func(res *memchain.BlockResult) uint64 {
		t.Helper()
		if err := res.TxErr(0); err != nil {
			t.Fatal(err)
		}
		evs := events[api.NodeRegisteredEvent](t, res)
		if len(evs) != 1 || uint64(res.TxResults[0].GasUsed) != methodGas+evs[0].MaintenanceGas {
			t.Fatalf("events %v, gas used %d", evs, res.TxResults[0].GasUsed)
		}
		return evs[0].MaintenanceGas
	}
	// Epoch 0, expiration 3: one runtime (two versions count once) × 3 epochs.
	if got := paid(register(3, 1_000_000)); got != 3000 {
		t.Fatalf("paid %d, want 3000", got)
	}
	// Renewing with the same expiration pays nothing; extending to 5 pays epochs 4 and 5.
	if got := paid(register(3, 1_000_000)); got != 0 {
		t.Fatalf("renewal paid %d, want 0", got)
	}
	if got := paid(register(5, 1_000_000)); got != 2000 {
		t.Fatalf("extension paid %d, want 2000", got)
	}
	// In epoch 2, extending to 6 pays only epoch 6: epochs up to 5 are paid.
	h.toEpoch(2)
	if got := paid(register(6, 1_000_000)); got != 1000 {
		t.Fatalf("paid %d, want 1000", got)
	}
	// A transaction whose gas does not cover the maintenance is rejected.
	res := register(10, transaction.Gas(methodGas+3999))
	if err := res.TxErr(0); !errors.Is(err, api.ErrMaintenanceNotPaid) {
		t.Fatalf("got %v, want %v", err, api.ErrMaintenanceNotPaid)
	}
}

func TestExpiredNodesReleaseTheirClaimAndAreRemovedAfterTheDebondingInterval(t *testing.T) {
	h := newHarness(t, registryWithRuntime(nil))
	h.deliver()
	e := entitySigner(0)
	n := memchain.TestNode(0, e.Public(), node.RoleValidator, 1)
	h.mustDeliver(h.nodeTx(e, n, 0))
	h.toEpoch(1)
	if _, ok := h.account(memchain.Address(e)).Escrow.Claims[api.NodeStakeClaim(n.ID)]; !ok {
		t.Fatal("a live node has no claim")
	}
	// Epoch 2: expired, claim released, record kept (slashable).
	results := h.toEpoch(2)
	if evs := events[api.NodeExpiredEvent](t, results[len(results)-1]); len(evs) != 1 || evs[0].ID != n.ID || evs[0].Epoch != 2 {
		t.Fatalf("expiry events %+v", evs)
	}
	if _, ok := h.account(memchain.Address(e)).Escrow.Claims[api.NodeStakeClaim(n.ID)]; ok {
		t.Fatal("an expired node keeps its claim")
	}
	var rec *node.Node
	h.read(func(s consensus.State) (err error) { rec, err = registry.GetNode(s, n.ID); return })
	if rec == nil {
		t.Fatal("the expired node's record is gone before the debonding interval")
	}
	// Debonding interval 1: removed at epoch 3.
	results = h.toEpoch(3)
	if evs := events[api.NodeRemovedEvent](t, results[len(results)-1]); len(evs) != 1 {
		t.Fatalf("removal events %+v", evs)
	}
	h.read(func(s consensus.State) (err error) { rec, err = registry.GetNode(s, n.ID); return })
	if rec != nil {
		t.Fatal("the record outlived the debonding interval")
	}
	// Its keys are free again: it can register anew.
	h.mustDeliver(h.nodeTx(e, memchain.TestNode(0, e.Public(), node.RoleValidator, 4), 0))
}

func TestAFrozenNodeCannotReRegisterUntilTheFreezeEnds(t *testing.T) {
	h := newHarness(t, registryWithRuntime(nil))
	h.deliver()
	e := entitySigner(0)
	h.mustDeliver(h.nodeTx(e, memchain.TestNode(0, e.Public(), node.RoleValidator, 3), 0))
	h.mustDeliver(h.f.SignTx(e, memchain.Tx{Nonce: h.nonce(e), Gas: 1000, Method: methodFreeze, Body: freezeBody{Node: memchain.TestNodeSigner(0).Public(), Interval: 2}}))
	var st api.NodeStatus
	if err := h.c.Query(api.QueryNodeStatus, api.IDQuery{ID: memchain.TestNodeSigner(0).Public()}, &st, 0); err != nil || st.FreezeEndTime != 2 {
		t.Fatalf("status %+v, %v", st, err)
	}
	h.deliverErr(h.nodeTx(e, memchain.TestNode(0, e.Public(), node.RoleValidator, 4), 0), api.ErrNodeFrozen)
	h.toEpoch(2)
	h.mustDeliver(h.nodeTx(e, memchain.TestNode(0, e.Public(), node.RoleValidator, 4), 0))
}

func TestQueriesListEntitiesAndNodesSortedByID(t *testing.T) {
	h := newHarness(t, registryWithRuntime(nil))
	h.deliver()
	e := entitySigner(0)
	for i := 0; i < 3; i++ {
		h.mustDeliver(h.nodeTx(e, memchain.TestNode(i, e.Public(), node.RoleValidator, 2), i))
	}
	var entities []api.Entity
	if err := h.c.Query(api.QueryEntities, nil, &entities, 0); err != nil || len(entities) != 2 {
		t.Fatalf("%d entities, %v", len(entities), err)
	}
	var nodes []node.Node
	if err := h.c.Query(api.QueryNodes, nil, &nodes, 0); err != nil || len(nodes) != 3 {
		t.Fatalf("%d nodes, %v", len(nodes), err)
	}
	for i := 1; i < len(nodes); i++ {
		if string(nodes[i-1].ID[:]) >= string(nodes[i].ID[:]) {
			t.Fatal("nodes not sorted by ID")
		}
	}
	var n node.Node
	if err := h.c.Query(api.QueryNode, api.IDQuery{ID: memchain.TestNodeSigner(7).Public()}, &n, 0); !errors.Is(err, api.ErrNoSuchNode) {
		t.Fatalf("got %v for an unknown node", err)
	}
}
