package election

import (
	"errors"
	"fmt"
	"testing"

	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
	scheduler "github.com/atoll-project/atoll/consensus/scheduler/api"
)

func TestElectFillsWorkersThenBackupsAndStorage(t *testing.T) {
	res := mustElect(t, input(runtime(), 5, candidates(8, 8)))
	if res.Outcome != scheduler.OutcomeElected || res.EligibleExecutors != 8 || res.EligibleStorage != 8 {
		t.Fatalf("result %+v", res)
	}
	if err := res.Executor.ValidateBasic(); err != nil {
		t.Fatal(err)
	}
	if err := res.Storage.ValidateBasic(); err != nil {
		t.Fatal(err)
	}
	if w, b := res.Executor.Workers(), res.Executor.Backups(); len(w) != 3 || len(b) != 2 {
		t.Errorf("%d workers and %d backups, want 3 and 2", len(w), len(b))
	}
	if s := res.Storage.Workers(); len(s) != 2 || len(res.Storage.Backups()) != 0 {
		t.Errorf("storage committee %v", res.Storage.Members)
	}
	for _, c := range []*scheduler.Committee{res.Executor, res.Storage} {
		if c.RuntimeID != testRuntime || c.ValidFor != 5 {
			t.Errorf("%s committee for %s, epoch %d", c.Kind, c.RuntimeID, c.ValidFor)
		}
	}
}

func TestBackupsComeOnlyFromCandidatesLeftAfterTheWorkers(t *testing.T) {
	// Four candidates, three workers: one backup at most, though two are configured.
	res := mustElect(t, input(runtime(), 5, candidates(4, 4)))
	w, b := res.Executor.Workers(), res.Executor.Backups()
	if len(w) != 3 || len(b) != 1 {
		t.Fatalf("%d workers, %d backups; want 3 and the 1 remaining candidate", len(w), len(b))
	}
	for _, id := range w {
		if id == b[0] {
			t.Fatal("a node is both worker and backup")
		}
	}
	// Exactly the group: no backups at all.
	res = mustElect(t, input(runtime(), 5, candidates(3, 3)))
	if len(res.Executor.Backups()) != 0 {
		t.Errorf("backups %v with no candidate left", names(res.Executor.Backups()))
	}
}

func TestNoCommitteeConditions(t *testing.T) {
	withConstraints := func(f func(rt *registry.Runtime)) *registry.Runtime { rt := runtime(); f(rt); return rt }
	storageOnly := func(n int) []Candidate {
		var cs []Candidate
		for i := 0; i < n; i++ {
			cs = append(cs, candidate(100+i, 100+i, node.RoleStorage, 1))
		}
		return cs
	}
	for _, tc := range []struct {
		name       string
		rt         *registry.Runtime
		epoch      uint64
		cs         []Candidate
		want       scheduler.Outcome
		execs      uint32
		storeNodes uint32
	}{
		{"enough candidates elect both committees", runtime(), 5, candidates(3, 3), scheduler.OutcomeElected, 3, 3},
		{"a runtime whose first deployment is ahead is not elected", withConstraints(func(rt *registry.Runtime) {
			for i := range rt.Deployments {
				rt.Deployments[i].ValidFrom += 20
			}
		}), 5, candidates(8, 8), scheduler.OutcomeNotDeployed, 0, 0},
		{"fewer executors than group_size", runtime(), 5, append(candidates(2, 2), storageOnly(3)...), scheduler.OutcomeTooFewExecutors, 2, 5},
		{"fewer executors than min_pool_size", withConstraints(func(rt *registry.Runtime) { rt.Constraints.Executor.MinPoolSize = 5 }),
			5, candidates(4, 4), scheduler.OutcomeTooFewExecutors, 4, 4},
		{"executors at min_pool_size suffice", withConstraints(func(rt *registry.Runtime) { rt.Constraints.Executor.MinPoolSize = 5 }),
			5, candidates(5, 5), scheduler.OutcomeElected, 5, 5},
		{"a min_pool_size below group_size does not lower the bar", withConstraints(func(rt *registry.Runtime) { rt.Constraints.Executor.MinPoolSize = 1 }),
			5, candidates(2, 2), scheduler.OutcomeTooFewExecutors, 2, 2},
		{"executors beyond the per-entity limit do not count", withConstraints(func(rt *registry.Runtime) { rt.Constraints.Executor.MaxNodesPerEntity = 1 }),
			5, candidates(6, 2), scheduler.OutcomeTooFewExecutors, 2, 6},
		{"fewer storage nodes than storage.group_size", runtime(), 5, func() []Candidate {
			cs := candidates(1, 1)
			for i := 1; i < 4; i++ {
				cs = append(cs, candidate(i, i, node.RoleCompute, 1))
			}
			return cs
		}(), scheduler.OutcomeTooFewStorage, 4, 1},
		{"fewer storage nodes than the storage min_pool_size", withConstraints(func(rt *registry.Runtime) { rt.Constraints.Storage.MinPoolSize = 4 }),
			5, candidates(3, 3), scheduler.OutcomeTooFewStorage, 3, 3},
		{"storage nodes beyond the per-entity limit do not count", withConstraints(func(rt *registry.Runtime) { rt.Constraints.Storage.MaxNodesPerEntity = 1 }),
			5, candidates(4, 1), scheduler.OutcomeTooFewStorage, 4, 1},
		{"too few executors is reported before too few storage nodes", runtime(), 5, candidates(1, 1), scheduler.OutcomeTooFewExecutors, 1, 1},
		{"ineligible candidates do not count", runtime(), 5, func() []Candidate {
			cs := candidates(6, 6)
			cs[0].Frozen, cs[1].StakeOK, cs[2].LivenessExcluded, cs[3].Node.Expiration = true, false, true, 4
			return cs
		}(), scheduler.OutcomeTooFewExecutors, 2, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mustElect(t, input(tc.rt, epochOf(tc.epoch), tc.cs))
			if res.Outcome != tc.want {
				t.Fatalf("outcome %s, want %s", res.Outcome, tc.want)
			}
			if (res.Executor != nil) != res.Elected() || (res.Storage != nil) != res.Elected() {
				t.Errorf("committees %v, %v with outcome %s: both or neither", res.Executor, res.Storage, res.Outcome)
			}
			if res.Suspends() != (tc.want == scheduler.OutcomeTooFewExecutors || tc.want == scheduler.OutcomeTooFewStorage) {
				t.Errorf("Suspends() = %v for %s", res.Suspends(), res.Outcome)
			}
			if tc.want != scheduler.OutcomeNotDeployed && (res.EligibleExecutors != tc.execs || res.EligibleStorage != tc.storeNodes) {
				t.Errorf("eligible %d executors, %d storage; want %d, %d", res.EligibleExecutors, res.EligibleStorage, tc.execs, tc.storeNodes)
			}
		})
	}
}

func TestPerEntityLimitsHoldAcrossWorkersAndBackups(t *testing.T) {
	rt := runtime()
	rt.Constraints.Executor.MaxNodesPerEntity = 2
	rt.Constraints.Storage.MaxNodesPerEntity = 1
	// Entity 0 has six nodes; entities 1 and 2 have one each.
	var cs []Candidate
	for i := 0; i < 6; i++ {
		cs = append(cs, candidate(i, 0, node.RoleCompute|node.RoleStorage, 1))
	}
	cs = append(cs, candidate(6, 1, node.RoleCompute|node.RoleStorage, 1), candidate(7, 2, node.RoleCompute|node.RoleStorage, 1))
	res := mustElect(t, input(rt, 5, cs))
	if res.Outcome != scheduler.OutcomeElected || res.EligibleExecutors != 4 || res.EligibleStorage != 3 {
		t.Fatalf("result %+v", res)
	}
	entityOf := make(map[signature.PublicKey]signature.PublicKey)
	for _, c := range cs {
		entityOf[c.Node.ID] = c.Node.EntityID
	}
	for _, c := range []*scheduler.Committee{res.Executor, res.Storage} {
		per := make(map[signature.PublicKey]int)
		for _, m := range c.Members {
			per[entityOf[m.PublicKey]]++
		}
		limit := int(rt.Constraints.Executor.MaxNodesPerEntity)
		if c.Kind == scheduler.KindStorage {
			limit = int(rt.Constraints.Storage.MaxNodesPerEntity)
		}
		for e, n := range per {
			if n > limit {
				t.Errorf("%s committee has %d members of entity %s, limit %d", c.Kind, n, e, limit)
			}
		}
	}
	if got := len(res.Executor.Members); got != 4 {
		t.Errorf("executor committee of %d, want 3 workers + the 1 backup the limit leaves", got)
	}
}

// The ADR 0013 rule: executors are elected on the active version only, switching exactly at
// valid_from, while the storage committee takes any version.
func TestExecutorsFollowTheActiveDeploymentAndStorageDoesNot(t *testing.T) {
	var cs []Candidate
	for i := 0; i < 4; i++ {
		cs = append(cs, candidate(i, i, node.RoleCompute|node.RoleStorage, 1)) // old version only
	}
	for i := 4; i < 8; i++ {
		cs = append(cs, candidate(i, i, node.RoleCompute|node.RoleStorage, 2)) // new version only
	}
	cs = append(cs, candidate(8, 8, node.RoleCompute, 1, 2)) // both, pre-warmed
	old := map[string]bool{"node 0": true, "node 1": true, "node 2": true, "node 3": true, "node 8": true}
	for _, epoch := range []uint64{0, 9, 10, 11} {
		res := mustElect(t, input(runtime(), epochOf(epoch), cs))
		if !res.Elected() {
			t.Fatalf("epoch %d: %s", epoch, res.Outcome)
		}
		wantOld := epoch < 10
		for _, name := range names(append(res.Executor.Workers(), res.Executor.Backups()...)) {
			if old[name] != wantOld && name != "node 8" {
				t.Errorf("epoch %d: executor %s runs the wrong version", epoch, name)
			}
		}
		storageSame := mustElect(t, input(runtime(), epochOf(epoch), cs)).Storage
		ref := mustElect(t, input(runtime(), 0, cs)).Storage
		if fmt.Sprint(names(storageSame.Workers())) != fmt.Sprint(names(ref.Workers())) {
			t.Errorf("epoch %d: storage committee changed with the deployment: %v vs %v", epoch, names(storageSame.Workers()), names(ref.Workers()))
		}
	}
	// A node on version 2 with another bundle under the same number is never an executor.
	rebuilt := candidate(20, 20, node.RoleCompute, 2)
	rebuilt.Node.Runtimes[0].BundleChecksum = bundle(99)
	if err := CheckExecutor(&rebuilt, runtime(), &runtime().Deployments[1], 10); !errors.Is(err, ErrWrongDeployment) {
		t.Errorf("another bundle under the active version: %v", err)
	}
}

func TestElectRejectsInvalidInput(t *testing.T) {
	zeroGroup := runtime()
	zeroGroup.Executor.GroupSize = 0
	dup := candidates(3, 3)
	dup = append(dup, dup[0])
	for name, in := range map[string]*Input{
		"no input":                 nil,
		"no runtime":               {Entropy: testEntropy},
		"zero group size":          input(zeroGroup, 5, candidates(3, 3)),
		"a candidate without node": input(runtime(), 5, []Candidate{{StakeOK: true}}),
		"a candidate listed twice": input(runtime(), 5, dup),
	} {
		if _, err := Elect(in); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
}

func TestTransactionSchedulerRotatesOverTheWorkers(t *testing.T) {
	res := mustElect(t, input(runtime(), 5, candidates(8, 8)))
	w := res.Executor.Workers()
	for round := uint64(0); round < 7; round++ {
		got, ok := res.Executor.TransactionScheduler(round)
		if !ok || got != w[round%3] {
			t.Errorf("round %d: scheduler %s, want workers[%d]", round, got, round%3)
		}
	}
	if _, ok := (&scheduler.Committee{}).TransactionScheduler(0); ok {
		t.Error("a committee without workers has a scheduler")
	}
	if r, ok := res.Executor.RoleOf(res.Executor.Backups()[0]); !ok || r != scheduler.RoleBackup {
		t.Errorf("RoleOf(first backup) = %s, %v", r, ok)
	}
}
