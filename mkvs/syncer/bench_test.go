package syncer_test

import (
	"context"
	"testing"

	"github.com/atoll-project/atoll/mkvs/syncer"
)

const benchKeys = 100_000

// BenchmarkProofGet measures building the proof for one key on a large tree held in memory.
func BenchmarkProofGet(b *testing.B) {
	tree := testTree(b, benchKeys)
	defer tree.Close()
	root := tree.Root()
	ctx := context.Background()
	req := &syncer.GetRequest{Tree: syncer.TreeID{Root: root, Position: root.Hash}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		req.Key = testKey(i%benchKeys, benchKeys)
		if _, err := tree.SyncGet(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyProof measures verifying a proof for one key on a large tree.
func BenchmarkVerifyProof(b *testing.B) {
	tree := testTree(b, benchKeys)
	defer tree.Close()
	root := tree.Root().Hash
	proofs := make([]*syncer.Proof, 64)
	for i := range proofs {
		proofs[i] = proveGet(b, tree, testKey(i*1543, benchKeys), false)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := syncer.VerifyProof(root, proofs[i%len(proofs)]); err != nil {
			b.Fatal(err)
		}
	}
}
