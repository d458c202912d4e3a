package api

import (
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
)

// nodeFixture is the state a node registration is checked against: one entity listing the
// node, the runtimes by ID, key owners and admission counts.
type nodeFixture struct {
	reg      *NodeRegistration
	runtimes map[namespace.Namespace]*Runtime
	owners   map[signature.PublicKey]signature.PublicKey
	counts   map[node.RolesMask]int
	tee      *fakeTEE
}

// fakeTEE accepts attestations equal to "good" and records its calls.
type fakeTEE struct{ calls int }

func (f *fakeTEE) VerifyTEE(rt *Runtime, d *VersionInfo, nodeID signature.PublicKey, c *node.CapabilityTEE) error {
	f.calls++
	if string(c.Attestation) != "good" {
		return errors.New("mock report does not verify")
	}
	return nil
}

func testNode(t testing.TB) *node.Node {
	return &node.Node{
		ID:         testKey(t, "node"),
		EntityID:   testKey(t, "entity"),
		Expiration: 12,
		TLS:        node.TLSInfo{PubKey: testKey(t, "tls"), Addresses: []string{"127.0.0.1:9100"}},
		Consensus:  node.ConsensusInfo{ID: testKey(t, "consensus")},
		Runtimes:   []node.Runtime{{ID: testRuntimeID("rt"), Version: v(1), BundleChecksum: bundle("1.0.0")}},
		Roles:      node.RoleCompute,
	}
}

func newNodeFixture(t testing.TB) *nodeFixture {
	f := &nodeFixture{
		runtimes: map[namespace.Namespace]*Runtime{testRuntimeID("rt"): validRuntime(t)},
		owners:   map[signature.PublicKey]signature.PublicKey{},
		counts:   map[node.RolesMask]int{},
		tee:      &fakeTEE{},
	}
	n := testNode(t)
	f.reg = &NodeRegistration{
		Params:   testParams(),
		Epoch:    10,
		Node:     n,
		Signer:   n.ID,
		Entity:   &Entity{ID: n.EntityID, Nodes: []signature.PublicKey{testKey(t, "other node"), n.ID}},
		Runtime:  func(id namespace.Namespace) *Runtime { return f.runtimes[id] },
		KeyOwner: func(k signature.PublicKey) (signature.PublicKey, bool) { o, ok := f.owners[k]; return o, ok },
		NodesWithRole: func(_ signature.PublicKey, _ namespace.Namespace, role node.RolesMask) int {
			return f.counts[role]
		},
		TEE: f.tee,
	}
	return f
}

func (f *nodeFixture) mockTEERuntime(t testing.TB) {
	f.reg.Params.DebugAllowMockTEE = true
	rt := f.runtimes[testRuntimeID("rt")]
	rt.TEEHardware = node.TEEHardwareMock
	f.reg.Node.Runtimes[0].Capabilities.TEE = &node.CapabilityTEE{Hardware: node.TEEHardwareMock, RAK: testKey(t, "rak"), Attestation: []byte("good")}
}

func whitelist(t testing.TB, limits map[node.RolesMask]uint16) AdmissionPolicy {
	return AdmissionPolicy{EntityWhitelist: &EntityWhitelistPolicy{Entities: map[signature.PublicKey]EntityWhitelistConfig{
		testKey(t, "entity"): {MaxNodes: limits},
	}}}
}

func TestVerifyNodeRegistrationChecksEveryRule(t *testing.T) {
	ok := error(nil)
	for _, tc := range []struct {
		name      string
		setup     func(t *testing.T, f *nodeFixture)
		want      error
		fragments []string
	}{
		{"a listed node of a registered entity is accepted", func(*testing.T, *nodeFixture) {}, ok, nil},
		{"a descriptor signed by another key is rejected", func(t *testing.T, f *nodeFixture) { f.reg.Signer = testKey(t, "entity") },
			ErrInvalidSignature, []string{"signed by"}},
		{"an invalid descriptor is rejected", func(_ *testing.T, f *nodeFixture) { f.reg.Node.Roles = 0 },
			ErrInvalidArgument, []string{"roles"}},
		{"expiration in the current epoch is rejected", func(_ *testing.T, f *nodeFixture) { f.reg.Node.Expiration = 10 },
			ErrInvalidExpiration, []string{"expiration 10 outside (epoch 10, epoch + max_node_expiration 10 = 20]"}},
		{"expiration in the past is rejected", func(_ *testing.T, f *nodeFixture) { f.reg.Node.Expiration = 3 },
			ErrInvalidExpiration, nil},
		{"expiration at epoch + max_node_expiration is accepted", func(_ *testing.T, f *nodeFixture) { f.reg.Node.Expiration = 20 }, ok, nil},
		{"expiration beyond epoch + max_node_expiration is rejected", func(_ *testing.T, f *nodeFixture) { f.reg.Node.Expiration = 21 },
			ErrInvalidExpiration, []string{"= 20]"}},
		{"an unregistered entity is rejected", func(_ *testing.T, f *nodeFixture) { f.reg.Entity = nil },
			ErrNoSuchEntity, nil},
		{"a node its entity does not list is rejected", func(_ *testing.T, f *nodeFixture) { f.reg.Entity.Nodes = f.reg.Entity.Nodes[:1] },
			ErrNodeNotListed, []string{"does not list node"}},
		{"a re-registration under another entity is rejected", func(t *testing.T, f *nodeFixture) {
			prev := testNode(t)
			prev.EntityID = testKey(t, "first entity")
			f.reg.Previous = &NodeRecord{Node: prev, Status: &NodeStatus{}}
		}, ErrNodeUpdateNotAllowed, []string{"belongs to entity"}},
		{"a re-registration of an expired record under another entity is rejected", func(t *testing.T, f *nodeFixture) {
			prev := testNode(t)
			prev.EntityID, prev.Expiration = testKey(t, "first entity"), 2
			f.reg.Previous = &NodeRecord{Node: prev, Status: &NodeStatus{ExpirationProcessed: true}}
		}, ErrNodeUpdateNotAllowed, []string{"while its record exists"}},
		{"a re-registration with another consensus key is rejected", func(t *testing.T, f *nodeFixture) {
			prev := testNode(t)
			prev.Consensus.ID = testKey(t, "old consensus")
			f.reg.Previous = &NodeRecord{Node: prev, Status: &NodeStatus{}}
		}, ErrNodeUpdateNotAllowed, []string{"consensus key"}},
		{"a renewal with a new TLS key is accepted", func(t *testing.T, f *nodeFixture) {
			prev := testNode(t)
			prev.TLS.PubKey = testKey(t, "old tls")
			f.reg.Previous = &NodeRecord{Node: prev, Status: &NodeStatus{}}
			f.owners[prev.ID], f.owners[prev.Consensus.ID] = prev.ID, prev.ID
		}, ok, nil},
		{"a frozen node cannot re-register before the freeze ends", func(t *testing.T, f *nodeFixture) {
			f.reg.Previous = &NodeRecord{Node: testNode(t), Status: &NodeStatus{FreezeEndTime: 11}}
		}, ErrNodeFrozen, []string{"frozen until epoch 11 (now 10)"}},
		{"a node whose freeze has ended may re-register", func(t *testing.T, f *nodeFixture) {
			f.reg.Previous = &NodeRecord{Node: testNode(t), Status: &NodeStatus{FreezeEndTime: 10}}
		}, ok, nil},
		{"a node key used by another node is rejected", func(t *testing.T, f *nodeFixture) { f.owners[f.reg.Node.ID] = testKey(t, "other node") },
			ErrKeyInUse, []string{"node key"}},
		{"a consensus key used by another node is rejected", func(t *testing.T, f *nodeFixture) { f.owners[f.reg.Node.Consensus.ID] = testKey(t, "other node") },
			ErrKeyInUse, []string{"consensus key"}},
		{"a TLS key used by another node is rejected", func(t *testing.T, f *nodeFixture) { f.owners[f.reg.Node.TLS.PubKey] = testKey(t, "other node") },
			ErrKeyInUse, []string{"TLS key"}},
		{"the node's own keys may be reused by its renewal", func(_ *testing.T, f *nodeFixture) {
			for _, k := range f.reg.Node.Keys() {
				f.owners[k] = f.reg.Node.ID
			}
		}, ok, nil},
		{"an unknown runtime is rejected", func(_ *testing.T, f *nodeFixture) { f.reg.Node.Runtimes[0].ID = testRuntimeID("nope") },
			ErrNoSuchRuntime, nil},
		{"a whitelist admits its entity within the role limit", func(t *testing.T, f *nodeFixture) {
			f.runtimes[testRuntimeID("rt")].AdmissionPolicy = whitelist(t, map[node.RolesMask]uint16{node.RoleCompute: 2})
			f.counts[node.RoleCompute] = 1
		}, ok, nil},
		{"a whitelist without limits admits any number of its entity's nodes", func(t *testing.T, f *nodeFixture) {
			f.runtimes[testRuntimeID("rt")].AdmissionPolicy = whitelist(t, nil)
			f.counts[node.RoleCompute] = 1000
		}, ok, nil},
		{"a whitelist refuses an entity it does not list", func(t *testing.T, f *nodeFixture) {
			f.runtimes[testRuntimeID("rt")].AdmissionPolicy = whitelist(t, nil)
			f.runtimes[testRuntimeID("rt")].AdmissionPolicy.EntityWhitelist.Entities = map[signature.PublicKey]EntityWhitelistConfig{testKey(t, "x"): {}}
		}, ErrNotAdmitted, []string{"does not whitelist entity"}},
		{"a whitelist refuses a node over its entity's role limit", func(t *testing.T, f *nodeFixture) {
			f.runtimes[testRuntimeID("rt")].AdmissionPolicy = whitelist(t, map[node.RolesMask]uint16{node.RoleCompute: 2})
			f.counts[node.RoleCompute] = 2
		}, ErrNotAdmitted, []string{"at most 2 compute nodes", "has 2 others"}},
		{"a whitelist refuses a role it has no limit for", func(t *testing.T, f *nodeFixture) {
			f.runtimes[testRuntimeID("rt")].AdmissionPolicy = whitelist(t, map[node.RolesMask]uint16{node.RoleStorage: 2})
		}, ErrNotAdmitted, []string{"admits no compute nodes"}},
		{"a TEE capability on a runtime without TEE is rejected", func(t *testing.T, f *nodeFixture) {
			f.reg.Node.Runtimes[0].Capabilities.TEE = &node.CapabilityTEE{Hardware: node.TEEHardwareMock, RAK: testKey(t, "rak"), Attestation: []byte("good")}
		}, ErrTEEVerificationFailed, []string{"runtime without TEE hardware"}},
		{"a verified TEE capability is accepted", func(t *testing.T, f *nodeFixture) { f.mockTEERuntime(t) }, ok, nil},
		{"a compute node without a TEE capability on a TEE runtime is rejected", func(t *testing.T, f *nodeFixture) {
			f.mockTEERuntime(t)
			f.reg.Node.Runtimes[0].Capabilities.TEE = nil
		}, ErrTEEVerificationFailed, []string{"needs a TEE capability"}},
		{"a storage node needs no TEE capability on a TEE runtime", func(t *testing.T, f *nodeFixture) {
			f.mockTEERuntime(t)
			f.reg.Node.Runtimes[0].Capabilities.TEE = nil
			f.reg.Node.Roles = node.RoleStorage
		}, ok, nil},
		{"a TEE capability of other hardware is rejected", func(t *testing.T, f *nodeFixture) {
			f.mockTEERuntime(t)
			f.reg.Node.Runtimes[0].Capabilities.TEE.Hardware = node.TEEHardwareSGX
		}, ErrTEEVerificationFailed, []string{"capability hardware sgx"}},
		{"a TEE capability for a version that is not deployed is rejected", func(t *testing.T, f *nodeFixture) {
			f.mockTEERuntime(t)
			f.reg.Node.Runtimes[0].BundleChecksum = bundle("unknown build")
		}, ErrTEEVerificationFailed, []string{"not a deployment of the runtime"}},
		{"a TEE capability that does not verify is rejected", func(t *testing.T, f *nodeFixture) {
			f.mockTEERuntime(t)
			f.reg.Node.Runtimes[0].Capabilities.TEE.Attestation = []byte("forged")
		}, ErrTEEVerificationFailed, []string{"does not verify"}},
		{"a TEE capability without a verifier is rejected", func(t *testing.T, f *nodeFixture) {
			f.mockTEERuntime(t)
			f.reg.TEE = nil
		}, ErrTEEVerificationFailed, []string{"no TEE verifier"}},
		{"a genesis node's TEE capability is not verified", func(t *testing.T, f *nodeFixture) {
			f.mockTEERuntime(t)
			f.reg.Node.Runtimes[0].Capabilities.TEE.Attestation = []byte("cannot bind the chain yet")
			f.reg.Genesis = true
		}, ok, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newNodeFixture(t)
			tc.setup(t, f)
			assertRuleError(t, VerifyNodeRegistration(f.reg), tc.want, tc.fragments)
		})
	}
}

func TestVerifyNodeRegistrationVerifiesEveryTEEEntry(t *testing.T) {
	f := newNodeFixture(t)
	f.mockTEERuntime(t)
	rt := f.runtimes[testRuntimeID("rt")]
	rt.Deployments = append(rt.Deployments, dep(2, 20))
	second := f.reg.Node.Runtimes[0]
	second.Version, second.BundleChecksum = v(2), bundle("2.0.0")
	f.reg.Node.Runtimes = append(f.reg.Node.Runtimes, second)
	if err := VerifyNodeRegistration(f.reg); err != nil {
		t.Fatal(err)
	}
	if f.tee.calls != 2 {
		t.Errorf("verifier called %d times, want once per entry (2)", f.tee.calls)
	}
}
