package node

import (
	"errors"
	"strings"
	"testing"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
)

func TestAValidDescriptorPassesValidateBasic(t *testing.T) {
	if err := validNode(t).ValidateBasic(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateBasicRejectsEachBrokenRule(t *testing.T) {
	tee := func() *CapabilityTEE {
		return &CapabilityTEE{Hardware: TEEHardwareMock, RAK: testSigner(t, "rak").Public(), Attestation: []byte("report")}
	}
	for _, tc := range []struct {
		name   string
		mutate func(n *Node)
		want   error
		field  string
	}{
		{"zero node key", func(n *Node) { n.ID = signature.PublicKey{} }, ErrInvalidDescriptor, "id is the zero key"},
		{"node key equal to the entity key", func(n *Node) { n.ID = n.EntityID }, ErrInvalidDescriptor, "entity_id equals id"},
		{"consensus key equal to the node key", func(n *Node) { n.Consensus.ID = n.ID }, ErrInvalidDescriptor, "consensus.id equals id"},
		{"TLS key equal to the consensus key", func(n *Node) { n.TLS.PubKey = n.Consensus.ID }, ErrInvalidDescriptor, "tls.pub_key equals consensus.id"},
		{"no roles", func(n *Node) { n.Roles = 0 }, ErrInvalidRoles, "roles"},
		{"unknown role bit", func(n *Node) { n.Roles |= 1 << 12 }, ErrInvalidRoles, "unknown role bits"},
		{"malformed TLS address", func(n *Node) { n.TLS.Addresses[0] = "127.0.0.1" }, ErrInvalidAddress, "tls.addresses[0]"},
		{"repeated TLS address", func(n *Node) { n.TLS.Addresses[1] = n.TLS.Addresses[0] }, ErrInvalidDescriptor, "listed twice"},
		{"too many TLS addresses", func(n *Node) {
			n.TLS.Addresses = nil
			for i := 0; i <= MaxAddresses; i++ {
				n.TLS.Addresses = append(n.TLS.Addresses, "h"+strings.Repeat("a", i)+".org:1")
			}
		}, ErrInvalidDescriptor, "limit 16"},
		{"consensus address without node ID", func(n *Node) { n.Consensus.Addresses[0] = "127.0.0.1:26656" }, ErrInvalidAddress, "consensus.addresses[0]"},
		{"compute node without TLS addresses", func(n *Node) { n.TLS.Addresses = nil }, ErrInvalidDescriptor, "must be reachable"},
		{"compute node without runtimes", func(n *Node) { n.Runtimes = nil }, ErrInvalidDescriptor, "need at least one runtime entry"},
		{"runtimes on a validator-only node", func(n *Node) { n.Roles = RoleValidator }, ErrInvalidDescriptor, "need the compute, storage or client role"},
		{"two entries for one runtime version", func(n *Node) { n.Runtimes[1].Version = n.Runtimes[0].Version }, ErrInvalidDescriptor, "repeats runtime"},
		{"too many runtime entries", func(n *Node) {
			for i := 0; len(n.Runtimes) <= MaxRuntimes; i++ {
				n.Runtimes = append(n.Runtimes, Runtime{ID: n.Runtimes[0].ID, Version: version.Version{Major: 10, Minor: uint16(i)}})
			}
		}, ErrInvalidDescriptor, "limit 64"},
		{"TEE capability of hardware none", func(n *Node) {
			n.Runtimes[0].Capabilities.TEE = tee()
			n.Runtimes[0].Capabilities.TEE.Hardware = TEEHardwareNone
		}, ErrInvalidDescriptor, "hardware none is not a TEE"},
		{"TEE capability with a zero RAK", func(n *Node) {
			n.Runtimes[0].Capabilities.TEE = tee()
			n.Runtimes[0].Capabilities.TEE.RAK = signature.PublicKey{}
		}, ErrInvalidDescriptor, "rak is the zero key"},
		{"TEE capability without attestation", func(n *Node) {
			n.Runtimes[0].Capabilities.TEE = tee()
			n.Runtimes[0].Capabilities.TEE.Attestation = nil
		}, ErrInvalidDescriptor, "attestation of 0 bytes"},
		{"oversized attestation", func(n *Node) {
			n.Runtimes[0].Capabilities.TEE = tee()
			n.Runtimes[0].Capabilities.TEE.Attestation = make([]byte, MaxAttestationSize+1)
		}, ErrInvalidDescriptor, "attestation of 16385 bytes"},
		{"software version with a control character", func(n *Node) { n.SoftwareVersion = "atoll\n" }, ErrInvalidDescriptor, "software_version"},
		{"software version too long", func(n *Node) { n.SoftwareVersion = strings.Repeat("v", MaxSoftwareVersionLength+1) }, ErrInvalidDescriptor, "software_version of 129 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := validNode(t)
			tc.mutate(n)
			err := n.ValidateBasic()
			if !errors.Is(err, tc.want) {
				t.Fatalf("ValidateBasic() = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %q", err, tc.field)
			}
		})
	}
}

func TestValidateBasicAcceptsAValidTEECapabilityAndAClientWithoutRuntimes(t *testing.T) {
	n := validNode(t)
	n.Runtimes[0].Capabilities.TEE = &CapabilityTEE{Hardware: TEEHardwareMock, RAK: testSigner(t, "rak").Public(), Attestation: []byte("r")}
	if err := n.ValidateBasic(); err != nil {
		t.Errorf("TEE entry: %v", err)
	}
	c := validNode(t)
	c.Roles, c.Runtimes, c.TLS.Addresses = RoleClient|RoleValidator, nil, nil
	if err := c.ValidateBasic(); err != nil {
		t.Errorf("client without runtimes or addresses: %v", err)
	}
}

func TestNodeAccessorsAnswerFromTheDescriptor(t *testing.T) {
	n := validNode(t)
	if !n.HasRole(RoleCompute) || !n.HasRole(RoleCompute|RoleStorage) || n.HasRole(RoleValidator) || n.HasRole(0) {
		t.Error("HasRole misreports")
	}
	rt := n.GetRuntime(testRuntimeID("rt"), version.Version{Major: 2})
	if rt == nil || rt.BundleChecksum != hash.Digest([]byte("bundle v2")) {
		t.Errorf("GetRuntime(rt, 2.0.0) = %+v", rt)
	}
	if n.GetRuntime(testRuntimeID("rt"), version.Version{Major: 3}) != nil || n.GetRuntime(testRuntimeID("other"), version.Version{Major: 1}) != nil {
		t.Error("GetRuntime found an entry that is not there")
	}
	if !n.HasRuntime(testRuntimeID("rt")) || n.HasRuntime(testRuntimeID("other")) {
		t.Error("HasRuntime misreports")
	}
	if ids := n.RuntimeIDs(); len(ids) != 1 || ids[0] != testRuntimeID("rt") {
		t.Errorf("RuntimeIDs() = %v", ids)
	}
	if n.IsExpired(10) || !n.IsExpired(11) {
		t.Error("a node with expiration 10 must be live in epoch 10 and expired in 11")
	}
	if k := n.Keys(); k[0] != n.ID || k[1] != n.Consensus.ID || k[2] != n.TLS.PubKey {
		t.Errorf("Keys() = %v", k)
	}
}

func TestTEEHardwareNames(t *testing.T) {
	for h, want := range map[TEEHardware]string{TEEHardwareNone: "none", TEEHardwareMock: "mock", TEEHardwareSGX: "sgx", 9: "unknown(9)"} {
		if h.String() != want {
			t.Errorf("%d.String() = %q, want %q", h, h.String(), want)
		}
	}
}
