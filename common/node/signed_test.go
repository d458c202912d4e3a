package node

import (
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/signature"
)

func TestASignedDescriptorOpensToTheSameNode(t *testing.T) {
	n := validNode(t)
	bctx := RegisterSignatureContext.ForChain(testChain)
	s, err := Sign(testSigner(t, "node"), bctx, n)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenSigned(s, bctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(cbor.Marshal(got)) != string(cbor.Marshal(n)) {
		t.Error("opened descriptor differs from the signed one")
	}
	g, err := Sign(testSigner(t, "node"), GenesisSignatureContext.Unbound(), n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSigned(g, GenesisSignatureContext.Unbound()); err != nil {
		t.Errorf("genesis descriptor: %v", err)
	}
}

func TestOpenSignedRejectsAnotherContextChainOrSigner(t *testing.T) {
	n := validNode(t)
	bctx := RegisterSignatureContext.ForChain(testChain)
	s, err := Sign(testSigner(t, "node"), bctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSigned(s, GenesisSignatureContext.Unbound()); !errors.Is(err, signature.ErrVerifyFailed) {
		t.Errorf("genesis context: %v", err)
	}
	other := RegisterSignatureContext.ForChain([32]byte{1})
	if _, err := OpenSigned(s, other); !errors.Is(err, signature.ErrVerifyFailed) {
		t.Errorf("other chain: %v", err)
	}
	if _, err := Sign(testSigner(t, "entity"), bctx, n); !errors.Is(err, ErrWrongSigner) {
		t.Errorf("Sign with the entity key: %v", err)
	}
	// A descriptor signed by a valid key that is not the node's.
	byEntity, err := signature.SignBlob(testSigner(t, "entity"), bctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSigned(byEntity, bctx); !errors.Is(err, ErrWrongSigner) {
		t.Errorf("signed by the entity: %v", err)
	}
}

func TestOpenSignedRejectsInvalidAndNonCanonicalBlobs(t *testing.T) {
	bctx := RegisterSignatureContext.ForChain(testChain)
	bad := validNode(t)
	bad.Roles = 0
	s, err := Sign(testSigner(t, "node"), bctx, bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSigned(s, bctx); !errors.Is(err, ErrInvalidRoles) {
		t.Errorf("invalid descriptor: %v", err)
	}
	// Unknown field: a correctly signed blob with an extra key.
	blob := cbor.Marshal(map[string]any{"id": validNode(t).ID, "bogus": 1})
	sig, err := signature.Sign(testSigner(t, "node"), bctx, blob)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSigned(&signature.Signed{Blob: blob, Signature: *sig}, bctx); !errors.Is(err, ErrInvalidDescriptor) {
		t.Errorf("unknown field: %v", err)
	}
}
