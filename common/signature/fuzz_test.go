package signature

import (
	"bytes"
	"errors"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
)

type fuzzBody struct {
	Nonce  uint64 `cbor:"nonce"`
	Method string `cbor:"method"`
	Body   []byte `cbor:"body,omitempty"`
}

// FuzzSignedOpen decodes a Signed envelope from untrusted bytes and opens it: it must never
// panic, and whatever opens must verify and be canonical.
func FuzzSignedOpen(f *testing.F) {
	signer := testSigner(f)
	bctx := testChainContext.ForChain(testChain)
	good, err := SignBlob(signer, bctx, fuzzBody{Nonce: 1, Method: "staking.Transfer", Body: []byte{1, 2}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cbor.Marshal(good))
	f.Add(cbor.Marshal(&Signed{}))
	f.Add(cbor.Marshal(&Signed{Blob: []byte{0xa0}, Signature: good.Signature}))
	f.Add([]byte{0xa2, 0x64, 'b', 'l', 'o', 'b', 0xf6})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Signed
		if err := cbor.Unmarshal(data, &s); err != nil {
			return
		}
		var body fuzzBody
		if err := s.Open(bctx, &body); err != nil {
			return
		}
		if err := s.Verify(bctx); err != nil {
			t.Fatalf("opened an envelope that does not verify: %v", err)
		}
		if !bytes.Equal(cbor.Marshal(&body), s.Blob) {
			t.Fatal("opened a non-canonical blob")
		}
	})
}

// FuzzPublicKeyUnmarshal feeds untrusted bytes to every public key decoder: they must never
// panic, and anything accepted must round-trip.
func FuzzPublicKeyUnmarshal(f *testing.F) {
	pk := testSigner(f).Public()
	f.Add(pk[:])
	f.Add([]byte(pk.String()))
	f.Add(cbor.Marshal(pk))
	f.Add(cbor.Marshal(pk[:31]))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var a PublicKey
		if err := a.UnmarshalBinary(data); err == nil {
			if !bytes.Equal(a[:], data) {
				t.Fatal("binary round trip differs")
			}
		} else if !errors.Is(err, ErrMalformedPublicKey) {
			t.Fatalf("unexpected error %v", err)
		}
		var b PublicKey
		if err := b.UnmarshalText(data); err == nil {
			if !bytes.EqualFold([]byte(b.String()), data) {
				t.Fatal("text round trip differs")
			}
		}
		var c PublicKey
		if err := cbor.Unmarshal(data, &c); err == nil {
			if !bytes.Equal(cbor.Marshal(c), data) {
				t.Fatalf("CBOR %x decoded to %s, which encodes differently", data, c)
			}
		}
	})
}
