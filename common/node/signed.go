package node

import (
	"fmt"

	"github.com/atoll-project/atoll/common/signature"
)

// Signing contexts of node descriptors (DESIGN.md §1.4). Registered contexts are
// package-level values by the signature package's design.
var (
	// RegisterSignatureContext signs a descriptor sent in a registry.RegisterNode transaction;
	// it is chain-bound.
	RegisterSignatureContext = signature.NewContext("atoll/registry: register node")
	// GenesisSignatureContext signs a descriptor inside the genesis document; it is not
	// chain-bound, since the document cannot contain its own hash.
	GenesisSignatureContext = signature.NewContext("atoll/registry: genesis node", signature.WithoutChainSeparation())
)

// Sign signs n with signer, which must hold the node key n.ID, in bctx (one of the contexts
// above, bound).
func Sign(signer signature.Signer, bctx signature.BoundContext, n *Node) (*signature.Signed, error) {
	if signer.Public() != n.ID {
		return nil, fmt.Errorf("%w: signer %s, node %s", ErrWrongSigner, signer.Public(), n.ID)
	}
	return signature.SignBlob(signer, bctx, n)
}

// OpenSigned verifies s in bctx, decodes its blob strictly and canonically, and checks that
// the signer is the node's own key and that the descriptor passes ValidateBasic. The blob is
// untrusted: every failure is an error, never a panic.
func OpenSigned(s *signature.Signed, bctx signature.BoundContext) (*Node, error) {
	var n Node
	if err := s.Open(bctx, &n); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDescriptor, err)
	}
	if s.Signature.PublicKey != n.ID {
		return nil, fmt.Errorf("%w: signed by %s, node %s", ErrWrongSigner, s.Signature.PublicKey, n.ID)
	}
	if err := n.ValidateBasic(); err != nil {
		return nil, err
	}
	return &n, nil
}
