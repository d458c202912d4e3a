package signature

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/atoll-project/atoll/common/cbor"
)

func testSeed() []byte {
	seed := make([]byte, SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	return seed
}

func testSigner(t testing.TB) *MemorySigner {
	t.Helper()
	s, err := NewSignerFromSeed(testSeed())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustUnhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPublicKeyAndSignatureEncodingsRoundTripAndRejectWrongLengths(t *testing.T) {
	signer := testSigner(t)
	sig, err := Sign(signer, testChainContext.ForChain(testChain), []byte("message"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("public key", func(t *testing.T) {
		pk := signer.Public()
		text, _ := pk.MarshalText()
		var back PublicKey
		if err := back.UnmarshalText(text); err != nil || back != pk {
			t.Fatalf("text round trip: %v, %s", err, back)
		}
		enc := cbor.Marshal(pk)
		if want := append([]byte{0x58, 0x20}, pk[:]...); !bytes.Equal(enc, want) {
			t.Fatalf("CBOR %x, want %x", enc, want)
		}
		back = PublicKey{}
		if err := cbor.Unmarshal(enc, &back); err != nil || back != pk {
			t.Fatalf("CBOR round trip: %v, %s", err, back)
		}
		for _, bad := range [][]byte{
			cbor.Marshal(pk[:31]),
			cbor.Marshal(append(pk[:], 0)),
			cbor.Marshal([]byte{}),
			{0xf6},
			{0xf7},
			{0x80},
			append([]byte{0x98, 0x20}, make([]byte, 32)...),
		} {
			if err := cbor.Unmarshal(bad, &back); !errors.Is(err, ErrMalformedPublicKey) {
				t.Errorf("CBOR %x: %v, want ErrMalformedPublicKey", bad, err)
			}
		}
		for _, bad := range []string{"", pk.String()[:62], pk.String() + "00", "zz" + pk.String()[2:]} {
			if err := back.UnmarshalText([]byte(bad)); !errors.Is(err, ErrMalformedPublicKey) {
				t.Errorf("text %q: %v, want ErrMalformedPublicKey", bad, err)
			}
		}
	})

	t.Run("signature", func(t *testing.T) {
		raw := sig.Signature
		text, _ := raw.MarshalText()
		var back RawSignature
		if err := back.UnmarshalText(text); err != nil || back != raw {
			t.Fatalf("text round trip: %v, %s", err, back)
		}
		back = RawSignature{}
		if err := cbor.Unmarshal(cbor.Marshal(raw), &back); err != nil || back != raw {
			t.Fatalf("CBOR round trip: %v, %s", err, back)
		}
		if err := cbor.Unmarshal(cbor.Marshal(raw[:63]), &back); !errors.Is(err, ErrMalformedSignature) {
			t.Errorf("63-byte CBOR: %v, want ErrMalformedSignature", err)
		}
		if err := back.UnmarshalText(text[:126]); !errors.Is(err, ErrMalformedSignature) {
			t.Errorf("short text: %v, want ErrMalformedSignature", err)
		}
	})

	t.Run("signature struct", func(t *testing.T) {
		var back Signature
		if err := cbor.UnmarshalCanonical(cbor.Marshal(sig), &back); err != nil || back != *sig {
			t.Fatalf("CBOR round trip: %v", err)
		}
	})
}

func TestVerifyFailsForAnyTamperedInput(t *testing.T) {
	signer := testSigner(t)
	other, err := NewSignerFromSeed(bytes.Repeat([]byte{7}, SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("atoll test message")
	bctx := testRuntimeContext.ForChain(testChain).ForRuntime(testRuntime)
	sig, err := Sign(signer, bctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(bctx, msg); err != nil {
		t.Fatalf("untampered signature rejected: %v", err)
	}

	otherChain := testChain
	otherChain[31] ^= 1
	otherRuntime := testRuntime
	otherRuntime[0] ^= 1
	flipped := func(b []byte, i int) []byte {
		c := append([]byte(nil), b...)
		c[i] ^= 0x01
		return c
	}
	var badR, badS RawSignature
	copy(badR[:], flipped(sig.Signature[:], 3))
	copy(badS[:], flipped(sig.Signature[:], 40))

	cases := []struct {
		name string
		pk   PublicKey
		bctx BoundContext
		msg  []byte
		sig  RawSignature
	}{
		{"a changed message", sig.PublicKey, bctx, flipped(msg, 0), sig.Signature},
		{"a truncated message", sig.PublicKey, bctx, msg[:len(msg)-1], sig.Signature},
		{"another public key", other.Public(), bctx, msg, sig.Signature},
		{"another context", sig.PublicKey, testOtherContext.ForChain(testChain), msg, sig.Signature},
		{"another chain", sig.PublicKey, testRuntimeContext.ForChain(otherChain).ForRuntime(testRuntime), msg, sig.Signature},
		{"another runtime", sig.PublicKey, testRuntimeContext.ForChain(testChain).ForRuntime(otherRuntime), msg, sig.Signature},
		{"a changed R", sig.PublicKey, bctx, msg, badR},
		{"a changed S", sig.PublicKey, bctx, msg, badS},
		{"the zero signature", sig.PublicKey, bctx, msg, RawSignature{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := Verify(c.pk, c.bctx, c.msg, c.sig); !errors.Is(err, ErrVerifyFailed) {
				t.Fatalf("Verify: %v, want ErrVerifyFailed", err)
			}
			bv := NewBatchVerifier(1)
			bv.Add(c.pk, c.bctx, c.msg, c.sig)
			if ok, valid := bv.Verify(nil); ok || valid[0] {
				t.Fatalf("batch verification accepted it")
			}
		})
	}
}

// TestVerificationFollowsZIP215 uses signatures that ZIP-215 accepts and the stricter default
// rules reject: a small-order public key (the identity) with a small-order, non-canonically
// encoded R and S = 0. Then [8](S·B − R − k·A) is the identity for every message, so the
// signature verifies over our domain-separated digest too.
func TestVerificationFollowsZIP215(t *testing.T) {
	identity := mustUnhex(t, "0100000000000000000000000000000000000000000000000000000000000000")
	cases := []struct {
		name string
		r    string
	}{
		{"R is the identity encoded with y = p + 1", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
		{"R is the identity encoded with the sign bit set", "0100000000000000000000000000000000000000000000000000000000000080"},
		{"R is a canonical point of order 2", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	}
	var pk PublicKey
	copy(pk[:], identity)
	bctx := testChainContext.ForChain(testChain)
	msg := []byte("any message at all")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var sig RawSignature
			copy(sig[:32], mustUnhex(t, c.r)) // S stays 0
			if err := Verify(pk, bctx, msg, sig); err != nil {
				t.Fatalf("ZIP-215 signature rejected: %v", err)
			}
			bv := NewBatchVerifier(3)
			for i := 0; i < 3; i++ {
				bv.Add(pk, bctx, msg, sig)
			}
			if ok, _ := bv.Verify(nil); !ok {
				t.Fatal("ZIP-215 signature rejected by batch verification")
			}
			digest, _ := PrepareMessage(bctx, msg)
			if ed25519.VerifyWithOptions(pk[:], digest[:], sig[:], &ed25519.Options{Verify: ed25519.VerifyOptionsDefault}) {
				t.Fatal("the default rules accept it too, so this case does not show that ZIP-215 is in use")
			}
		})
	}
}

func TestSignedOpenVerifiesThenDecodesCanonically(t *testing.T) {
	type body struct {
		Nonce  uint64 `cbor:"nonce"`
		Method string `cbor:"method"`
	}
	signer := testSigner(t)
	bctx := testChainContext.ForChain(testChain)
	want := body{Nonce: 5, Method: "staking.Transfer"}
	signed, err := SignBlob(signer, bctx, want)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a good envelope opens after a wire round trip", func(t *testing.T) {
		var wire Signed
		if err := cbor.Unmarshal(cbor.Marshal(signed), &wire); err != nil {
			t.Fatal(err)
		}
		var got body
		if err := wire.Open(bctx, &got); err != nil || got != want {
			t.Fatalf("Open: %v, %+v", err, got)
		}
	})
	t.Run("the wrong context is rejected and dst is left alone", func(t *testing.T) {
		got := body{Nonce: 99}
		err := signed.Open(testOtherContext.ForChain(testChain), &got)
		if !errors.Is(err, ErrVerifyFailed) || got.Nonce != 99 {
			t.Fatalf("Open: %v, dst %+v", err, got)
		}
	})
	t.Run("a validly signed non-canonical blob is rejected", func(t *testing.T) {
		// Keys in the wrong order: canonically the shorter "nonce" sorts before "method".
		blob := mustUnhex(t, "a2666d6574686f6470"+hex.EncodeToString([]byte("staking.Transfer"))+"656e6f6e636505")
		var check body
		if err := cbor.Unmarshal(blob, &check); err != nil {
			t.Fatalf("test blob does not even decode: %v", err)
		}
		sig, err := Sign(signer, bctx, blob)
		if err != nil {
			t.Fatal(err)
		}
		s := Signed{Blob: blob, Signature: *sig}
		if err := s.Verify(bctx); err != nil {
			t.Fatalf("signature over the blob rejected: %v", err)
		}
		if err := s.Open(bctx, &body{}); !errors.Is(err, cbor.ErrNonCanonical) {
			t.Fatalf("Open: %v, want ErrNonCanonical", err)
		}
	})
	t.Run("a blob with unknown fields is rejected", func(t *testing.T) {
		s, err := SignBlob(signer, bctx, map[string]uint64{"nonce": 1, "zzz": 2})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Open(bctx, &body{}); err == nil {
			t.Fatal("blob with an unknown field opened")
		}
	})
}

func TestBatchVerifierReportsEachInvalidEntry(t *testing.T) {
	signer := testSigner(t)
	bctx := testRuntimeContext.ForChain(testChain).ForRuntime(testRuntime)
	const n = 12
	bad := map[int]string{3: "tampered message", 7: "incomplete context", 10: "wrong key"}

	bv := NewBatchVerifier(n)
	for i := 0; i < n; i++ {
		msg := []byte{byte(i)}
		sig, err := Sign(signer, bctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		switch bad[i] {
		case "tampered message":
			msg = []byte{0xff}
		case "incomplete context":
			bv.Add(sig.PublicKey, testRuntimeContext.ForChain(testChain), msg, sig.Signature)
			continue
		case "wrong key":
			sig.PublicKey[0] ^= 1
		}
		bv.AddSignature(bctx, msg, sig)
	}
	if bv.Len() != n {
		t.Fatalf("Len %d, want %d", bv.Len(), n)
	}
	ok, valid := bv.Verify(nil)
	if ok {
		t.Fatal("batch with bad entries verified")
	}
	for i, v := range valid {
		if _, isBad := bad[i]; v == isBad {
			t.Errorf("entry %d: valid=%v, bad reason %q", i, v, bad[i])
		}
	}

	bv.Reset()
	if ok, valid := bv.Verify(nil); !ok || len(valid) != 0 {
		t.Fatalf("empty batch: %v %v", ok, valid)
	}
	for i := 0; i < n; i++ {
		s, err := SignBlob(signer, bctx, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		bv.AddSigned(bctx, s)
	}
	if ok, valid := bv.Verify(nil); !ok || len(valid) != n {
		t.Fatalf("good batch after Reset: %v %v", ok, valid)
	}
}

func TestBatchOfOnlyIncompleteContextsIsInvalid(t *testing.T) {
	bv := NewBatchVerifier(1)
	bv.Add(PublicKey{}, BoundContext{}, nil, RawSignature{})
	if ok, valid := bv.Verify(nil); ok || len(valid) != 1 || valid[0] {
		t.Fatalf("got %v %v", ok, valid)
	}
}

func TestGenerateSignerTakesItsSeedFromTheGivenReader(t *testing.T) {
	a, err := GenerateSigner(bytes.NewReader(testSeed()))
	if err != nil {
		t.Fatal(err)
	}
	if a.Public() != testSigner(t).Public() || !bytes.Equal(a.Seed(), testSeed()) {
		t.Fatal("signer generated from a seed reader differs from the signer of that seed")
	}
	if _, err := GenerateSigner(bytes.NewReader(make([]byte, SeedSize-1))); err == nil {
		t.Fatal("short reader accepted")
	}
	if _, err := NewSignerFromSeed(make([]byte, SeedSize+1)); err == nil {
		t.Fatal("long seed accepted")
	}
}

func TestAResetSignerCannotSign(t *testing.T) {
	s := testSigner(t)
	s.Reset()
	if _, err := s.Sign(testChainContext.ForChain(testChain), nil); err == nil {
		t.Fatal("reset signer signed")
	}
	if s.Seed() != nil {
		t.Fatal("reset signer returned a seed")
	}
}

func TestASignedEnvelopeHasSnakeCaseJSONThatRoundTrips(t *testing.T) {
	var s Signed
	s.Blob = []byte{1, 2, 3}
	s.Signature.PublicKey[0] = 0xaa
	s.Signature.Signature[0] = 0xbb
	out, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"blob":"AQID","signature":{"public_key":"aa` + strings.Repeat("00", 31) + `","signature":"bb` + strings.Repeat("00", 63) + `"}}`
	if string(out) != want {
		t.Fatalf("JSON %s\nwant %s", out, want)
	}
	var back Signed
	if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}
