package api

import (
	"fmt"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/signature"
)

// Signing contexts of entity descriptors (DESIGN.md §1.4).
var (
	// RegisterEntitySignatureContext signs an entity in a registry.RegisterEntity
	// transaction; it is chain-bound.
	RegisterEntitySignatureContext = signature.NewContext("atoll/registry: register entity")
	// GenesisEntitySignatureContext signs an entity inside the genesis document; it is not
	// chain-bound.
	GenesisEntitySignatureContext = signature.NewContext("atoll/registry: genesis entity", signature.WithoutChainSeparation())
)

// MaxEntityNodes bounds the nodes one entity lists.
const MaxEntityNodes = 1024

// Entity is a party that operates nodes and owns runtimes; its key signs this descriptor,
// and its staking account backs its nodes' and runtimes' stake claims.
type Entity struct {
	// ID is the entity's signing key.
	ID signature.PublicKey `json:"id" cbor:"id"`
	// Nodes are the node keys the entity vouches for; a node registers only when listed here.
	Nodes []signature.PublicKey `json:"nodes,omitempty" cbor:"nodes,omitempty"`
}

// ValidateBasic checks the stateless rules: a non-zero key, at most MaxEntityNodes distinct
// node keys, none of them zero or the entity's own key.
func (e *Entity) ValidateBasic() error {
	if e.ID == (signature.PublicKey{}) {
		return fmt.Errorf("%w: entity id is the zero key", ErrInvalidArgument)
	}
	if len(e.Nodes) > MaxEntityNodes {
		return fmt.Errorf("%w: entity lists %d nodes, limit %d", ErrInvalidArgument, len(e.Nodes), MaxEntityNodes)
	}
	seen := make(map[signature.PublicKey]bool, len(e.Nodes))
	for i, n := range e.Nodes {
		switch {
		case n == (signature.PublicKey{}):
			return fmt.Errorf("%w: entity nodes[%d] is the zero key", ErrInvalidArgument, i)
		case n == e.ID:
			return fmt.Errorf("%w: entity nodes[%d] is the entity's own key", ErrInvalidArgument, i)
		case seen[n]:
			return fmt.Errorf("%w: entity nodes[%d] (%s) listed twice", ErrInvalidArgument, i, n)
		}
		seen[n] = true
	}
	return nil
}

// HasNode reports whether the entity lists node id.
func (e *Entity) HasNode(id signature.PublicKey) bool {
	for _, n := range e.Nodes {
		if n == id {
			return true
		}
	}
	return false
}

// SignEntity signs e with signer, which must hold e.ID, in bctx (one of the entity contexts,
// bound).
func SignEntity(signer signature.Signer, bctx signature.BoundContext, e *Entity) (*signature.Signed, error) {
	if signer.Public() != e.ID {
		return nil, fmt.Errorf("%w: signer %s, entity %s", ErrInvalidSignature, signer.Public(), e.ID)
	}
	return signature.SignBlob(signer, bctx, e)
}

// OpenEntity verifies s in bctx, decodes the entity strictly and canonically, checks that the
// entity signed itself and runs ValidateBasic. The bytes are untrusted.
func OpenEntity(s *signature.Signed, bctx signature.BoundContext) (*Entity, error) {
	var e Entity
	if err := openSigned(s, bctx, &e); err != nil {
		return nil, fmt.Errorf("entity: %w", err)
	}
	if s.Signature.PublicKey != e.ID {
		return nil, fmt.Errorf("%w: entity %s signed by %s", ErrInvalidSignature, e.ID, s.Signature.PublicKey)
	}
	if err := e.ValidateBasic(); err != nil {
		return nil, err
	}
	return &e, nil
}

// openSigned verifies s in bctx (ErrInvalidSignature) and then decodes its blob strictly and
// canonically into dst (ErrInvalidArgument).
func openSigned(s *signature.Signed, bctx signature.BoundContext, dst any) error {
	if err := s.Verify(bctx); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}
	if err := cbor.UnmarshalCanonical(s.Blob, dst); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return nil
}
