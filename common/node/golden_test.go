package node

import (
	"encoding/hex"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
)

// goldenNode is validNode with a TEE entry, so every field appears in the encoding.
func goldenNode(t *testing.T) *Node {
	n := validNode(t)
	n.Runtimes[1].Capabilities.TEE = &CapabilityTEE{Hardware: TEEHardwareMock, RAK: testSigner(t, "rak").Public(), Attestation: []byte("golden report")}
	return n
}

// The encodings below are frozen: a change means the descriptor's wire form changed, which
// forks consensus and needs a protocol version bump.
const (
	goldenNodeCBORHash   = "1e628f6c13f565a7bf0c879e78d188943ccab15dc67db0e14a5c561a489b5d0a"
	goldenSignedNodeHash = "05bbee9b7f508b3539e2f444c44db9546b99d452b41cf330657934a04046df4d"
)

func TestNodeDescriptorEncodingGoldenVector(t *testing.T) {
	n := goldenNode(t)
	enc := cbor.Marshal(n)
	if got := hash.Digest(enc).String(); got != goldenNodeCBORHash {
		t.Errorf("H(cbor(node)) = %s, want %s\ncbor: %s", got, goldenNodeCBORHash, hex.EncodeToString(enc))
	}
	var back Node
	if err := cbor.UnmarshalCanonical(enc, &back); err != nil {
		t.Fatalf("the golden encoding does not decode: %v", err)
	}
	s, err := Sign(testSigner(t, "node"), RegisterSignatureContext.ForChain(testChain), n)
	if err != nil {
		t.Fatal(err)
	}
	if got := hash.DigestCBOR(s).String(); got != goldenSignedNodeHash {
		t.Errorf("H(cbor(signed node)) = %s, want %s", got, goldenSignedNodeHash)
	}
}

func TestNodeDescriptorEncodingStartsWithTheExpectedKeys(t *testing.T) {
	// Canonical CBOR sorts map keys by their encoded bytes: shorter keys first.
	enc := cbor.Marshal(goldenNode(t))
	var m map[string]cbor.RawMessage
	if err := cbor.Unmarshal(enc, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "tls", "roles", "entity_id", "consensus", "runtimes", "expiration", "software_version"} {
		if _, ok := m[k]; !ok {
			t.Errorf("encoding lacks key %q", k)
		}
	}
	if len(m) != 8 {
		t.Errorf("encoding has %d keys, want 8", len(m))
	}
}
