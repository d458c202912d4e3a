// Package node defines the node descriptor (DESIGN.md §2, §3, §9): the signed statement a node
// registers with the registry, naming its entity, its keys and addresses, its roles, the
// runtime versions it runs and until which epoch the registration holds.
//
// Contracts:
//   - A descriptor is signed by the node key alone (Node.ID), with the chain-bound context
//     RegisterSignatureContext, or GenesisSignatureContext (not chain-bound) inside the genesis
//     document. OpenSigned verifies the signature, decodes the blob canonically and strictly,
//     checks that the signer is the node and runs ValidateBasic; nothing is trusted before that.
//   - ValidateBasic checks everything that needs no consensus state: key distinctness, known
//     roles, well-formed addresses, one runtime entry per (runtime ID, version), size bounds.
//     Stateful checks (expiration window, entity listing, admission, key uniqueness across
//     nodes, TEE verification) belong to the registry (consensus/registry/api).
//   - A node registered in epoch e with expiration x is live for the epochs e..x: IsExpired(e)
//     is e > x. Expiration is a plain uint64 epoch number because common packages cannot import
//     the beacon service.
//
// Everything here is pure and safe for concurrent use on values not being mutated.
package node

import (
	"errors"
	"fmt"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/common/version"
)

// Bounds ValidateBasic enforces on untrusted descriptors.
const (
	// MaxRuntimes bounds the runtime entries of one descriptor.
	MaxRuntimes = 64
	// MaxAddresses bounds the TLS addresses and, separately, the consensus addresses.
	MaxAddresses = 16
	// MaxAttestationSize bounds capabilities.tee.attestation.
	MaxAttestationSize = 16 << 10
	// MaxSoftwareVersionLength bounds software_version.
	MaxSoftwareVersionLength = 128
)

var (
	// ErrInvalidDescriptor is returned (wrapped, with the offending field) for a descriptor
	// that breaks a rule of ValidateBasic.
	ErrInvalidDescriptor = errors.New("node: invalid node descriptor")
	// ErrInvalidRoles is returned for an empty roles mask, unknown bits or unknown role names.
	ErrInvalidRoles = errors.New("node: invalid roles")
	// ErrInvalidAddress is returned for a malformed address.
	ErrInvalidAddress = errors.New("node: invalid address")
	// ErrWrongSigner is returned by OpenSigned when the descriptor is not signed by its node.
	ErrWrongSigner = errors.New("node: descriptor not signed by the node key")
)

// Node is a node descriptor.
type Node struct {
	// ID is the node's signing key; it signs this descriptor and its protocol messages
	// (commitments, receipts).
	ID signature.PublicKey `json:"id" cbor:"id"`
	// EntityID is the entity that vouches for the node; it must list ID.
	EntityID signature.PublicKey `json:"entity_id" cbor:"entity_id"`
	// Expiration is the last epoch for which the registration holds.
	Expiration uint64 `json:"expiration" cbor:"expiration"`
	// TLS is how other nodes reach this node's gRPC services.
	TLS TLSInfo `json:"tls" cbor:"tls"`
	// Consensus is the node's CometBFT identity.
	Consensus ConsensusInfo `json:"consensus" cbor:"consensus"`
	// Runtimes are the runtime versions the node runs, one entry per (ID, version).
	Runtimes []Runtime `json:"runtimes,omitempty" cbor:"runtimes,omitempty"`
	// Roles are the roles the node offers.
	Roles RolesMask `json:"roles" cbor:"roles"`
	// SoftwareVersion is free text naming the node software, for operators.
	SoftwareVersion string `json:"software_version,omitempty" cbor:"software_version,omitempty"`
}

// TLSInfo is the node's TLS identity: peers pin PubKey when they dial Addresses.
type TLSInfo struct {
	PubKey    signature.PublicKey `json:"pub_key" cbor:"pub_key"`
	Addresses []string            `json:"addresses,omitempty" cbor:"addresses,omitempty"`
}

// ConsensusInfo is the node's CometBFT identity: ID is its consensus (validator) key and
// Addresses its P2P addresses in the form "nodeid@host:port".
type ConsensusInfo struct {
	ID        signature.PublicKey `json:"id" cbor:"id"`
	Addresses []string            `json:"addresses,omitempty" cbor:"addresses,omitempty"`
}

// Runtime is one runtime version a node runs.
type Runtime struct {
	// ID is the runtime.
	ID namespace.Namespace `json:"id" cbor:"id"`
	// Version is the runtime version.
	Version version.Version `json:"version" cbor:"version"`
	// BundleChecksum is the SHA-256 of the bundle manifest of that version (runtime/bundle);
	// executors are elected only when it equals the active deployment's.
	BundleChecksum hash.Hash `json:"bundle_checksum" cbor:"bundle_checksum"`
	// Capabilities are what the node proves about how it runs this version.
	Capabilities Capabilities `json:"capabilities" cbor:"capabilities"`
}

// Capabilities of a node's runtime entry.
type Capabilities struct {
	// TEE is present when the runtime runs in a trusted execution environment.
	TEE *CapabilityTEE `json:"tee,omitempty" cbor:"tee,omitempty"`
}

// CapabilityTEE binds a runtime attestation key (RAK) to a TEE: roothash checks the RAK's
// signatures over compute results of the entry for the active version.
type CapabilityTEE struct {
	Hardware    TEEHardware         `json:"hardware" cbor:"hardware"`
	RAK         signature.PublicKey `json:"rak" cbor:"rak"`
	Attestation []byte              `json:"attestation" cbor:"attestation"`
}

// TEEHardware is a kind of trusted execution environment; the runtime descriptor's
// tee_hardware uses the same values.
type TEEHardware uint8

const (
	// TEEHardwareNone: no TEE.
	TEEHardwareNone TEEHardware = 0
	// TEEHardwareMock: an INSECURE software stand-in, accepted only under the genesis flag
	// debug_allow_mock_tee.
	TEEHardwareMock TEEHardware = 1
	// TEEHardwareSGX is reserved; nothing verifies it yet.
	TEEHardwareSGX TEEHardware = 2
)

// String names the hardware.
func (h TEEHardware) String() string {
	switch h {
	case TEEHardwareNone:
		return "none"
	case TEEHardwareMock:
		return "mock"
	case TEEHardwareSGX:
		return "sgx"
	}
	return fmt.Sprintf("unknown(%d)", uint8(h))
}

// HasRole reports whether the node offers every role in r.
func (n *Node) HasRole(r RolesMask) bool { return r != 0 && n.Roles&r == r }

// IsExpired reports whether the registration no longer holds in epoch.
func (n *Node) IsExpired(epoch uint64) bool { return epoch > n.Expiration }

// GetRuntime returns the entry for (id, v), or nil.
func (n *Node) GetRuntime(id namespace.Namespace, v version.Version) *Runtime {
	for i := range n.Runtimes {
		if rt := &n.Runtimes[i]; rt.ID == id && rt.Version == v {
			return rt
		}
	}
	return nil
}

// HasRuntime reports whether the node runs any version of runtime id.
func (n *Node) HasRuntime(id namespace.Namespace) bool {
	for i := range n.Runtimes {
		if n.Runtimes[i].ID == id {
			return true
		}
	}
	return false
}

// RuntimeIDs returns the distinct runtime IDs of the entries, in the order of first
// appearance.
func (n *Node) RuntimeIDs() []namespace.Namespace {
	var out []namespace.Namespace
	seen := make(map[namespace.Namespace]bool, len(n.Runtimes))
	for i := range n.Runtimes {
		id := n.Runtimes[i].ID
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Keys returns the node's three keys: node, consensus and TLS.
func (n *Node) Keys() [3]signature.PublicKey {
	return [3]signature.PublicKey{n.ID, n.Consensus.ID, n.TLS.PubKey}
}

// ValidateBasic checks the rules that need no consensus state; errors wrap
// ErrInvalidDescriptor (or ErrInvalidRoles, ErrInvalidAddress) and name the field.
func (n *Node) ValidateBasic() error {
	if err := n.validateKeys(); err != nil {
		return err
	}
	if err := n.Roles.Validate(); err != nil {
		return fmt.Errorf("%w: roles: %w", ErrInvalidDescriptor, err)
	}
	if err := n.validateAddresses(); err != nil {
		return err
	}
	if err := n.validateRuntimes(); err != nil {
		return err
	}
	if l := len(n.SoftwareVersion); l > MaxSoftwareVersionLength {
		return fmt.Errorf("%w: software_version of %d bytes, limit %d", ErrInvalidDescriptor, l, MaxSoftwareVersionLength)
	}
	for i := 0; i < len(n.SoftwareVersion); i++ {
		if c := n.SoftwareVersion[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("%w: software_version is not printable ASCII", ErrInvalidDescriptor)
		}
	}
	return nil
}

func (n *Node) validateKeys() error {
	var zero signature.PublicKey
	named := []struct {
		name string
		key  signature.PublicKey
	}{{"id", n.ID}, {"entity_id", n.EntityID}, {"consensus.id", n.Consensus.ID}, {"tls.pub_key", n.TLS.PubKey}}
	for i, a := range named {
		if a.key == zero {
			return fmt.Errorf("%w: %s is the zero key", ErrInvalidDescriptor, a.name)
		}
		for _, b := range named[:i] {
			if a.key == b.key {
				return fmt.Errorf("%w: %s equals %s (%s); every key must be distinct", ErrInvalidDescriptor, a.name, b.name, a.key)
			}
		}
	}
	return nil
}

func (n *Node) validateAddresses() error {
	if err := validateAddressList("tls.addresses", n.TLS.Addresses, ValidateAddress); err != nil {
		return err
	}
	if err := validateAddressList("consensus.addresses", n.Consensus.Addresses, ValidateConsensusAddress); err != nil {
		return err
	}
	if n.Roles&(RoleCompute|RoleStorage) != 0 && len(n.TLS.Addresses) == 0 {
		return fmt.Errorf("%w: tls.addresses is empty, but roles %s must be reachable", ErrInvalidDescriptor, n.Roles)
	}
	return nil
}

func validateAddressList(field string, addrs []string, check func(string) error) error {
	if len(addrs) > MaxAddresses {
		return fmt.Errorf("%w: %s has %d entries, limit %d", ErrInvalidDescriptor, field, len(addrs), MaxAddresses)
	}
	seen := make(map[string]bool, len(addrs))
	for i, a := range addrs {
		if err := check(a); err != nil {
			return fmt.Errorf("%w: %s[%d]: %w", ErrInvalidDescriptor, field, i, err)
		}
		if seen[a] {
			return fmt.Errorf("%w: %s[%d]: %q listed twice", ErrInvalidDescriptor, field, i, a)
		}
		seen[a] = true
	}
	return nil
}

func (n *Node) validateRuntimes() error {
	if len(n.Runtimes) > MaxRuntimes {
		return fmt.Errorf("%w: runtimes has %d entries, limit %d", ErrInvalidDescriptor, len(n.Runtimes), MaxRuntimes)
	}
	if n.Roles&(RoleCompute|RoleStorage) != 0 && len(n.Runtimes) == 0 {
		return fmt.Errorf("%w: roles %s need at least one runtime entry", ErrInvalidDescriptor, n.Roles)
	}
	if len(n.Runtimes) > 0 && n.Roles&(RoleCompute|RoleStorage|RoleClient) == 0 {
		return fmt.Errorf("%w: runtime entries need the compute, storage or client role, roles are %s", ErrInvalidDescriptor, n.Roles)
	}
	for i := range n.Runtimes {
		rt := &n.Runtimes[i]
		for j := range n.Runtimes[:i] {
			if o := &n.Runtimes[j]; o.ID == rt.ID && o.Version == rt.Version {
				return fmt.Errorf("%w: runtimes[%d] repeats runtime %s version %s of runtimes[%d]", ErrInvalidDescriptor, i, rt.ID, rt.Version, j)
			}
		}
		if tee := rt.Capabilities.TEE; tee != nil {
			if err := tee.validateBasic(); err != nil {
				return fmt.Errorf("%w: runtimes[%d].capabilities.tee: %w", ErrInvalidDescriptor, i, err)
			}
		}
	}
	return nil
}

func (c *CapabilityTEE) validateBasic() error {
	switch c.Hardware {
	case TEEHardwareMock, TEEHardwareSGX:
	default:
		return fmt.Errorf("hardware %s is not a TEE", c.Hardware)
	}
	if c.RAK == (signature.PublicKey{}) {
		return fmt.Errorf("rak is the zero key")
	}
	if l := len(c.Attestation); l == 0 || l > MaxAttestationSize {
		return fmt.Errorf("attestation of %d bytes, want 1..%d", l, MaxAttestationSize)
	}
	return nil
}
