package registry_test

import (
	"testing"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/quantity"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/consensus"
	beaconapi "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/memchain"
	"github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/scheduler"
	schedulerapi "github.com/atoll-project/atoll/consensus/scheduler/api"
	stakingapi "github.com/atoll-project/atoll/consensus/staking/api"
)

// workers returns nodes first..first+3 of entity for rt: three compute nodes and one storage
// node on version 1.0.0, expiring at exp.
func workers(entity signature.PublicKey, rt *api.Runtime, first int, exp beaconapi.EpochTime) []*node.Node {
	v1 := version.Version{Major: 1}
	var out []*node.Node
	for i := first; i < first+3; i++ {
		out = append(out, memchain.TestNode(i, entity, node.RoleCompute, exp, memchain.NodeRuntime(rt, v1)))
	}
	return append(out, memchain.TestNode(first+3, entity, node.RoleStorage, exp, memchain.NodeRuntime(rt, v1)))
}

// genesisWithWorkers registers entity 0 (listing nodes 0..7) and the genesis runtime rt of
// entity owner (0 or 1) and, when withNodes, entity 0's nodes workers(rt, 0, 10).
func genesisWithWorkers(rt *api.Runtime, owner int, withNodes bool) func(*genesis.Document) {
	return func(d *genesis.Document) {
		e := entitySigner(0)
		var listed []signature.PublicKey
		for i := 0; i < 8; i++ {
			listed = append(listed, memchain.TestNodeSigner(i).Public())
		}
		g := memchain.GenesisRegistry{
			Entities: []memchain.GenesisEntity{{Signer: e, Nodes: listed}},
			Runtimes: []memchain.GenesisRuntime{{Signer: entitySigner(owner), Runtime: rt}},
		}
		if owner != 0 {
			g.Entities = append(g.Entities, memchain.GenesisEntity{Signer: entitySigner(owner)})
		}
		if withNodes {
			for i, n := range workers(e.Public(), rt, 0, 10) {
				g.Nodes = append(g.Nodes, memchain.GenesisNode{Signer: memchain.TestNodeSigner(i), Node: n})
			}
		}
		memchain.AddGenesisRegistry(d, g)
	}
}

// messagesFor returns the kinds of the messages the stand-in roothash saw about rt at height.
func messagesFor(h *harness, rt namespace.Namespace, height int64) []string {
	var out []string
	for _, o := range h.observedLog() {
		if o.Runtime == rt && o.Height == height {
			out = append(out, o.Kind)
		}
	}
	return out
}

func committees(t *testing.T, h *harness, rt namespace.Namespace) []schedulerapi.Committee {
	t.Helper()
	var out []schedulerapi.Committee
	if err := h.c.Query(schedulerapi.QueryCommittees, schedulerapi.RuntimeQuery{RuntimeID: rt}, &out, 0); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAGenesisRuntimeStartsActiveAndIsSuspendedWhenNoCommitteeCanBeElected(t *testing.T) {
	rt := memchain.TestRuntime(0, entitySigner(0).Public(), 0)
	h := newHarness(t, genesisWithWorkers(rt, 0, false))
	res := h.deliver()
	if !h.suspended(rt.ID) {
		t.Fatal("a runtime without nodes stayed active at the first epoch transition")
	}
	if evs := events[api.RuntimeSuspendedEvent](t, res); len(evs) != 1 || evs[0].ID != rt.ID {
		t.Fatalf("suspension events %+v", evs)
	}
	// Roothash hears of the suspension before it sees the election result.
	got := messagesFor(h, rt.ID, res.Height)
	if len(got) != 2 || got[0] != api.MessageKindRuntimeSuspended || got[1] != schedulerapi.MessageKindElectionResult {
		t.Fatalf("roothash saw %v", got)
	}
	if len(committees(t, h, rt.ID)) != 0 {
		t.Fatal("a suspended runtime has committees")
	}
}

func TestARuntimeWithoutAnActiveDeploymentIsLeftAlone(t *testing.T) {
	rt := memchain.TestRuntime(0, entitySigner(0).Public(), 2)
	h := newHarness(t, genesisWithWorkers(rt, 0, false))
	for e := beaconapi.EpochTime(0); e < 2; e++ {
		results := h.toEpoch(e)
		if e == 0 {
			results = append(results, h.deliver())
		}
		if h.suspended(rt.ID) {
			t.Fatalf("epoch %d: a runtime that is not deployed yet was suspended", e)
		}
		var res schedulerapi.ElectionResult
		if err := h.c.Query(schedulerapi.QueryElection, schedulerapi.RuntimeQuery{RuntimeID: rt.ID}, &res, 0); err != nil || res.Outcome != schedulerapi.OutcomeNotDeployed || res.Epoch != e {
			t.Fatalf("epoch %d: election %+v, %v", e, res, err)
		}
	}
	// From valid_from on, with no nodes, it is suspended.
	h.toEpoch(2)
	if !h.suspended(rt.ID) {
		t.Fatal("a deployed runtime without nodes stayed active")
	}
}

func TestANodeRegistrationThatPaysForASuspendedRuntimeResumesIt(t *testing.T) {
	h := newHarness(t, registryWithRuntime(nil))
	h.deliver()
	owner := entitySigner(0)
	rt := memchain.TestRuntime(1, owner.Public(), 2)
	h.mustDeliver(h.f.RegisterRuntimeTx(owner, h.nonce(owner), rt))
	if !h.suspended(rt.ID) {
		t.Fatal("not suspended after registration")
	}
	nodes := workers(owner.Public(), rt, 0, 5)
	res := h.mustDeliver(h.nodeTx(owner, nodes[0], 0))
	if h.suspended(rt.ID) {
		t.Fatal("a paying node registration did not resume the runtime")
	}
	if evs := events[api.RuntimeResumedEvent](t, res); len(evs) != 1 {
		t.Fatalf("resume events %+v", evs)
	}
	if got := messagesFor(h, rt.ID, res.Height); len(got) != 1 || got[0] != api.MessageKindRuntimeResumed {
		t.Fatalf("roothash saw %v", got)
	}
	for i, n := range nodes[1:] {
		h.mustDeliver(h.nodeTx(owner, n, i+1))
	}
	// Epoch 1: not deployed yet, left alone; epoch 2: elected.
	h.toEpoch(1)
	if h.suspended(rt.ID) || len(committees(t, h, rt.ID)) != 0 {
		t.Fatal("epoch 1: suspended, or elected before valid_from")
	}
	h.toEpoch(2)
	cs := committees(t, h, rt.ID)
	if h.suspended(rt.ID) || len(cs) != 2 || cs[0].Kind != schedulerapi.KindExecutor || len(cs[0].Workers()) != 2 || len(cs[0].Backups()) != 1 || len(cs[1].Workers()) != 1 {
		t.Fatalf("epoch 2 committees %+v", cs)
	}
}

func TestARenewalThatPaysNothingDoesNotResumeARuntime(t *testing.T) {
	rt := memchain.TestRuntime(0, entitySigner(0).Public(), 0)
	h := newHarness(t, genesisWithWorkers(rt, 0, false))
	owner := entitySigner(0)
	n := workers(owner.Public(), rt, 0, 3)[0]
	// The runtime is suspended at block 1 (no nodes).
	h.deliver()
	h.mustDeliver(h.nodeTx(owner, n, 0))
	if h.suspended(rt.ID) {
		t.Fatal("a paying registration did not resume")
	}
	h.toEpoch(1) // too few nodes: suspended again
	if !h.suspended(rt.ID) {
		t.Fatal("not suspended with one node")
	}
	h.mustDeliver(h.nodeTx(owner, n, 0)) // same expiration: pays nothing
	if !h.suspended(rt.ID) {
		t.Fatal("a registration that paid nothing resumed the runtime")
	}
}

func TestARuntimeWhoseOwnerLosesStakeIsSuspendedAndResumesOnceStakeIsBack(t *testing.T) {
	owner := entitySigner(1)
	rt := memchain.TestRuntime(0, owner.Public(), 0)
	h := newHarness(t, func(d *genesis.Document) {
		withStake(0, 0, 50, 100)(d)
		d.Staking.Params.Slashing.Liveness.Amount = *quantity.NewFromUint64(80)
		genesisWithWorkers(rt, 1, true)(d)
	})
	h.deliver()
	if h.suspended(rt.ID) || len(committees(t, h, rt.ID)) != 2 {
		t.Fatal("the genesis runtime with workers was not elected at epoch 0")
	}
	h.mustDeliver(h.f.SignTx(owner, memchain.Tx{Nonce: h.nonce(owner), Gas: 1000, Method: methodSlash, Body: slashBody{Entity: owner.Public()}}))
	results := h.toEpoch(1)
	last := results[len(results)-1]
	if !h.suspended(rt.ID) || len(committees(t, h, rt.ID)) != 0 {
		t.Fatal("an owner short of stake kept its runtime active")
	}
	var res schedulerapi.ElectionResult
	if err := h.c.Query(schedulerapi.QueryElection, schedulerapi.RuntimeQuery{RuntimeID: rt.ID}, &res, 0); err != nil || !res.Elected() {
		t.Fatalf("the election itself succeeded: %+v, %v", res, err)
	}
	if got := messagesFor(h, rt.ID, last.Height); len(got) != 2 || got[0] != api.MessageKindRuntimeSuspended {
		t.Fatalf("roothash saw %v", got)
	}
	// Stake back: resumed and elected at the next transition.
	h.mustDeliver(h.f.SignTx(owner, memchain.Tx{Nonce: h.nonce(owner), Gas: 1000, Method: stakingapi.MethodAddEscrow,
		Body: stakingapi.Escrow{Account: memchain.Address(owner), Amount: *quantity.NewFromUint64(100)}}))
	if !h.suspended(rt.ID) {
		t.Fatal("resumed before the epoch transition")
	}
	results = h.toEpoch(2)
	last = results[len(results)-1]
	if h.suspended(rt.ID) || len(committees(t, h, rt.ID)) != 2 {
		t.Fatal("not resumed and elected at the transition after the stake came back")
	}
	if got := messagesFor(h, rt.ID, last.Height); len(got) != 2 || got[0] != api.MessageKindRuntimeResumed || got[1] != schedulerapi.MessageKindElectionResult {
		t.Fatalf("roothash saw %v", got)
	}
	var c *schedulerapi.Committee
	h.read(func(s consensus.State) (err error) {
		c, err = scheduler.GetCommittee(s, rt.ID, schedulerapi.KindExecutor)
		return
	})
	if c == nil || c.ValidFor != 2 {
		t.Fatalf("executor committee %+v", c)
	}
}

func TestARuntimeWithTooFewNodesStaysSuspendedQuietlyUntilEnoughRegister(t *testing.T) {
	rt := memchain.TestRuntime(0, entitySigner(0).Public(), 0)
	h := newHarness(t, genesisWithWorkers(rt, 0, false))
	owner := entitySigner(0)
	nodes := workers(owner.Public(), rt, 0, 10)
	h.deliver() // suspended at block 1: no nodes
	h.mustDeliver(h.nodeTx(owner, nodes[0], 0))
	h.toEpoch(1) // one compute node of the two the group needs: suspended again
	if !h.suspended(rt.ID) {
		t.Fatal("not suspended with one node")
	}
	// The owner has stake and an unexpired node is registered, but a committee still cannot
	// be elected: the runtime stays suspended at later transitions, neither resumed nor
	// suspended again.
	for _, e := range []beaconapi.EpochTime{2, 3} {
		for _, res := range h.toEpoch(e) {
			for _, kind := range messagesFor(h, rt.ID, res.Height) {
				if kind != schedulerapi.MessageKindElectionResult {
					t.Fatalf("epoch %d, height %d: roothash saw %s", e, res.Height, kind)
				}
			}
			if n := len(events[api.RuntimeResumedEvent](t, res)) + len(events[api.RuntimeSuspendedEvent](t, res)); n != 0 {
				t.Fatalf("epoch %d, height %d: %d resume or suspend events", e, res.Height, n)
			}
			// It is elected to see whether it can resume; the result says why not.
			for _, ev := range events[schedulerapi.ElectionResult](t, res) {
				if ev.RuntimeID == rt.ID && (ev.Elected() || ev.Outcome != schedulerapi.OutcomeTooFewExecutors) {
					t.Fatalf("epoch %d, height %d: election %+v", e, res.Height, ev)
				}
			}
		}
		if !h.suspended(rt.ID) || len(committees(t, h, rt.ID)) != 0 {
			t.Fatalf("epoch %d: resumed or given committees with one node", e)
		}
	}
	// Enough nodes: the first registration that pays resumes it, the next transition elects.
	for i, n := range nodes[1:] {
		h.mustDeliver(h.nodeTx(owner, n, i+1))
	}
	h.toEpoch(4)
	if h.suspended(rt.ID) || len(committees(t, h, rt.ID)) != 2 {
		t.Fatal("not elected at the transition after enough nodes registered")
	}
}
