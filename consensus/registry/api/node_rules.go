package api

import (
	"fmt"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
)

// TEEVerifier verifies a node's TEE capability for one runtime version. The registry
// application passes one built for the chain (the mock verifier of runtime/host/tee under
// debug_allow_mock_tee); this package only decides when it must be called.
type TEEVerifier interface {
	// VerifyTEE checks that c proves a RAK held by node nodeID's instance of runtime rt at
	// deployment d, under d's TEE policy.
	VerifyTEE(rt *Runtime, d *VersionInfo, nodeID signature.PublicKey, c *node.CapabilityTEE) error
}

// NodeRecord is a registered node and its status.
type NodeRecord struct {
	Node   *node.Node
	Status *NodeStatus
}

// NodeRegistration is everything VerifyNodeRegistration checks a node descriptor against.
type NodeRegistration struct {
	Params *ConsensusParameters
	// Epoch is the current epoch.
	Epoch beacon.EpochTime
	// Genesis says the node is in the genesis document: its TEE capabilities are then
	// checked for form but not verified, since a report cannot bind the chain it is part of.
	Genesis bool
	// Node is the opened descriptor and Signer the key that signed it.
	Node   *node.Node
	Signer signature.PublicKey
	// Entity is the registered entity Node.EntityID, or nil.
	Entity *Entity
	// Previous is the current record of Node.ID (expired or not), or nil for a new node.
	Previous *NodeRecord
	// Runtime returns the registered descriptor (active or suspended) of a runtime, or nil.
	Runtime func(namespace.Namespace) *Runtime
	// KeyOwner returns the node whose record uses key as its node, consensus or TLS key.
	KeyOwner func(key signature.PublicKey) (owner signature.PublicKey, ok bool)
	// NodesWithRole returns how many registered, unexpired nodes of entity other than
	// Node.ID have role and an entry for runtime: the admission policy's count.
	NodesWithRole func(entity signature.PublicKey, runtime namespace.Namespace, role node.RolesMask) int
	// TEE verifies TEE capabilities; it may be nil when no runtime needs a TEE.
	TEE TEEVerifier
}

// VerifyNodeRegistration runs the registry's checks of a node registration or renewal
// (DESIGN.md §3): signer = node key; ValidateBasic; epoch < expiration ≤ epoch +
// max_node_expiration; the entity exists and lists the node; a re-registration keeps the
// entity and the consensus key and is refused while the node is frozen; the node, consensus
// and TLS keys are used by no other node; every runtime exists and admits the node; TEE
// capabilities match the runtime and verify. Stake claims and the maintenance fee are checked
// by the application (see NodeStakeClaim, MaintenanceFee).
func VerifyNodeRegistration(r *NodeRegistration) error {
	n := r.Node
	if r.Signer != n.ID {
		return fmt.Errorf("%w: node %s descriptor signed by %s", ErrInvalidSignature, n.ID, r.Signer)
	}
	if err := n.ValidateBasic(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if err := checkExpiration(r.Params, n, r.Epoch); err != nil {
		return err
	}
	switch {
	case r.Entity == nil || r.Entity.ID != n.EntityID:
		return fmt.Errorf("%w: entity %s of node %s", ErrNoSuchEntity, n.EntityID, n.ID)
	case !r.Entity.HasNode(n.ID):
		return fmt.Errorf("%w: entity %s does not list node %s", ErrNodeNotListed, n.EntityID, n.ID)
	}
	if err := checkPrevious(r); err != nil {
		return err
	}
	if err := checkKeysUnused(r); err != nil {
		return err
	}
	for _, id := range n.RuntimeIDs() {
		rt := r.Runtime(id)
		if rt == nil {
			return fmt.Errorf("%w: node %s lists runtime %s", ErrNoSuchRuntime, n.ID, id)
		}
		if err := checkAdmission(r, rt); err != nil {
			return err
		}
	}
	for i := range n.Runtimes {
		if err := checkTEE(r, &n.Runtimes[i], i); err != nil {
			return err
		}
	}
	return nil
}

func checkExpiration(params *ConsensusParameters, n *node.Node, epoch beacon.EpochTime) error {
	exp := beacon.EpochTime(n.Expiration)
	limit := epoch + params.MaxNodeExpiration
	if limit < epoch {
		limit = beacon.EpochInvalid
	}
	if exp <= epoch || exp > limit {
		return fmt.Errorf("%w: expiration %d outside (epoch %d, epoch + max_node_expiration %d = %d]", ErrInvalidExpiration, exp, epoch, params.MaxNodeExpiration, limit)
	}
	return nil
}

func checkPrevious(r *NodeRegistration) error {
	p := r.Previous
	if p == nil {
		return nil
	}
	switch {
	case p.Node.EntityID != r.Node.EntityID:
		return fmt.Errorf("%w: node %s belongs to entity %s while its record exists, not %s", ErrNodeUpdateNotAllowed, r.Node.ID, p.Node.EntityID, r.Node.EntityID)
	case p.Node.Consensus.ID != r.Node.Consensus.ID:
		return fmt.Errorf("%w: node %s cannot change its consensus key from %s to %s", ErrNodeUpdateNotAllowed, r.Node.ID, p.Node.Consensus.ID, r.Node.Consensus.ID)
	case p.Status != nil && p.Status.IsFrozen(r.Epoch):
		return fmt.Errorf("%w: node %s is frozen until epoch %d (now %d)", ErrNodeFrozen, r.Node.ID, p.Status.FreezeEndTime, r.Epoch)
	}
	return nil
}

func checkKeysUnused(r *NodeRegistration) error {
	names := [3]string{"node key", "consensus key", "TLS key"}
	for i, key := range r.Node.Keys() {
		if owner, ok := r.KeyOwner(key); ok && owner != r.Node.ID {
			return fmt.Errorf("%w: %s %s is used by node %s", ErrKeyInUse, names[i], key, owner)
		}
	}
	return nil
}

// checkAdmission applies rt's admission policy to the registering node.
func checkAdmission(r *NodeRegistration, rt *Runtime) error {
	wl := rt.AdmissionPolicy.EntityWhitelist
	if wl == nil {
		return nil
	}
	n := r.Node
	cfg, ok := wl.Entities[n.EntityID]
	if !ok {
		return fmt.Errorf("%w: runtime %s does not whitelist entity %s", ErrNotAdmitted, rt.ID, n.EntityID)
	}
	if len(cfg.MaxNodes) == 0 {
		return nil
	}
	for _, role := range n.Roles.Roles() {
		limit, ok := cfg.MaxNodes[role]
		if !ok {
			return fmt.Errorf("%w: runtime %s admits no %s nodes of entity %s", ErrNotAdmitted, rt.ID, role, n.EntityID)
		}
		if have := r.NodesWithRole(n.EntityID, rt.ID, role); have >= int(limit) {
			return fmt.Errorf("%w: runtime %s admits at most %d %s nodes of entity %s, which has %d others", ErrNotAdmitted, rt.ID, limit, role, n.EntityID, have)
		}
	}
	return nil
}

// checkTEE checks the TEE capability of runtime entry i against its runtime.
func checkTEE(r *NodeRegistration, e *node.Runtime, i int) error {
	rt := r.Runtime(e.ID)
	c := e.Capabilities.TEE
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: runtimes[%d] (runtime %s version %s): %s", ErrTEEVerificationFailed, i, e.ID, e.Version, fmt.Sprintf(format, args...))
	}
	switch {
	case !rt.IsTEE():
		if c != nil {
			return fail("a TEE capability for a runtime without TEE hardware")
		}
		return nil
	case c == nil:
		if r.Node.HasRole(node.RoleCompute) {
			return fail("a compute node needs a TEE capability (runtime tee_hardware %s)", rt.TEEHardware)
		}
		return nil
	case c.Hardware != rt.TEEHardware:
		return fail("capability hardware %s, runtime tee_hardware %s", c.Hardware, rt.TEEHardware)
	}
	d := rt.DeploymentForVersion(e.Version)
	if d == nil || d.BundleChecksum != e.BundleChecksum {
		return fail("not a deployment of the runtime (version and bundle_checksum %s), so there is no TEE policy to verify against", e.BundleChecksum)
	}
	if r.Genesis {
		return nil
	}
	if r.TEE == nil {
		return fail("no TEE verifier for %s", rt.TEEHardware)
	}
	if err := r.TEE.VerifyTEE(rt, d, r.Node.ID, c); err != nil {
		return fmt.Errorf("%w: runtimes[%d] (runtime %s version %s): %w", ErrTEEVerificationFailed, i, e.ID, e.Version, err)
	}
	return nil
}
