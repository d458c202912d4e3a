package node

import (
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/signature"
)

// FuzzOpenSigned feeds untrusted bytes through the path a registry.RegisterNode body takes:
// strict decoding of the envelope, then OpenSigned. Nothing may panic, and whatever opens
// must re-encode to its blob and pass ValidateBasic.
func FuzzOpenSigned(f *testing.F) {
	bctx := RegisterSignatureContext.ForChain(testChain)
	s, err := Sign(testSigner(f, "node"), bctx, validNode(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cbor.Marshal(s))
	f.Add(s.Blob)
	f.Add([]byte{0xa0})
	f.Add([]byte{0xa2, 0x64, 'b', 'l', 'o', 'b', 0x40, 0x69, 's', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', 0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var env signature.Signed
		if err := cbor.UnmarshalCanonical(data, &env); err == nil {
			if n, err := OpenSigned(&env, bctx); err == nil {
				if string(cbor.Marshal(n)) != string(env.Blob) {
					t.Fatal("opened a non-canonical blob")
				}
				if err := n.ValidateBasic(); err != nil {
					t.Fatalf("opened an invalid descriptor: %v", err)
				}
			}
		}
		// The blob itself, as a descriptor: decoding must not panic, and ValidateBasic must
		// not panic on whatever decodes.
		var n Node
		if err := cbor.UnmarshalCanonical(data, &n); err == nil {
			_ = n.ValidateBasic()
			_ = n.RuntimeIDs()
		}
	})
}

// FuzzAddress checks that the hand-written address parsers never panic and that whatever
// ValidateAddress accepts has a port.
func FuzzAddress(f *testing.F) {
	for _, s := range []string{"127.0.0.1:80", "[::1]:80", "[1:2:3:4:5:6:1.2.3.4]:80", "a.b:1", "x@y:1", "[", "[]:", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = ValidateConsensusAddress(s)
		if ValidateAddress(s) == nil {
			if _, _, err := splitHostPort(s); err != nil {
				t.Fatalf("accepted %q but cannot split it", s)
			}
		}
	})
}
