package election

import (
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/atoll-project/atoll/common/node"
	scheduler "github.com/atoll-project/atoll/consensus/scheduler/api"
)

// These vectors freeze the election: a change to Rank, the selection order or the entity
// limits changes them, and means every node would elect other committees than the network
// does.

func TestRankGoldenVector(t *testing.T) {
	const want = "b251d24f015a042d0776024516360df096b5a638e7479003c48c6ee8e9bebe7f"
	if got := Rank(testEntropy, testRuntime, scheduler.KindExecutor, scheduler.RoleWorker, key("node 0")).String(); got != want {
		t.Errorf("Rank = %s, want %s", got, want)
	}
	// The documented construction, spelled out with the standard library.
	id := key("node 0")
	h := sha512.New512_256()
	h.Write([]byte("atoll/scheduler: election v1"))
	h.Write(testEntropy[:])
	h.Write(testRuntime[:])
	h.Write([]byte{1, 1}) // executor, worker
	h.Write(id[:])
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("the documented construction gives %s, Rank %s", got, want)
	}
}

func TestElectionGoldenVector(t *testing.T) {
	rt := runtime()
	rt.Executor.GroupSize, rt.Executor.GroupBackupSize, rt.Executor.AllowedStragglers = 4, 3, 1
	rt.Storage.GroupSize = 3
	rt.Constraints.Executor.MaxNodesPerEntity = 2
	rt.Constraints.Storage.MaxNodesPerEntity = 1
	var cs []Candidate
	for i := 0; i < 16; i++ {
		roles := node.RoleCompute | node.RoleStorage
		if i%5 == 4 {
			roles = node.RoleStorage
		}
		cs = append(cs, candidate(i, i%5, roles, 1))
	}
	res := mustElect(t, input(rt, 7, cs))
	got := fmt.Sprintf("workers %v backups %v storage %v", names(res.Executor.Workers()), names(res.Executor.Backups()), names(res.Storage.Workers()))
	const want = "workers [node 12 node 5 node 1 node 8] backups [node 7 node 11 node 3] storage [node 15 node 2 node 9]"
	if got != want {
		t.Errorf("election\n got %s\nwant %s", got, want)
	}
}
