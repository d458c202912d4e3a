package api

import (
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/signature"
)

// FuzzDecodeRuntime feeds untrusted bytes through the path of a registry.RegisterRuntime body
// or an update_runtime message: strict decoding, then every rule. Nothing may panic, and what
// decodes must re-encode to its input.
func FuzzDecodeRuntime(f *testing.F) {
	f.Add(cbor.Marshal(validRuntime(f)))
	old := updateOld(f)
	f.Add(cbor.Marshal(old))
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		rt, err := DecodeRuntime(data)
		if err != nil {
			return
		}
		if string(cbor.Marshal(rt)) != string(data) {
			t.Fatal("accepted a non-canonical descriptor")
		}
		p := testParams()
		p.DebugAllowMockTEE = true
		_ = ValidateRuntime(p, rt)
		_ = VerifyRuntimeRegistration(p, rt, 10, false)
		_ = VerifyRuntimeUpdate(p, updateOld(t), rt, updateEpoch, AnnouncedVersions{{Version: v(9)}})
		_ = rt.ActiveDeployment(10)
		_ = rt.NextDeployment(10)
	})
}

// FuzzOpenSignedDescriptors feeds untrusted bytes as the signed envelopes of entities (a
// registry.RegisterEntity body) and genesis runtimes: nothing may panic, and whatever opens
// must be canonical and valid.
func FuzzOpenSignedDescriptors(f *testing.F) {
	e := &Entity{ID: testKey(f, "entity"), Nodes: []signature.PublicKey{testKey(f, "node")}}
	bctx := RegisterEntitySignatureContext.ForChain(testChain)
	se, err := SignEntity(testSigner(f, "entity"), bctx, e)
	if err != nil {
		f.Fatal(err)
	}
	sr, err := SignGenesisRuntime(testSigner(f, "entity"), validRuntime(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cbor.Marshal(se))
	f.Add(cbor.Marshal(sr))
	f.Add(se.Blob)
	f.Fuzz(func(t *testing.T, data []byte) {
		var s signature.Signed
		if err := cbor.UnmarshalCanonical(data, &s); err != nil {
			// The raw bytes as an entity blob, without a signature.
			var e Entity
			if cbor.UnmarshalCanonical(data, &e) == nil {
				_ = e.ValidateBasic()
			}
			return
		}
		if got, err := OpenEntity(&s, bctx); err == nil {
			if err := got.ValidateBasic(); err != nil || string(cbor.Marshal(got)) != string(s.Blob) {
				t.Fatalf("opened an invalid or non-canonical entity: %v", err)
			}
		}
		if rt, err := OpenGenesisRuntime(&s); err == nil {
			if string(cbor.Marshal(rt)) != string(s.Blob) {
				t.Fatal("opened a non-canonical runtime")
			}
			_ = VerifyRuntimeRegistration(testParams(), rt, 0, true)
		}
	})
}
