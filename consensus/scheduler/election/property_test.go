package election

import (
	"fmt"
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
	scheduler "github.com/atoll-project/atoll/consensus/scheduler/api"
)

// genInput draws a runtime with random sizes and limits and up to 30 candidates with random
// roles, versions, entities and flags.
func genInput(t *rapid.T) *Input {
	rt := runtime()
	rt.Executor.GroupSize = rapid.Uint16Range(1, 6).Draw(t, "group")
	rt.Executor.AllowedStragglers = 0
	rt.Executor.GroupBackupSize = rapid.Uint16Range(0, 5).Draw(t, "backups")
	rt.Storage.GroupSize = rapid.Uint16Range(1, 4).Draw(t, "storage group")
	rt.Constraints.Executor = registry.RoleConstraints{
		MaxNodesPerEntity: rapid.Uint16Range(0, 3).Draw(t, "executor limit"),
		MinPoolSize:       rapid.Uint16Range(0, 8).Draw(t, "executor min pool"),
	}
	rt.Constraints.Storage = registry.RoleConstraints{
		MaxNodesPerEntity: rapid.Uint16Range(0, 3).Draw(t, "storage limit"),
		MinPoolSize:       rapid.Uint16Range(0, 5).Draw(t, "storage min pool"),
	}
	n := rapid.IntRange(0, 30).Draw(t, "candidates")
	entities := rapid.IntRange(1, 6).Draw(t, "entities")
	cs := make([]Candidate, n)
	for i := range cs {
		roles := node.RolesMask(rapid.IntRange(1, 15).Draw(t, fmt.Sprintf("roles %d", i)))
		versions := rapid.SampledFrom([][]uint16{{1}, {2}, {1, 2}, nil}).Draw(t, fmt.Sprintf("versions %d", i))
		c := candidate(i, rapid.IntRange(0, entities-1).Draw(t, fmt.Sprintf("entity %d", i)), roles, versions...)
		c.Frozen = rapid.Float64Range(0, 1).Draw(t, fmt.Sprintf("frozen %d", i)) < 0.1
		c.StakeOK = rapid.Float64Range(0, 1).Draw(t, fmt.Sprintf("stake %d", i)) < 0.9
		c.LivenessExcluded = rapid.Float64Range(0, 1).Draw(t, fmt.Sprintf("liveness %d", i)) < 0.1
		c.Node.Expiration = rapid.Uint64Range(0, 20).Draw(t, fmt.Sprintf("expiration %d", i))
		cs[i] = c
	}
	return &Input{
		Entropy:    hash.Digest([]byte(rapid.String().Draw(t, "entropy"))),
		Epoch:      beacon.EpochTime(rapid.Uint64Range(0, 15).Draw(t, "epoch")),
		Runtime:    rt,
		Candidates: cs,
	}
}

func TestElectionProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genInput(t)
		res, err := Elect(in)
		if err != nil {
			t.Fatal(err)
		}

		// Deterministic, and independent of the candidates' order.
		again, _ := Elect(in)
		perm := rapid.Permutation(in.Candidates).Draw(t, "permutation")
		shuffled, _ := Elect(&Input{Entropy: in.Entropy, Epoch: in.Epoch, Runtime: in.Runtime, Candidates: perm})
		if !reflect.DeepEqual(res, again) || !reflect.DeepEqual(res, shuffled) {
			t.Fatalf("elections differ:\n%+v\n%+v\n%+v", res, again, shuffled)
		}

		// The outcome agrees with a naive count of the eligible candidates.
		rt := in.Runtime
		active := rt.ActiveDeployment(in.Epoch)
		if active == nil {
			if res.Outcome != scheduler.OutcomeNotDeployed {
				t.Fatalf("outcome %s without an active deployment", res.Outcome)
			}
			return
		}
		byID := make(map[signature.PublicKey]*Candidate)
		var execs, stores []*node.Node
		for i := range in.Candidates {
			c := &in.Candidates[i]
			byID[c.Node.ID] = c
			if CheckExecutor(c, rt, active, in.Epoch) == nil {
				execs = append(execs, c.Node)
			}
			if CheckStorage(c, rt, in.Epoch) == nil {
				stores = append(stores, c.Node)
			}
		}
		execPool := naiveCapped(execs, rt.Constraints.Executor.MaxNodesPerEntity)
		storePool := naiveCapped(stores, rt.Constraints.Storage.MaxNodesPerEntity)
		want := scheduler.OutcomeElected
		switch {
		case execPool < max(int(rt.Executor.GroupSize), int(rt.Constraints.Executor.MinPoolSize)):
			want = scheduler.OutcomeTooFewExecutors
		case storePool < max(int(rt.Storage.GroupSize), int(rt.Constraints.Storage.MinPoolSize)):
			want = scheduler.OutcomeTooFewStorage
		}
		if res.Outcome != want {
			t.Fatalf("outcome %s, want %s (pools %d, %d)", res.Outcome, want, execPool, storePool)
		}
		if !res.Elected() {
			if res.Executor != nil || res.Storage != nil {
				t.Fatal("committees without an election")
			}
			return
		}

		for _, c := range []*scheduler.Committee{res.Executor, res.Storage} {
			if err := c.ValidateBasic(); err != nil { // no node twice, workers first
				t.Fatal(err)
			}
		}
		// Sizes: full worker groups; backups up to what the pool leaves.
		if len(res.Executor.Workers()) != int(rt.Executor.GroupSize) || len(res.Storage.Workers()) != int(rt.Storage.GroupSize) {
			t.Fatalf("workers %d / %d, want %d / %d", len(res.Executor.Workers()), len(res.Storage.Workers()), rt.Executor.GroupSize, rt.Storage.GroupSize)
		}
		wantBackups := min(int(rt.Executor.GroupBackupSize), execPool-int(rt.Executor.GroupSize))
		if got := len(res.Executor.Backups()); got != wantBackups {
			t.Fatalf("%d backups, want min(%d, pool %d − group %d) = %d", got, rt.Executor.GroupBackupSize, execPool, rt.Executor.GroupSize, wantBackups)
		}
		// Every member eligible; entity limits respected.
		checkMembers(t, res.Executor, rt.Constraints.Executor.MaxNodesPerEntity, byID, func(c *Candidate) error { return CheckExecutor(c, rt, active, in.Epoch) })
		checkMembers(t, res.Storage, rt.Constraints.Storage.MaxNodesPerEntity, byID, func(c *Candidate) error { return CheckStorage(c, rt, in.Epoch) })
	})
}

func checkMembers(t *rapid.T, c *scheduler.Committee, limit uint16, byID map[signature.PublicKey]*Candidate, check func(*Candidate) error) {
	per := make(map[signature.PublicKey]int)
	for _, m := range c.Members {
		cand := byID[m.PublicKey]
		if cand == nil {
			t.Fatalf("%s committee member %s is no candidate", c.Kind, m.PublicKey)
		}
		if err := check(cand); err != nil {
			t.Fatalf("%s committee member ineligible: %v", c.Kind, err)
		}
		per[cand.Node.EntityID]++
		if limit != 0 && per[cand.Node.EntityID] > int(limit) {
			t.Fatalf("%s committee: entity %s over its limit %d", c.Kind, cand.Node.EntityID, limit)
		}
	}
}

func naiveCapped(nodes []*node.Node, limit uint16) int {
	per := make(map[signature.PublicKey]int)
	for _, n := range nodes {
		per[n.EntityID]++
	}
	total := 0
	for _, k := range per {
		if limit != 0 {
			k = min(k, int(limit))
		}
		total += k
	}
	return total
}

func TestChangingTheEntropyChangesTheOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(13, 40).Draw(t, "n")
		ids := make([]signature.PublicKey, n)
		for i := range ids {
			ids[i] = key(fmt.Sprintf("node %d", i))
		}
		a := hash.Digest([]byte(rapid.String().Draw(t, "a")))
		b := hash.Digest([]byte(rapid.String().Draw(t, "b")))
		if a == b {
			t.Skip("same entropy")
		}
		// 13! > 6·10^9: two entropies giving the same order is a hash failure, not bad luck.
		if reflect.DeepEqual(Order(a, testRuntime, scheduler.KindExecutor, scheduler.RoleWorker, ids), Order(b, testRuntime, scheduler.KindExecutor, scheduler.RoleWorker, ids)) {
			t.Fatal("two entropies gave the same order")
		}
	})
	// Role and kind separate the orders too.
	ids := candidateIDs(20)
	w := Order(testEntropy, testRuntime, scheduler.KindExecutor, scheduler.RoleWorker, ids)
	b := Order(testEntropy, testRuntime, scheduler.KindExecutor, scheduler.RoleBackup, ids)
	s := Order(testEntropy, testRuntime, scheduler.KindStorage, scheduler.RoleWorker, ids)
	if reflect.DeepEqual(w, b) || reflect.DeepEqual(w, s) {
		t.Error("worker, backup and storage orders coincide")
	}
}

func TestChangingTheEntropyChangesTheCommittee(t *testing.T) {
	seen := make(map[string]bool)
	for i := 0; i < 8; i++ {
		in := input(runtime(), 5, candidates(20, 20))
		in.Entropy = hash.Digest([]byte(fmt.Sprintf("entropy %d", i)))
		seen[fmt.Sprint(names(mustElect(t, in).Executor.Workers()))] = true
	}
	if len(seen) < 2 {
		t.Errorf("eight entropies elected %d distinct worker lists", len(seen))
	}
}

func candidateIDs(n int) []signature.PublicKey {
	ids := make([]signature.PublicKey, n)
	for i := range ids {
		ids[i] = key(fmt.Sprintf("node %d", i))
	}
	return ids
}
