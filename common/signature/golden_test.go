package signature

import (
	"bytes"
	stded25519 "crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/vectors.json from the current code")

const goldenPath = "testdata/vectors.json"

type goldenFile struct {
	Comment   string         `json:"comment"`
	Seed      string         `json:"seed"`
	PublicKey string         `json:"public_key"`
	Vectors   []goldenVector `json:"vectors"`
}

type goldenVector struct {
	Context      string `json:"context"`
	Chain        string `json:"chain,omitempty"`
	Runtime      string `json:"runtime,omitempty"`
	Message      string `json:"message"`
	BoundContext string `json:"bound_context"`
	Digest       string `json:"digest"`
	Signature    string `json:"signature"`
	Envelope     string `json:"envelope"`
}

// goldenInputs are the (context, chain, runtime, message) tuples of the vectors.
func goldenInputs() []goldenVector {
	chain := hash.Digest([]byte("atoll golden chain")).String()
	runtime := namespace.Namespace(hash.Digest([]byte("atoll golden runtime"))).String()
	return []goldenVector{
		{Context: testChainContext.Name(), Chain: chain, Message: ""},
		{Context: testChainContext.Name(), Chain: chain, Message: hex.EncodeToString([]byte("hello, atoll"))},
		{Context: testRuntimeContext.Name(), Chain: chain, Runtime: runtime, Message: "a1656e6f6e636501"},
		{Context: testUnboundContext.Name(), Message: hex.EncodeToString([]byte("genesis entity descriptor"))},
	}
}

func goldenBind(t *testing.T, v goldenVector) BoundContext {
	t.Helper()
	ctx := map[string]Context{
		testChainContext.Name():   testChainContext,
		testRuntimeContext.Name(): testRuntimeContext,
		testUnboundContext.Name(): testUnboundContext,
	}[v.Context]
	if v.Chain == "" {
		return ctx.Unbound()
	}
	chain, err := hash.FromHex(v.Chain)
	if err != nil {
		t.Fatal(err)
	}
	bctx := ctx.ForChain(chain)
	if v.Runtime != "" {
		id, err := namespace.FromHex(v.Runtime)
		if err != nil {
			t.Fatal(err)
		}
		bctx = bctx.ForRuntime(id)
	}
	return bctx
}

func computeGolden(t *testing.T) goldenFile {
	signer := testSigner(t)
	out := goldenFile{
		Comment:   "Ed25519 over SHA-512/256(bound_context || message); regenerate only for a deliberate wire change (go test -run Golden -update-golden).",
		Seed:      hex.EncodeToString(testSeed()),
		PublicKey: signer.Public().String(),
	}
	for _, v := range goldenInputs() {
		bctx := goldenBind(t, v)
		msg := mustUnhex(t, v.Message)
		digest, err := PrepareMessage(bctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := Sign(signer, bctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		v.BoundContext = bctx.String()
		v.Digest = digest.String()
		v.Signature = sig.Signature.String()
		v.Envelope = hex.EncodeToString(cbor.Marshal(&Signed{Blob: msg, Signature: *sig}))
		out.Vectors = append(out.Vectors, v)
	}
	return out
}

func TestSignaturesMatchTheGoldenVectors(t *testing.T) {
	got := computeGolden(t)
	if *updateGolden {
		data, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.FromSlash(goldenPath), append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.FromSlash(goldenPath))
	if err != nil {
		t.Fatal(err)
	}
	var want goldenFile
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if got.Seed != want.Seed || got.PublicKey != want.PublicKey {
		t.Fatalf("seed %s gives public key %s, golden says %s gives %s", got.Seed, got.PublicKey, want.Seed, want.PublicKey)
	}
	if len(got.Vectors) != len(want.Vectors) {
		t.Fatalf("%d vectors, golden file has %d", len(got.Vectors), len(want.Vectors))
	}
	for i := range want.Vectors {
		if got.Vectors[i] != want.Vectors[i] {
			t.Errorf("vector %d changed:\n got  %+v\n want %+v", i, got.Vectors[i], want.Vectors[i])
		}
	}
}

// TestGoldenVectorsFollowTheDigestRuleIndependently checks the checked-in vectors with the
// standard library alone: the digest is SHA-512/256 of the bound context's bytes followed by
// the message, the signature is deterministic Ed25519 of that digest, and the bound context is
// the name, " for chain " + hex(chain), then " for runtime " + hex(runtime).
func TestGoldenVectorsFollowTheDigestRuleIndependently(t *testing.T) {
	data, err := os.ReadFile(filepath.FromSlash(goldenPath))
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	priv := stded25519.NewKeyFromSeed(mustUnhex(t, g.Seed))
	if pub := hex.EncodeToString(priv.Public().(stded25519.PublicKey)); pub != g.PublicKey {
		t.Fatalf("public key %s, golden %s", pub, g.PublicKey)
	}
	for i, v := range g.Vectors {
		wantCtx := v.Context
		if v.Chain != "" {
			wantCtx += " for chain " + v.Chain
		}
		if v.Runtime != "" {
			wantCtx += " for runtime " + v.Runtime
		}
		if v.BoundContext != wantCtx {
			t.Errorf("vector %d: bound context %q, want %q", i, v.BoundContext, wantCtx)
		}
		digest := sha512.Sum512_256(append([]byte(v.BoundContext), mustUnhex(t, v.Message)...))
		if hex.EncodeToString(digest[:]) != v.Digest {
			t.Errorf("vector %d: digest %x, golden %s", i, digest, v.Digest)
		}
		sig := stded25519.Sign(priv, digest[:])
		if hex.EncodeToString(sig) != v.Signature {
			t.Errorf("vector %d: signature %x, golden %s", i, sig, v.Signature)
		}
		var env Signed
		if err := cbor.UnmarshalCanonical(mustUnhex(t, v.Envelope), &env); err != nil {
			t.Errorf("vector %d: envelope: %v", i, err)
			continue
		}
		if !bytes.Equal(env.Blob, mustUnhex(t, v.Message)) || env.Signature.Signature.String() != v.Signature ||
			env.Signature.PublicKey.String() != g.PublicKey {
			t.Errorf("vector %d: envelope holds %+v", i, env)
		}
		if err := env.Verify(goldenBind(t, v)); err != nil {
			t.Errorf("vector %d: envelope does not verify: %v", i, err)
		}
	}
}
