package scheduler_test

import (
	"testing"

	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/genesis"
	"github.com/atoll-project/atoll/consensus/memchain"
	registryapi "github.com/atoll-project/atoll/consensus/registry/api"
	"github.com/atoll-project/atoll/consensus/scheduler"
	"github.com/atoll-project/atoll/consensus/scheduler/api"
)

const epochInterval = 10

// chainWith starts a memchain whose genesis registers entity account 0 (listing nodes), the
// runtime rt of that entity and the nodes, each signed by memchain.TestNodeSigner(i).
func chainWith(t *testing.T, rt *registryapi.Runtime, nodes []*node.Node) (*memchain.Fixture, *memchain.Chain) {
	t.Helper()
	e := memchain.TestSigner("account", 0)
	f, err := memchain.NewFixture(memchain.FixtureParams{
		Validators: 1, Accounts: 1, Balance: 1000, SelfEscrow: 1000, EpochInterval: epochInterval,
		Tweak: func(d *genesis.Document) {
			g := memchain.GenesisRegistry{Runtimes: []memchain.GenesisRuntime{{Signer: e, Runtime: rt}}}
			var listed []signature.PublicKey
			for i, n := range nodes {
				listed = append(listed, n.ID)
				g.Nodes = append(g.Nodes, memchain.GenesisNode{Signer: memchain.TestNodeSigner(i), Node: n})
			}
			g.Entities = []memchain.GenesisEntity{{Signer: e, Nodes: listed}}
			memchain.AddGenesisRegistry(d, g)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.NewChain()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return f, c
}

func toEpoch(t *testing.T, c *memchain.Chain, e int64) *memchain.BlockResult {
	t.Helper()
	var last *memchain.BlockResult
	for c.Height() < e*epochInterval || last == nil && c.Height() == 0 {
		res, err := c.Deliver()
		if err != nil {
			t.Fatal(err)
		}
		last = res
	}
	return last
}

func queryCommittees(t *testing.T, c *memchain.Chain, rt [32]byte) []api.Committee {
	t.Helper()
	var out []api.Committee
	if err := c.Query(api.QueryCommittees, api.RuntimeQuery{RuntimeID: rt}, &out, 0); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestElectionsAreStoredQueryableAndAnnouncedAtEveryEpochTransition(t *testing.T) {
	e := memchain.TestSigner("account", 0).Public()
	rt := memchain.TestRuntime(0, e, 0)
	v1 := version.Version{Major: 1}
	var nodes []*node.Node
	for i := 0; i < 4; i++ {
		nodes = append(nodes, memchain.TestNode(i, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1)))
	}
	nodes = append(nodes, memchain.TestNode(4, e, node.RoleStorage, 10, memchain.NodeRuntime(rt, v1)))
	_, c := chainWith(t, rt, nodes)
	for epoch := int64(0); epoch < 3; epoch++ {
		res := toEpoch(t, c, epoch)
		var announced []api.ElectionResult
		for _, ev := range res.Events {
			if ev.Type != (api.ElectionResult{}).EventKind() {
				continue
			}
			var r api.ElectionResult
			if err := consensus.DecodeEvent(ev, &r); err != nil {
				t.Fatal(err)
			}
			announced = append(announced, r)
		}
		if len(announced) != 1 || !announced[0].Elected() || int64(announced[0].Epoch) != epoch {
			t.Fatalf("epoch %d: announced %+v", epoch, announced)
		}
		cs := queryCommittees(t, c, rt.ID)
		if len(cs) != 2 || cs[0].Kind != api.KindExecutor || cs[1].Kind != api.KindStorage {
			t.Fatalf("epoch %d: committees %+v", epoch, cs)
		}
		for _, cm := range cs {
			if err := cm.ValidateBasic(); err != nil || int64(cm.ValidFor) != epoch {
				t.Fatalf("epoch %d: committee %+v: %v", epoch, cm, err)
			}
		}
		if len(cs[0].Workers()) != 2 || len(cs[0].Backups()) != 1 || cs[1].Workers()[0] != nodes[4].ID {
			t.Fatalf("epoch %d: committees %+v", epoch, cs)
		}
		var stored *api.Committee
		if err := c.ReadState(func(s consensus.State) (err error) {
			stored, err = scheduler.GetCommittee(s, rt.ID, api.KindExecutor)
			return
		}); err != nil || stored == nil || stored.Members[0] != cs[0].Members[0] {
			t.Fatalf("GetCommittee: %+v, %v", stored, err)
		}
		var latest api.ElectionResult
		if err := c.Query(api.QueryElection, api.RuntimeQuery{RuntimeID: rt.ID}, &latest, 0); err != nil || int64(latest.Epoch) != epoch || latest.EligibleExecutors != 4 {
			t.Fatalf("epoch %d: election %+v, %v", epoch, latest, err)
		}
	}
	if _, err := c.Replay(); err != nil {
		t.Fatal(err)
	}
}

func TestExecutorsRunTheActiveDeploymentWhileStorageIsUnaffectedByUpgrades(t *testing.T) {
	e := memchain.TestSigner("account", 0).Public()
	rt := memchain.TestRuntime(0, e, 0)
	v1, v2 := version.Version{Major: 1}, version.Version{Major: 2}
	rt.Deployments = append(rt.Deployments, registryapi.VersionInfo{Version: v2, ValidFrom: 2, BundleChecksum: memchain.TestBundle(rt.ID, v2)})
	var nodes []*node.Node
	onV1, onV2 := map[signature.PublicKey]bool{}, map[signature.PublicKey]bool{}
	for i := 0; i < 3; i++ {
		n := memchain.TestNode(i, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v1))
		onV1[n.ID] = true
		nodes = append(nodes, n)
	}
	for i := 3; i < 6; i++ {
		n := memchain.TestNode(i, e, node.RoleCompute, 10, memchain.NodeRuntime(rt, v2))
		onV2[n.ID] = true
		nodes = append(nodes, n)
	}
	storage := memchain.TestNode(6, e, node.RoleStorage, 10, memchain.NodeRuntime(rt, v1))
	nodes = append(nodes, storage)
	_, c := chainWith(t, rt, nodes)
	for epoch := int64(0); epoch < 4; epoch++ {
		toEpoch(t, c, epoch)
		want := onV1
		if epoch >= 2 {
			want = onV2
		}
		cs := queryCommittees(t, c, rt.ID)
		if len(cs) != 2 {
			t.Fatalf("epoch %d: committees %+v", epoch, cs)
		}
		for _, m := range cs[0].Members {
			if !want[m.PublicKey] {
				t.Fatalf("epoch %d: executor %s does not run the active version", epoch, m.PublicKey)
			}
		}
		if cs[1].Workers()[0] != storage.ID {
			t.Fatalf("epoch %d: storage committee %+v", epoch, cs[1])
		}
	}
}
