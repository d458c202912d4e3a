package scheduler_test

import (
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/beacon"
	beaconapi "github.com/atoll-project/atoll/consensus/beacon/api"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/memchain"
	"github.com/atoll-project/atoll/consensus/registry"
	registryapi "github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/scheduler"
	"github.com/atoll-project/atoll/consensus/scheduler/api"
	"github.com/atoll-project/atoll/consensus/staking"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// Scenario tests: scripted elections across epochs on memchain, with the real beacon, staking,
// registry and scheduler applications and a stand-in roothash that freezes nodes on request
// (what the real roothash does after a slash) and accepts the messages roothash subscribes to.
// Epochs are epochInterval blocks; block e*epochInterval is the first block of epoch e and its
// BeginBlock runs epoch e's elections.

const methodTestFreeze transaction.MethodName = "roothash.TestFreeze"

type testFreezeBody struct {
	Node     signature.PublicKey `cbor:"node"`
	Interval beaconapi.EpochTime `cbor:"interval"`
}

type roothashStandIn struct{}

func (roothashStandIn) Name() string { return "roothash" }
func (roothashStandIn) Methods() []transaction.MethodName {
	return []transaction.MethodName{methodTestFreeze}
}
func (roothashStandIn) Messages() []string {
	return []string{
		registryapi.MessageKindRuntimeRegistered, registryapi.MessageKindRuntimeUpdated,
		registryapi.MessageKindRuntimeSuspended, registryapi.MessageKindRuntimeResumed,
		api.MessageKindElectionResult,
	}
}
func (roothashStandIn) InitChain(*consensus.Context, *genesis.Document) error { return nil }
func (roothashStandIn) BeginBlock(*consensus.Context) error                   { return nil }
func (roothashStandIn) EndBlock(*consensus.Context) error                     { return nil }
func (roothashStandIn) Query(*consensus.Context, string, []byte) (any, error) {
	return nil, consensus.ErrUnknownQuery
}
func (roothashStandIn) HandleMessage(*consensus.Context, consensus.Message) (any, error) {
	return nil, nil
}
func (roothashStandIn) ExecuteTx(ctx *consensus.Context, tx *transaction.Transaction) error {
	if tx.Method != methodTestFreeze {
		return transaction.ErrUnknownMethod
	}
	var b testFreezeBody
	if err := cbor.Unmarshal(tx.Body, &b); err != nil {
		return err
	}
	return registry.FreezeNodeFor(ctx, b.Node, b.Interval)
}

func scenarioApps() []consensus.Application {
	return []consensus.Application{beacon.New(), staking.New(), registry.New(), scheduler.New(), roothashStandIn{}}
}

// scenarioEntity is a genesis entity: funded account number Account, listing test nodes
// Listed (by TestNodeSigner index).
type scenarioEntity struct {
	Account int
	Listed  []int
}

// scenario is a running chain and the nonces spent by its signers.
type scenario struct {
	t      *testing.T
	f      *memchain.Fixture
	c      *memchain.Chain
	nonces map[signature.PublicKey]uint64
}

// newScenario starts a chain whose genesis registers the entities, the runtime rt (owned by
// account 0) and the genesis nodes (keyed by their test node index).
func newScenario(t *testing.T, rt *registryapi.Runtime, entities []scenarioEntity, nodes map[int]*node.Node) *scenario {
	t.Helper()
	accounts := 1
	for _, e := range entities {
		accounts = max(accounts, e.Account+1)
	}
	f, err := memchain.NewFixture(memchain.FixtureParams{
		Validators: 1, Accounts: accounts, Balance: 1000, SelfEscrow: 1000, EpochInterval: epochInterval,
		Tweak: func(d *genesis.Document) {
			g := memchain.GenesisRegistry{Runtimes: []memchain.GenesisRuntime{{Signer: memchain.TestSigner("account", 0), Runtime: rt}}}
			for _, e := range entities {
				var listed []signature.PublicKey
				for _, i := range e.Listed {
					listed = append(listed, memchain.TestNodeSigner(i).Public())
				}
				g.Entities = append(g.Entities, memchain.GenesisEntity{Signer: memchain.TestSigner("account", e.Account), Nodes: listed})
			}
			for i := 0; i < 64; i++ {
				if n, ok := nodes[i]; ok {
					g.Nodes = append(g.Nodes, memchain.GenesisNode{Signer: memchain.TestNodeSigner(i), Node: n})
				}
			}
			memchain.AddGenesisRegistry(d, g)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := memchain.New(memchain.Config{Genesis: f.Genesis, NewApps: scenarioApps})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &scenario{t: t, f: f, c: c, nonces: make(map[signature.PublicKey]uint64)}
}

func (s *scenario) nonce(signer signature.Signer) uint64 {
	n := s.nonces[signer.Public()]
	s.nonces[signer.Public()] = n + 1
	return n
}

// mustDeliver delivers a block with tx, which must succeed, and returns the result.
func (s *scenario) mustDeliver(tx []byte) *memchain.BlockResult {
	s.t.Helper()
	res, err := s.c.Deliver(tx)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := res.TxErr(0); err != nil {
		s.t.Fatalf("transaction failed at height %d: %v", res.Height, err)
	}
	return res
}

// registerNode registers test node i (signed by its node key) paid by account payer.
func (s *scenario) registerNode(payer int, i int, n *node.Node) *memchain.BlockResult {
	s.t.Helper()
	p := memchain.TestSigner("account", payer)
	return s.mustDeliver(s.f.RegisterNodeTx(p, memchain.TestNodeSigner(i), s.nonce(p), 1_000_000, n))
}

// freeze freezes node id for interval epochs from the current one.
func (s *scenario) freeze(id signature.PublicKey, interval beaconapi.EpochTime) *memchain.BlockResult {
	s.t.Helper()
	p := memchain.TestSigner("account", 0)
	return s.mustDeliver(s.f.SignTx(p, memchain.Tx{Nonce: s.nonce(p), Gas: 1000, Method: methodTestFreeze, Body: testFreezeBody{Node: id, Interval: interval}}))
}

// toEpoch delivers empty blocks up to the first block of epoch e (block 1 for epoch 0) and returns the election
// results announced (as events) by the blocks delivered.
func (s *scenario) toEpoch(e int64) []api.ElectionResult {
	s.t.Helper()
	var out []api.ElectionResult
	for s.c.Height() < e*epochInterval || s.c.Height() == 0 {
		res, err := s.c.Deliver()
		if err != nil {
			s.t.Fatal(err)
		}
		out = append(out, electionEvents(s.t, res)...)
	}
	return out
}

// elected moves to epoch e and returns its single announced election result, which must be
// for rt and epoch e.
func (s *scenario) elected(e int64, rt *registryapi.Runtime) api.ElectionResult {
	s.t.Helper()
	got := s.toEpoch(e)
	if len(got) != 1 || got[0].RuntimeID != rt.ID || int64(got[0].Epoch) != e {
		s.t.Fatalf("epoch %d: announced %+v, want one result for the epoch", e, got)
	}
	return got[0]
}

func electionEvents(t *testing.T, res *memchain.BlockResult) []api.ElectionResult {
	t.Helper()
	var out []api.ElectionResult
	all := res.Events
	for _, r := range res.TxResults {
		all = append(all, r.Events...)
	}
	for _, ev := range all {
		if ev.Type != (api.ElectionResult{}).EventKind() {
			continue
		}
		var r api.ElectionResult
		if err := consensus.DecodeEvent(ev, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// stored returns the runtime's stored committee of kind (scheduler.GetCommittee).
func (s *scenario) stored(rt *registryapi.Runtime, kind api.CommitteeKind) *api.Committee {
	s.t.Helper()
	var c *api.Committee
	if err := s.c.ReadState(func(st consensus.State) (err error) {
		c, err = scheduler.GetCommittee(st, rt.ID, kind)
		return
	}); err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *scenario) suspended(rt *registryapi.Runtime) bool {
	s.t.Helper()
	var out bool
	if err := s.c.ReadState(func(st consensus.State) (err error) { out, err = registry.IsSuspended(st, rt.ID); return }); err != nil {
		s.t.Fatal(err)
	}
	return out
}

// committees checks that the scheduler.Committees query and GetCommittee agree with the
// announced result res of epoch e (both committees valid for e) and returns the executor and
// storage committees.
func (s *scenario) committees(e int64, rt *registryapi.Runtime, res api.ElectionResult) (exec, stor *api.Committee) {
	s.t.Helper()
	if !res.Elected() {
		s.t.Fatalf("epoch %d: outcome %s, want elected", e, res.Outcome)
	}
	cs := queryCommittees(s.t, s.c, rt.ID)
	if len(cs) != 2 || cs[0].Kind != api.KindExecutor || cs[1].Kind != api.KindStorage {
		s.t.Fatalf("epoch %d: queried committees %+v", e, cs)
	}
	exec, stor = s.stored(rt, api.KindExecutor), s.stored(rt, api.KindStorage)
	for _, p := range []struct{ queried, stored, announced *api.Committee }{{&cs[0], exec, res.Executor}, {&cs[1], stor, res.Storage}} {
		if p.stored == nil || p.announced == nil {
			s.t.Fatalf("epoch %d: stored %+v, announced %+v", e, p.stored, p.announced)
		}
		if err := p.stored.ValidateBasic(); err != nil || int64(p.stored.ValidFor) != e {
			s.t.Fatalf("epoch %d: committee %+v: %v", e, p.stored, err)
		}
		if !sameMembers(p.queried, p.stored) || !sameMembers(p.stored, p.announced) {
			s.t.Fatalf("epoch %d: queried %+v, stored %+v and announced %+v committees differ", e, p.queried, p.stored, p.announced)
		}
	}
	return exec, stor
}

// noCommittees checks that the runtime has no committee, by query and GetCommittee.
func (s *scenario) noCommittees(e int64, rt *registryapi.Runtime) {
	s.t.Helper()
	if cs := queryCommittees(s.t, s.c, rt.ID); len(cs) != 0 {
		s.t.Fatalf("epoch %d: queried committees %+v, want none", e, cs)
	}
	for _, k := range []api.CommitteeKind{api.KindExecutor, api.KindStorage} {
		if c := s.stored(rt, k); c != nil {
			s.t.Fatalf("epoch %d: stored %+v, want none", e, c)
		}
	}
}

func sameMembers(a, b *api.Committee) bool {
	if a.Kind != b.Kind || a.ValidFor != b.ValidFor || len(a.Members) != len(b.Members) {
		return false
	}
	for i := range a.Members {
		if a.Members[i] != b.Members[i] {
			return false
		}
	}
	return true
}

func memberSet(c *api.Committee) map[signature.PublicKey]bool {
	out := map[signature.PublicKey]bool{}
	for _, m := range c.Members {
		out[m.PublicKey] = true
	}
	return out
}

func ids(idx ...int) []signature.PublicKey {
	var out []signature.PublicKey
	for _, i := range idx {
		out = append(out, memchain.TestNodeSigner(i).Public())
	}
	return out
}

func indices(lo, hi int) []int {
	var out []int
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

// exactly fails unless the committee's members are exactly the given nodes.
func exactly(t *testing.T, e int64, c *api.Committee, want ...signature.PublicKey) {
	t.Helper()
	got := memberSet(c)
	if len(got) != len(c.Members) || len(got) != len(want) {
		t.Fatalf("epoch %d: members %+v, want %v", e, c.Members, want)
	}
	for _, id := range want {
		if !got[id] {
			t.Fatalf("epoch %d: members %+v lack %s", e, c.Members, id)
		}
	}
}

var v1 = version.Version{Major: 1}

func TestANodeRegisteredMidEpochJoinsTheCommitteesOnlyAtTheNextEpochTransition(t *testing.T) {
	e := memchain.TestSigner("account", 0).Public()
	rt := memchain.TestRuntime(0, e, 0)
	rt.Storage.GroupSize = 2
	nodes := map[int]*node.Node{
		0: memchain.TestNode(0, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		1: memchain.TestNode(1, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		5: memchain.TestNode(5, e, node.RoleStorage, 10, memchain.NodeRuntime(rt, v1)),
		6: memchain.TestNode(6, e, node.RoleStorage, 10, memchain.NodeRuntime(rt, v1)),
	}
	s := newScenario(t, rt, []scenarioEntity{{Account: 0, Listed: indices(0, 8)}}, nodes)

	// Epoch 0: two executors fill the workers; no backup is available.
	res := s.elected(0, rt)
	exec, _ := s.committees(0, rt, res)
	if res.EligibleExecutors != 2 || len(exec.Workers()) != 2 || len(exec.Backups()) != 0 {
		t.Fatalf("epoch 0: %+v", res)
	}
	exactly(t, 0, exec, ids(0, 1)...)

	// Node 2 registers in epoch 0: no election runs and the stored committees stay.
	reg := s.registerNode(0, 2, memchain.TestNode(2, e, node.RoleCompute, 5, memchain.NodeRuntime(rt, v1)))
	if got := electionEvents(t, reg); len(got) != 0 {
		t.Fatalf("a registration announced elections %+v", got)
	}
	if got := s.stored(rt, api.KindExecutor); !sameMembers(got, exec) {
		t.Fatalf("epoch 0: the executor committee changed mid-epoch: %+v", got)
	}

	// Epoch 1: node 2 is eligible and becomes the backup or a worker.
	res = s.elected(1, rt)
	exec, _ = s.committees(1, rt, res)
	if res.EligibleExecutors != 3 || len(exec.Workers()) != 2 || len(exec.Backups()) != 1 {
		t.Fatalf("epoch 1: %+v", res)
	}
	exactly(t, 1, exec, ids(0, 1, 2)...)

	// A storage node and a compute node both join in epoch 1: from epoch 2 there are four
	// eligible executors (one left out: 2 workers + 1 backup) and three storage nodes.
	s.registerNode(0, 3, memchain.TestNode(3, e, node.RoleCompute, 6, memchain.NodeRuntime(rt, v1)))
	s.registerNode(0, 7, memchain.TestNode(7, e, node.RoleStorage, 6, memchain.NodeRuntime(rt, v1)))
	for epoch := int64(2); epoch <= 4; epoch++ {
		res = s.elected(epoch, rt)
		exec, stor := s.committees(epoch, rt, res)
		if res.EligibleExecutors != 4 || res.EligibleStorage != 3 || len(exec.Members) != 3 || len(stor.Workers()) != 2 {
			t.Fatalf("epoch %d: %+v", epoch, res)
		}
		all := map[signature.PublicKey]bool{}
		for _, id := range ids(0, 1, 2, 3) {
			all[id] = true
		}
		for _, m := range exec.Members {
			if !all[m.PublicKey] {
				t.Fatalf("epoch %d: executor %s was never registered as one", epoch, m.PublicKey)
			}
		}
	}
}

func TestNodesLeaveTheCommitteesTheEpochAfterTheyExpireTooFewLeftSuspendTheRuntimeAndANewNodeRevivesIt(t *testing.T) {
	e := memchain.TestSigner("account", 0).Public()
	rt := memchain.TestRuntime(0, e, 0)
	nodes := map[int]*node.Node{
		0: memchain.TestNode(0, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		1: memchain.TestNode(1, e, node.RoleCompute, 3, memchain.NodeRuntime(rt, v1)),
		2: memchain.TestNode(2, e, node.RoleCompute, 1, memchain.NodeRuntime(rt, v1)),
		3: memchain.TestNode(3, e, node.RoleCompute, 2, memchain.NodeRuntime(rt, v1)),
		4: memchain.TestNode(4, e, node.RoleStorage, 10, memchain.NodeRuntime(rt, v1)),
	}
	s := newScenario(t, rt, []scenarioEntity{{Account: 0, Listed: indices(0, 8)}}, nodes)

	// The executor candidates live in each epoch: a node with expiration x serves through
	// epoch x and is gone from epoch x+1.
	live := map[int64][]int{0: {0, 1, 2, 3}, 1: {0, 1, 2, 3}, 2: {0, 1, 3}, 3: {0, 1}}
	for epoch := int64(0); epoch <= 3; epoch++ {
		res := s.elected(epoch, rt)
		exec, stor := s.committees(epoch, rt, res)
		want := live[epoch]
		if int(res.EligibleExecutors) != len(want) || res.EligibleStorage != 1 {
			t.Fatalf("epoch %d: %+v, want %d eligible executors", epoch, res, len(want))
		}
		allowed := memberSet(&api.Committee{})
		for _, id := range ids(want...) {
			allowed[id] = true
		}
		for _, m := range exec.Members {
			if !allowed[m.PublicKey] {
				t.Fatalf("epoch %d: expired node %s elected", epoch, m.PublicKey)
			}
		}
		if len(exec.Members) != min(3, len(want)) {
			t.Fatalf("epoch %d: executor committee %+v", epoch, exec.Members)
		}
		exactly(t, epoch, stor, ids(4)...)
		if epoch == 3 {
			exactly(t, epoch, exec, ids(0, 1)...)
		}
	}

	// Epoch 4: node 1 has expired too; one executor is fewer than the group size, so no
	// committee is elected, the stored ones are removed and the registry suspends the runtime.
	res := s.elected(4, rt)
	if res.Outcome != api.OutcomeTooFewExecutors || res.EligibleExecutors != 1 || res.Executor != nil || res.Storage != nil {
		t.Fatalf("epoch 4: %+v", res)
	}
	s.noCommittees(4, rt)
	if !s.suspended(rt) {
		t.Fatal("epoch 4: the runtime is not suspended")
	}

	// Epoch 5: node 0 is still registered, so the registry resumes the runtime for the
	// election, which again finds too few executors and suspends it; no committees.
	res = s.elected(5, rt)
	if res.Outcome != api.OutcomeTooFewExecutors || res.EligibleExecutors != 1 {
		t.Fatalf("epoch 5: %+v", res)
	}
	s.noCommittees(5, rt)
	if !s.suspended(rt) {
		t.Fatal("epoch 5: the runtime is not suspended")
	}

	// A new executor registers in epoch 5: from epoch 6 the runtime is elected again.
	s.registerNode(0, 5, memchain.TestNode(5, e, node.RoleCompute, 9, memchain.NodeRuntime(rt, v1)))
	res = s.elected(6, rt)
	exec, _ := s.committees(6, rt, res)
	exactly(t, 6, exec, ids(0, 5)...)
	if s.suspended(rt) {
		t.Fatal("epoch 6: the runtime is still suspended")
	}
}

func TestAFrozenNodeIsElectedNowhereUntilItsFreezeEndsAndTheEpochsCommitteesStayUntilThen(t *testing.T) {
	e := memchain.TestSigner("account", 0).Public()
	rt := memchain.TestRuntime(0, e, 0)
	nodes := map[int]*node.Node{
		0: memchain.TestNode(0, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		1: memchain.TestNode(1, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		2: memchain.TestNode(2, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		3: memchain.TestNode(3, e, node.RoleStorage, 10, memchain.NodeRuntime(rt, v1)),
		4: memchain.TestNode(4, e, node.RoleStorage, 10, memchain.NodeRuntime(rt, v1)),
	}
	s := newScenario(t, rt, []scenarioEntity{{Account: 0, Listed: indices(0, 8)}}, nodes)

	res := s.elected(0, rt)
	exec0, stor0 := s.committees(0, rt, res)
	if res.EligibleExecutors != 3 || res.EligibleStorage != 2 {
		t.Fatalf("epoch 0: %+v", res)
	}
	exactly(t, 0, exec0, ids(0, 1, 2)...)
	storMember := stor0.Workers()[0]

	// In epoch 0, freeze compute node 0 and the storage member until epoch 2 (exclusive).
	s.freeze(memchain.TestNodeSigner(0).Public(), 2)
	s.freeze(storMember, 2)
	// The current epoch's committees are not re-elected.
	if got := s.stored(rt, api.KindExecutor); !sameMembers(got, exec0) {
		t.Fatalf("epoch 0: the executor committee changed after a freeze: %+v", got)
	}
	if got := s.stored(rt, api.KindStorage); !sameMembers(got, stor0) {
		t.Fatalf("epoch 0: the storage committee changed after a freeze: %+v", got)
	}

	otherStorage := ids(3)[0]
	if storMember == otherStorage {
		otherStorage = ids(4)[0]
	}
	// Epoch 1: the frozen nodes are left out; the rest fill the committees.
	res = s.elected(1, rt)
	exec, stor := s.committees(1, rt, res)
	if res.EligibleExecutors != 2 || res.EligibleStorage != 1 || len(exec.Workers()) != 2 || len(exec.Backups()) != 0 {
		t.Fatalf("epoch 1: %+v", res)
	}
	exactly(t, 1, exec, ids(1, 2)...)
	exactly(t, 1, stor, otherStorage)

	// Epoch 2 on: the freeze has ended; both nodes are eligible again.
	for epoch := int64(2); epoch <= 3; epoch++ {
		res = s.elected(epoch, rt)
		exec, _ = s.committees(epoch, rt, res)
		if res.EligibleExecutors != 3 || res.EligibleStorage != 2 {
			t.Fatalf("epoch %d: %+v", epoch, res)
		}
		exactly(t, epoch, exec, ids(0, 1, 2)...)
	}
}

func TestAFrozenExecutorThatLeavesTooFewSuspendsTheRuntimeUntilItThaws(t *testing.T) {
	e := memchain.TestSigner("account", 0).Public()
	rt := memchain.TestRuntime(0, e, 0)
	nodes := map[int]*node.Node{
		0: memchain.TestNode(0, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		1: memchain.TestNode(1, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		2: memchain.TestNode(2, e, node.RoleStorage, 10, memchain.NodeRuntime(rt, v1)),
	}
	s := newScenario(t, rt, []scenarioEntity{{Account: 0, Listed: indices(0, 8)}}, nodes)
	s.committees(0, rt, s.elected(0, rt))

	s.freeze(memchain.TestNodeSigner(0).Public(), 2)
	res := s.elected(1, rt)
	if res.Outcome != api.OutcomeTooFewExecutors || res.EligibleExecutors != 1 {
		t.Fatalf("epoch 1: %+v", res)
	}
	s.noCommittees(1, rt)
	if !s.suspended(rt) {
		t.Fatal("epoch 1: the runtime is not suspended")
	}

	// Epoch 2: node 0 has thawed; the registry resumes the runtime and it is elected again.
	got := s.toEpoch(2)
	if len(got) != 1 || !got[0].Elected() || got[0].EligibleExecutors != 2 {
		t.Fatalf("epoch 2: announced %+v", got)
	}
	exec, _ := s.committees(2, rt, got[0])
	exactly(t, 2, exec, ids(0, 1)...)
	if s.suspended(rt) {
		t.Fatal("epoch 2: the runtime is still suspended")
	}
}

func TestAnEntityOverItsExecutorLimitGetsAtMostMaxNodesPerEntitySeatsEveryEpoch(t *testing.T) {
	a := memchain.TestSigner("account", 0).Public()
	b := memchain.TestSigner("account", 1).Public()
	c := memchain.TestSigner("account", 2).Public()
	rt := memchain.TestRuntime(0, a, 0)
	rt.Constraints.Executor.MaxNodesPerEntity = 1
	nodes := map[int]*node.Node{
		// Entity a: four executors and the storage node.
		0: memchain.TestNode(0, a, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		1: memchain.TestNode(1, a, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		2: memchain.TestNode(2, a, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		3: memchain.TestNode(3, a, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		4: memchain.TestNode(4, a, node.RoleStorage, 10, memchain.NodeRuntime(rt, v1)),
		// Entity b: one executor, expiring at epoch 3.
		8: memchain.TestNode(8, b, node.RoleCompute, 3, memchain.NodeRuntime(rt, v1)),
	}
	s := newScenario(t, rt, []scenarioEntity{
		{Account: 0, Listed: indices(0, 8)},
		{Account: 1, Listed: indices(8, 12)},
		{Account: 2, Listed: indices(12, 16)},
	}, nodes)
	entityOf := map[signature.PublicKey]signature.PublicKey{}
	for _, n := range nodes {
		entityOf[n.ID] = n.EntityID
	}
	// seats checks that no entity has more than one executor seat and returns the seats.
	seats := func(epoch int64, exec *api.Committee) map[signature.PublicKey]int {
		t.Helper()
		out := map[signature.PublicKey]int{}
		for _, m := range exec.Members {
			out[entityOf[m.PublicKey]]++
		}
		for ent, n := range out {
			if n > 1 {
				t.Fatalf("epoch %d: entity %s has %d executor seats: %+v", epoch, ent, n, exec.Members)
			}
		}
		return out
	}

	// Epochs 0..1: a's four executors count once; a and b take one worker seat each and no
	// backup is left, whichever of a's nodes the entropy picks.
	for epoch := int64(0); epoch <= 1; epoch++ {
		res := s.elected(epoch, rt)
		exec, _ := s.committees(epoch, rt, res)
		if res.EligibleExecutors != 2 || len(exec.Workers()) != 2 || len(exec.Backups()) != 0 {
			t.Fatalf("epoch %d: %+v", epoch, res)
		}
		if got := seats(epoch, exec); got[a] != 1 || got[b] != 1 {
			t.Fatalf("epoch %d: seats %v", epoch, got)
		}
	}

	// Entity c's node joins in epoch 1: from epoch 2, three entities fill 2 workers and 1 backup.
	s.registerNode(2, 12, memchain.TestNode(12, c, node.RoleCompute, 8, memchain.NodeRuntime(rt, v1)))
	entityOf[ids(12)[0]] = c
	for epoch := int64(2); epoch <= 3; epoch++ {
		res := s.elected(epoch, rt)
		exec, _ := s.committees(epoch, rt, res)
		if res.EligibleExecutors != 3 || len(exec.Workers()) != 2 || len(exec.Backups()) != 1 {
			t.Fatalf("epoch %d: %+v", epoch, res)
		}
		if got := seats(epoch, exec); got[a] != 1 || got[b] != 1 || got[c] != 1 {
			t.Fatalf("epoch %d: seats %v", epoch, got)
		}
	}

	// Epoch 4: b's node has expired; a and c still fill the workers, no backup.
	res := s.elected(4, rt)
	exec, _ := s.committees(4, rt, res)
	if res.EligibleExecutors != 2 || len(exec.Workers()) != 2 || len(exec.Backups()) != 0 {
		t.Fatalf("epoch 4: %+v", res)
	}
	if got := seats(4, exec); got[a] != 1 || got[c] != 1 {
		t.Fatalf("epoch 4: seats %v", got)
	}
}

func TestAnEntityOverItsExecutorLimitCannotFillACommitteeAloneAndTheRuntimeIsSuspended(t *testing.T) {
	a := memchain.TestSigner("account", 0).Public()
	b := memchain.TestSigner("account", 1).Public()
	rt := memchain.TestRuntime(0, a, 0)
	rt.Constraints.Executor.MaxNodesPerEntity = 1
	nodes := map[int]*node.Node{
		0: memchain.TestNode(0, a, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		1: memchain.TestNode(1, a, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		2: memchain.TestNode(2, a, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		4: memchain.TestNode(4, a, node.RoleStorage, 10, memchain.NodeRuntime(rt, v1)),
		8: memchain.TestNode(8, b, node.RoleCompute, 1, memchain.NodeRuntime(rt, v1)),
	}
	s := newScenario(t, rt, []scenarioEntity{{Account: 0, Listed: indices(0, 8)}, {Account: 1, Listed: indices(8, 12)}}, nodes)
	for epoch := int64(0); epoch <= 1; epoch++ {
		res := s.elected(epoch, rt)
		exec, _ := s.committees(epoch, rt, res)
		if res.EligibleExecutors != 2 || len(exec.Members) != 2 || !memberSet(exec)[ids(8)[0]] {
			t.Fatalf("epoch %d: %+v", epoch, res)
		}
	}
	// Epoch 2: only a's three executors are left, counting as one: too few for 2 workers.
	res := s.elected(2, rt)
	if res.Outcome != api.OutcomeTooFewExecutors || res.EligibleExecutors != 1 {
		t.Fatalf("epoch 2: %+v", res)
	}
	s.noCommittees(2, rt)
	if !s.suspended(rt) {
		t.Fatal("epoch 2: the runtime is not suspended")
	}
}

func TestNodesThatReRegisterWithTheNewVersionKeepTheirSeatsFromValidFromWhileOldOnlyNodesDrop(t *testing.T) {
	e := memchain.TestSigner("account", 0).Public()
	rt := memchain.TestRuntime(0, e, 0)
	v2 := version.Version{Major: 2}
	rt.Deployments = append(rt.Deployments, registryapi.VersionInfo{Version: v2, ValidFrom: 3, BundleChecksum: memchain.TestBundle(rt.ID, v2)})
	nodes := map[int]*node.Node{
		0: memchain.TestNode(0, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		1: memchain.TestNode(1, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		2: memchain.TestNode(2, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)),
		3: memchain.TestNode(3, e, node.RoleStorage, 10, memchain.NodeRuntime(rt, v1)),
	}
	s := newScenario(t, rt, []scenarioEntity{{Account: 0, Listed: indices(0, 8)}}, nodes)
	s.committees(0, rt, s.elected(0, rt))

	// In epoch 0, nodes 0 and 1 re-register running both versions; node 2 stays on 1.0.0.
	for _, i := range []int{0, 1} {
		s.registerNode(0, i, memchain.TestNode(i, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1), memchain.NodeRuntime(rt, v2)))
	}
	for epoch := int64(1); epoch <= 4; epoch++ {
		res := s.elected(epoch, rt)
		exec, stor := s.committees(epoch, rt, res)
		if epoch < 3 {
			// Before valid_from: every node runs 1.0.0.
			if res.EligibleExecutors != 3 {
				t.Fatalf("epoch %d: %+v", epoch, res)
			}
			exactly(t, epoch, exec, ids(0, 1, 2)...)
		} else {
			// From valid_from: only the nodes with 2.0.0 entries.
			if res.EligibleExecutors != 2 || len(exec.Backups()) != 0 {
				t.Fatalf("epoch %d: %+v", epoch, res)
			}
			exactly(t, epoch, exec, ids(0, 1)...)
		}
		// The storage node only has 1.0.0 and keeps its seat.
		exactly(t, epoch, stor, ids(3)...)
	}
}
