package election

import (
	"fmt"
	"testing"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
	registry "github.com/atoll-project/atoll/consensus/registry/api"
	scheduler "github.com/atoll-project/atoll/consensus/scheduler/api"
)

var (
	testEntropy = hash.Digest([]byte("atoll election test entropy"))
	testRuntime = namespace.Namespace(hash.Digest([]byte("atoll election test runtime")))
)

// key returns the deterministic public key named name (derived like a signer's seed, but
// without Ed25519: elections only compare keys).
func key(name string) signature.PublicKey {
	return signature.PublicKey(hash.Digest([]byte("key " + name)))
}

func bundle(major uint16) hash.Hash { return hash.Digest([]byte(fmt.Sprintf("bundle %d", major))) }

// runtime returns a descriptor with version 1 valid from epoch 0 and version 2 from epoch
// 10: 3 workers, 2 backups, 2 storage nodes, no constraints.
func runtime() *registry.Runtime {
	return &registry.Runtime{
		ID:       testRuntime,
		EntityID: key("owner"),
		Kind:     registry.KindCompute,
		Executor: registry.ExecutorParameters{GroupSize: 3, GroupBackupSize: 2, AllowedStragglers: 1, RoundTimeout: 10},
		Storage:  registry.StorageParameters{GroupSize: 2, MinWriteReplication: 1, MaxApplyWriteLogEntries: 100, MaxApplyOps: 2},
		Deployments: []registry.VersionInfo{
			{Version: version.Version{Major: 1}, ValidFrom: 0, BundleChecksum: bundle(1)},
			{Version: version.Version{Major: 2}, ValidFrom: 10, BundleChecksum: bundle(2)},
		},
	}
}

// candidate returns an eligible candidate "node <i>" of entity "entity <entity>" with roles
// and an entry for each of the given major versions of the test runtime.
func candidate(i, entity int, roles node.RolesMask, majors ...uint16) Candidate {
	n := &node.Node{
		ID:         key(fmt.Sprintf("node %d", i)),
		EntityID:   key(fmt.Sprintf("entity %d", entity)),
		Expiration: 100,
		Roles:      roles,
	}
	for _, m := range majors {
		n.Runtimes = append(n.Runtimes, node.Runtime{ID: testRuntime, Version: version.Version{Major: m}, BundleChecksum: bundle(m)})
	}
	return Candidate{Node: n, StakeOK: true}
}

// candidates returns n eligible compute+storage candidates on version 1, node i in entity
// i mod entities.
func candidates(n, entities int) []Candidate {
	out := make([]Candidate, n)
	for i := range out {
		out[i] = candidate(i, i%entities, node.RoleCompute|node.RoleStorage, 1)
	}
	return out
}

// names maps the test keys back to their names, for readable failures and golden vectors.
func names(ids []signature.PublicKey) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "?"
		for j := 0; j < 64; j++ {
			if key(fmt.Sprintf("node %d", j)) == id {
				out[i] = fmt.Sprintf("node %d", j)
			}
		}
	}
	return out
}

func mustElect(t testing.TB, in *Input) *scheduler.ElectionResult {
	t.Helper()
	res, err := Elect(in)
	if err != nil {
		t.Fatalf("Elect: %v", err)
	}
	return res
}

func input(rt *registry.Runtime, epoch beacon.EpochTime, cs []Candidate) *Input {
	return &Input{Entropy: testEntropy, Epoch: epoch, Runtime: rt, Candidates: cs}
}

func epochOf(e uint64) beacon.EpochTime { return beacon.EpochTime(e) }
