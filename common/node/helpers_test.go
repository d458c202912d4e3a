package node

import (
	"testing"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
)

var testChain = hash.Digest([]byte("atoll node test chain"))

func testSigner(t testing.TB, name string) *signature.MemorySigner {
	t.Helper()
	seed := hash.Digest([]byte(name))
	s, err := signature.NewSignerFromSeed(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testRuntimeID(name string) namespace.Namespace {
	return namespace.Namespace(hash.Digest([]byte(name)))
}

// validNode returns a valid compute+storage node descriptor signed-for by the "node" signer.
func validNode(t testing.TB) *Node {
	t.Helper()
	return &Node{
		ID:         testSigner(t, "node").Public(),
		EntityID:   testSigner(t, "entity").Public(),
		Expiration: 10,
		TLS: TLSInfo{
			PubKey:    testSigner(t, "tls").Public(),
			Addresses: []string{"127.0.0.1:9100", "node1.example.org:9100"},
		},
		Consensus: ConsensusInfo{
			ID:        testSigner(t, "consensus").Public(),
			Addresses: []string{"0123456789abcdef0123456789abcdef01234567@[::1]:26656"},
		},
		Runtimes: []Runtime{
			{ID: testRuntimeID("rt"), Version: version.Version{Major: 1}, BundleChecksum: hash.Digest([]byte("bundle v1"))},
			{ID: testRuntimeID("rt"), Version: version.Version{Major: 2}, BundleChecksum: hash.Digest([]byte("bundle v2"))},
		},
		Roles:           RoleCompute | RoleStorage,
		SoftwareVersion: "atoll 0.1.0",
	}
}
