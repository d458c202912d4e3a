package signature

import (
	"encoding/binary"
	"testing"
)

func benchSignatures(b *testing.B, n int) ([]PublicKey, []BoundContext, [][]byte, []RawSignature) {
	b.Helper()
	bctx := testChainContext.ForChain(testChain)
	pks := make([]PublicKey, n)
	ctxs := make([]BoundContext, n)
	msgs := make([][]byte, n)
	sigs := make([]RawSignature, n)
	for i := 0; i < n; i++ {
		seed := make([]byte, SeedSize)
		binary.BigEndian.PutUint64(seed, uint64(i))
		s, err := NewSignerFromSeed(seed)
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = make([]byte, 128)
		binary.BigEndian.PutUint64(msgs[i], uint64(i))
		sig, err := s.Sign(bctx, msgs[i])
		if err != nil {
			b.Fatal(err)
		}
		pks[i], ctxs[i], sigs[i] = s.Public(), bctx, sig
	}
	return pks, ctxs, msgs, sigs
}

func BenchmarkSign(b *testing.B) {
	s := testSigner(b)
	bctx := testChainContext.ForChain(testChain)
	msg := make([]byte, 128)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(bctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify1000 verifies 1000 signatures by distinct keys one at a time; ns/sig is the
// cost of one verification.
func BenchmarkVerify1000(b *testing.B) {
	const n = 1000
	pks, ctxs, msgs, sigs := benchSignatures(b, n)
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < n; i++ {
			if err := Verify(pks[i], ctxs[i], msgs[i], sigs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sig")
}

// BenchmarkBatchVerify1000 verifies the same 1000 signatures as one batch, including the
// cost of adding them.
func BenchmarkBatchVerify1000(b *testing.B) {
	const n = 1000
	pks, ctxs, msgs, sigs := benchSignatures(b, n)
	bv := NewBatchVerifier(n)
	b.ReportAllocs()
	for b.Loop() {
		bv.Reset()
		for i := 0; i < n; i++ {
			bv.Add(pks[i], ctxs[i], msgs[i], sigs[i])
		}
		if ok, _ := bv.Verify(nil); !ok {
			b.Fatal("batch failed")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sig")
}
