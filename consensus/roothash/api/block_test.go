package api

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
)

func sampleHeader() Header {
	var ns namespace.Namespace
	ns[31] = 0x2a
	sig := StorageSignature{}
	for i := range sig.PublicKey {
		sig.PublicKey[i] = byte(i)
	}
	for i := range sig.Signature {
		sig.Signature[i] = byte(0x80 + i)
	}
	return Header{
		Version:           HeaderVersion,
		Namespace:         ns,
		Round:             7,
		Timestamp:         1_700_000_000,
		HeaderType:        HeaderTypeNormal,
		PreviousHash:      hash.Digest([]byte("previous")),
		IORoot:            hash.Digest([]byte("io")),
		StateRoot:         hash.Digest([]byte("state")),
		MessagesHash:      hash.Empty,
		StorageSignatures: []StorageSignature{sig},
	}
}

// The golden values below pin the header's encoding and hash: a change to either is a
// consensus change and must be deliberate.
const (
	goldenHeaderHash  = "aed19246851081ecefb7832355c1fdf8344d721e1df21b12f1096a3add1ae27a"
	goldenResultsHash = "6bd7ee1448afdc2c306c9d356733db0c32e49981d0a7b971755195a14633d847"
)

func TestHeaderEncodingAndHashMatchTheGoldenVector(t *testing.T) {
	h := sampleHeader()
	enc := cbor.Marshal(&h)
	if got, want := h.Hash(), hash.Digest(enc); got != want {
		t.Fatalf("Hash() = %s, want H(cbor(header)) = %s", got, want)
	}
	if got := h.Hash().String(); got != goldenHeaderHash {
		t.Errorf("header hash = %s, want %s (encoding %s)", got, goldenHeaderHash, hex.EncodeToString(enc))
	}
	var back Header
	if err := cbor.UnmarshalCanonical(enc, &back); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	if diff := cmp.Diff(h, back); diff != "" {
		t.Errorf("round trip changed the header (-want +got):\n%s", diff)
	}
}

func TestComputeResultsHeaderHashMatchesTheGoldenVector(t *testing.T) {
	parent := sampleHeader()
	r := ComputeResultsHeader{
		Round:        parent.Round + 1,
		PreviousHash: parent.Hash(),
		IORoot:       hash.Digest([]byte("io2")),
		StateRoot:    hash.Digest([]byte("state2")),
		MessagesHash: MessagesHash(nil),
	}
	if got := r.EncodedHash().String(); got != goldenResultsHash {
		t.Errorf("results header hash = %s, want %s (encoding %x)", got, goldenResultsHash, cbor.Marshal(&r))
	}
	if !parent.IsParentOf(&r) {
		t.Error("the header is not recognised as the parent of a round built on it")
	}
	r.Round++
	if parent.IsParentOf(&r) {
		t.Error("a header is taken as the parent of a round two rounds later")
	}
}

func TestAFailureResultsHeaderHasNoResults(t *testing.T) {
	r := ComputeResultsHeader{Round: 3, PreviousHash: hash.Digest([]byte("p"))}
	if r.HasResults() {
		t.Error("a header with only round and previous hash reports results")
	}
	r.StateRoot = hash.Empty
	if !r.HasResults() {
		t.Error("a header with a state root reports no results")
	}
}

func TestHeaderValidateBasic(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Header)
		ok     bool
	}{
		{"a normal header with storage signatures is valid", func(*Header) {}, true},
		{"a round failed header without storage signatures is valid", func(h *Header) {
			h.HeaderType = HeaderTypeRoundFailed
			h.StorageSignatures = nil
		}, true},
		{"an unknown version is rejected", func(h *Header) { h.Version = 9 }, false},
		{"header type 0 is rejected", func(h *Header) { h.HeaderType = HeaderTypeInvalid }, false},
		{"header type 5 is rejected", func(h *Header) { h.HeaderType = 5 }, false},
		{"an epoch transition header with storage signatures is rejected", func(h *Header) {
			h.HeaderType = HeaderTypeEpochTransition
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := sampleHeader()
			c.mutate(&h)
			err := h.ValidateBasic()
			if c.ok && err != nil {
				t.Fatalf("ValidateBasic() = %v, want nil", err)
			}
			if !c.ok && !errors.Is(err, ErrMalformedHeader) {
				t.Fatalf("ValidateBasic() = %v, want ErrMalformedHeader", err)
			}
		})
	}
}

func TestStorageSignaturesOfTheWrongLengthDoNotDecode(t *testing.T) {
	type wire struct {
		PublicKey []byte `cbor:"public_key"`
		Signature []byte `cbor:"signature"`
	}
	cases := []struct {
		name     string
		key, sig int
		ok       bool
	}{
		{"exact lengths decode", 32, 64, true},
		{"a short key is rejected", 31, 64, false},
		{"a long key is rejected", 33, 64, false},
		{"a short signature is rejected", 32, 63, false},
		{"a long signature is rejected", 32, 65, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			enc := cbor.Marshal(wire{PublicKey: make([]byte, c.key), Signature: make([]byte, c.sig)})
			var s StorageSignature
			err := cbor.Unmarshal(enc, &s)
			if c.ok != (err == nil) {
				t.Fatalf("Unmarshal() = %v, want ok=%v", err, c.ok)
			}
			if !c.ok && !errors.Is(err, ErrMalformedSignature) {
				t.Fatalf("Unmarshal() = %v, want ErrMalformedSignature", err)
			}
		})
	}
}

func TestHeaderTypeNames(t *testing.T) {
	for ty, want := range map[HeaderType]string{
		HeaderTypeNormal: "normal", HeaderTypeRoundFailed: "round failed",
		HeaderTypeEpochTransition: "epoch transition", HeaderTypeSuspended: "suspended",
		HeaderTypeInvalid: "invalid(0)",
	} {
		if got := ty.String(); got != want {
			t.Errorf("HeaderType(%d).String() = %q, want %q", ty, got, want)
		}
	}
}
