package api

import (
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
)

// testGenesis returns a genesis section with one entity, its runtime and two of its nodes.
func testGenesis(t *testing.T) *Genesis {
	t.Helper()
	g := &Genesis{Params: *testParams()}
	e := &Entity{ID: testKey(t, "entity"), Nodes: []signature.PublicKey{testKey(t, "node"), testKey(t, "node 2")}}
	se, err := SignEntity(testSigner(t, "entity"), GenesisEntitySignatureContext.Unbound(), e)
	if err != nil {
		t.Fatal(err)
	}
	g.Entities = append(g.Entities, *se)
	sr, err := SignGenesisRuntime(testSigner(t, "entity"), validRuntime(t))
	if err != nil {
		t.Fatal(err)
	}
	g.Runtimes = append(g.Runtimes, *sr)
	n1 := testNode(t)
	n1.Expiration = 5
	n2 := testNode(t)
	n2.ID, n2.Consensus.ID, n2.TLS.PubKey, n2.Expiration = testKey(t, "node 2"), testKey(t, "consensus 2"), testKey(t, "tls 2"), 5
	g.Nodes = append(g.Nodes, *signNode(t, "node", n1), *signNode(t, "node 2", n2))
	return g
}

func signNode(t *testing.T, signer string, n *node.Node) *signature.Signed {
	s, err := node.Sign(testSigner(t, signer), node.GenesisSignatureContext.Unbound(), n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAValidGenesisOpensInDocumentOrder(t *testing.T) {
	g := testGenesis(t)
	g.SuspendedRuntimes = []namespace.Namespace{testRuntimeID("rt")}
	st, err := g.Open(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Entities) != 1 || len(st.Runtimes) != 1 || len(st.Nodes) != 2 || !st.Suspended[testRuntimeID("rt")] {
		t.Errorf("state %+v", st)
	}
	if st.Nodes[1].ID != testKey(t, "node 2") {
		t.Error("nodes out of document order")
	}
}

func TestGenesisSanityCheckRejectsBrokenSections(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(t *testing.T, g *Genesis)
		want   error
	}{
		{"bad parameters", func(_ *testing.T, g *Genesis) { g.Params.MinDeploymentNotice = 1 }, ErrInvalidParameters},
		{"an entity listed twice", func(_ *testing.T, g *Genesis) { g.Entities = append(g.Entities, g.Entities[0]) }, ErrInvalidArgument},
		{"an entity signed for a chain", func(t *testing.T, g *Genesis) {
			s, err := SignEntity(testSigner(t, "entity"), RegisterEntitySignatureContext.ForChain(testChain), &Entity{ID: testKey(t, "entity")})
			if err != nil {
				t.Fatal(err)
			}
			g.Entities[0] = *s
		}, ErrInvalidSignature},
		{"a runtime of an unknown entity", func(t *testing.T, g *Genesis) {
			rt := validRuntime(t)
			rt.EntityID = testKey(t, "stranger")
			s, err := SignGenesisRuntime(testSigner(t, "stranger"), rt)
			if err != nil {
				t.Fatal(err)
			}
			g.Runtimes[0] = *s
		}, ErrNoSuchEntity},
		{"a runtime listed twice", func(_ *testing.T, g *Genesis) { g.Runtimes = append(g.Runtimes, g.Runtimes[0]) }, ErrInvalidArgument},
		{"an invalid runtime", func(t *testing.T, g *Genesis) {
			rt := validRuntime(t)
			rt.Executor.AllowedStragglers = 2
			s, err := SignGenesisRuntime(testSigner(t, "entity"), rt)
			if err != nil {
				t.Fatal(err)
			}
			g.Runtimes[0] = *s
		}, ErrInvalidRuntime},
		{"a runtime signed by another key", func(t *testing.T, g *Genesis) {
			s, err := signature.SignBlob(testSigner(t, "node"), GenesisRuntimeSignatureContext.Unbound(), validRuntime(t))
			if err != nil {
				t.Fatal(err)
			}
			g.Runtimes[0] = *s
		}, ErrInvalidSignature},
		{"an unknown suspended runtime", func(t *testing.T, g *Genesis) { g.SuspendedRuntimes = []namespace.Namespace{testRuntimeID("x")} }, ErrInvalidArgument},
		{"a node listed twice", func(_ *testing.T, g *Genesis) { g.Nodes = append(g.Nodes, g.Nodes[0]) }, ErrInvalidArgument},
		{"two nodes sharing a TLS key", func(t *testing.T, g *Genesis) {
			n2 := testNode(t)
			n2.ID, n2.Consensus.ID, n2.Expiration = testKey(t, "node 2"), testKey(t, "consensus 2"), 5
			g.Nodes[1] = *signNode(t, "node 2", n2)
		}, ErrKeyInUse},
		{"a node of a runtime's whitelist over its limit", func(t *testing.T, g *Genesis) {
			rt := validRuntime(t)
			rt.AdmissionPolicy = whitelist(t, map[node.RolesMask]uint16{node.RoleCompute: 1})
			s, err := SignGenesisRuntime(testSigner(t, "entity"), rt)
			if err != nil {
				t.Fatal(err)
			}
			g.Runtimes[0] = *s
		}, ErrNotAdmitted},
		{"a node expiring beyond max_node_expiration", func(t *testing.T, g *Genesis) {
			n := testNode(t)
			n.Expiration = 11
			g.Nodes[0] = *signNode(t, "node", n)
		}, ErrInvalidExpiration},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := testGenesis(t)
			tc.mutate(t, g)
			if err := g.SanityCheck(0); !errors.Is(err, tc.want) {
				t.Fatalf("SanityCheck = %v, want %v", err, tc.want)
			}
		})
	}
}
