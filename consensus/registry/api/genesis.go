package api

import (
	"fmt"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/node"
	"github.com/atoll-project/atoll/common/signature"
	beacon "github.com/atoll-project/atoll/consensus/beacon/api"
)

// Genesis is the registry's part of the genesis document. Descriptors are signed with the
// non-chain-bound genesis contexts: entities by themselves (GenesisEntitySignatureContext),
// runtimes by their entity (GenesisRuntimeSignatureContext), nodes by themselves
// (node.GenesisSignatureContext). Genesis runtimes start active unless listed in
// SuspendedRuntimes.
type Genesis struct {
	Params            ConsensusParameters   `json:"params" cbor:"params"`
	Entities          []signature.Signed    `json:"entities,omitempty" cbor:"entities,omitempty"`
	Runtimes          []signature.Signed    `json:"runtimes,omitempty" cbor:"runtimes,omitempty"`
	SuspendedRuntimes []namespace.Namespace `json:"suspended_runtimes,omitempty" cbor:"suspended_runtimes,omitempty"`
	Nodes             []signature.Signed    `json:"nodes,omitempty" cbor:"nodes,omitempty"`
}

// GenesisState is the checked content of a Genesis, in document order.
type GenesisState struct {
	Entities  []*Entity
	Runtimes  []*Runtime
	Suspended map[namespace.Namespace]bool
	Nodes     []*node.Node
}

// SanityCheck opens and checks the section as Open does, for the chain's first epoch.
func (g *Genesis) SanityCheck(epoch beacon.EpochTime) error {
	_, err := g.Open(epoch)
	return err
}

// Open verifies and checks every descriptor of the section for the chain's first epoch, with
// the same rules as transactions except that runtimes may be valid from any epoch and TEE
// capabilities are not verified: the parameters' ranges; entities unique and self-signed;
// runtimes unique, owned by a genesis entity and passing VerifyRuntimeRegistration; suspended
// runtimes listed once and registered; nodes passing VerifyNodeRegistration against the
// entities, runtimes and earlier nodes of the document.
func (g *Genesis) Open(epoch beacon.EpochTime) (*GenesisState, error) {
	if err := g.Params.SanityCheck(); err != nil {
		return nil, err
	}
	st := &GenesisState{Suspended: make(map[namespace.Namespace]bool)}
	entities := make(map[signature.PublicKey]*Entity)
	for i := range g.Entities {
		e, err := OpenEntity(&g.Entities[i], GenesisEntitySignatureContext.Unbound())
		if err != nil {
			return nil, fmt.Errorf("registry genesis: entities[%d]: %w", i, err)
		}
		if entities[e.ID] != nil {
			return nil, fmt.Errorf("registry genesis: entities[%d]: %w: entity %s listed twice", i, ErrInvalidArgument, e.ID)
		}
		entities[e.ID] = e
		st.Entities = append(st.Entities, e)
	}
	runtimes := make(map[namespace.Namespace]*Runtime)
	for i := range g.Runtimes {
		rt, err := g.openRuntime(i, epoch, entities)
		if err != nil {
			return nil, fmt.Errorf("registry genesis: runtimes[%d]: %w", i, err)
		}
		if runtimes[rt.ID] != nil {
			return nil, fmt.Errorf("registry genesis: runtimes[%d]: %w: runtime %s listed twice", i, ErrInvalidArgument, rt.ID)
		}
		runtimes[rt.ID] = rt
		st.Runtimes = append(st.Runtimes, rt)
	}
	for i, id := range g.SuspendedRuntimes {
		if runtimes[id] == nil || st.Suspended[id] {
			return nil, fmt.Errorf("registry genesis: suspended_runtimes[%d]: %w: runtime %s is not registered or listed twice", i, ErrInvalidArgument, id)
		}
		st.Suspended[id] = true
	}
	nodes, err := g.openNodes(epoch, entities, runtimes)
	if err != nil {
		return nil, err
	}
	st.Nodes = nodes
	return st, nil
}

func (g *Genesis) openRuntime(i int, epoch beacon.EpochTime, entities map[signature.PublicKey]*Entity) (*Runtime, error) {
	rt, err := OpenGenesisRuntime(&g.Runtimes[i])
	if err != nil {
		return nil, err
	}
	if entities[rt.EntityID] == nil {
		return nil, fmt.Errorf("%w: entity %s of runtime %s", ErrNoSuchEntity, rt.EntityID, rt.ID)
	}
	if err := VerifyRuntimeRegistration(&g.Params, rt, epoch, true); err != nil {
		return nil, err
	}
	return rt, nil
}

func (g *Genesis) openNodes(epoch beacon.EpochTime, entities map[signature.PublicKey]*Entity, runtimes map[namespace.Namespace]*Runtime) ([]*node.Node, error) {
	var out []*node.Node
	keyOwner := make(map[signature.PublicKey]signature.PublicKey)
	for i := range g.Nodes {
		s := &g.Nodes[i]
		n, err := node.OpenSigned(s, node.GenesisSignatureContext.Unbound())
		if err != nil {
			return nil, fmt.Errorf("registry genesis: nodes[%d]: %w: %w", i, ErrInvalidArgument, err)
		}
		if owner, dup := keyOwner[n.ID]; dup && owner == n.ID {
			return nil, fmt.Errorf("registry genesis: nodes[%d]: %w: node %s listed twice", i, ErrInvalidArgument, n.ID)
		}
		reg := &NodeRegistration{
			Params:  &g.Params,
			Epoch:   epoch,
			Genesis: true,
			Node:    n,
			Signer:  s.Signature.PublicKey,
			Entity:  entities[n.EntityID],
			Runtime: func(id namespace.Namespace) *Runtime { return runtimes[id] },
			KeyOwner: func(k signature.PublicKey) (signature.PublicKey, bool) {
				owner, ok := keyOwner[k]
				return owner, ok
			},
			NodesWithRole: func(entity signature.PublicKey, rt namespace.Namespace, role node.RolesMask) int {
				return countNodes(out, entity, rt, role)
			},
		}
		if err := VerifyNodeRegistration(reg); err != nil {
			return nil, fmt.Errorf("registry genesis: nodes[%d]: %w", i, err)
		}
		for _, k := range n.Keys() {
			keyOwner[k] = n.ID
		}
		out = append(out, n)
	}
	return out, nil
}

// countNodes counts the nodes of entity with role and an entry for runtime.
func countNodes(nodes []*node.Node, entity signature.PublicKey, runtime namespace.Namespace, role node.RolesMask) int {
	count := 0
	for _, n := range nodes {
		if n.EntityID == entity && n.HasRole(role) && n.HasRuntime(runtime) {
			count++
		}
	}
	return count
}
