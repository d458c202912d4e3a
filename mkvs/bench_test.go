package mkvs_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/internal/cputime"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/mkvstest"
	"github.com/atoll-project/atoll/mkvs/node"
)

// benchKey returns the i-th benchmark key: 32 bytes spread uniformly, as hashed keys are.
func benchKey(i int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	h := hash.Digest(b[:])
	return h[:]
}

var benchValue = make([]byte, 64)

// reportCPU reports the CPU time per operation since start (taken with cputime.Process).
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
}

// benchTree returns an in-memory tree holding n committed keys.
func benchTree(b *testing.B, n int) *mkvs.Tree {
	b.Helper()
	ctx := context.Background()
	tree := mkvs.New()
	for i := 0; i < n; i++ {
		if err := tree.Insert(ctx, benchKey(i), benchValue); err != nil {
			b.Fatal(err)
		}
	}
	if _, _, _, err := tree.Commit(ctx, testNS, 1); err != nil {
		b.Fatal(err)
	}
	return tree
}

// BenchmarkInsertCommitBatch inserts new keys into a 100k-key in-memory tree, committing every
// batch keys; one op is one insert (its share of the commit included).
func BenchmarkInsertCommitBatch(b *testing.B) {
	const size = 100_000
	for _, batch := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprint(batch), func(b *testing.B) {
			ctx := context.Background()
			tree := benchTree(b, size)
			defer tree.Close()
			version := uint64(1)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cputime.Process()
			for i := 0; b.Loop(); i++ {
				if err := tree.Insert(ctx, benchKey(size+i), benchValue); err != nil {
					b.Fatal(err)
				}
				if (i+1)%batch == 0 {
					version++
					if _, _, _, err := tree.Commit(ctx, testNS, version); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkPersistedInsertCommit1000 is the §11 write path over the in-memory Store: a tree of
// 200k keys opened on the store with the default node cache, 1000 inserts per commit, each
// batch applied to the store. It measures the tree's part (the store is a map).
func BenchmarkPersistedInsertCommit1000(b *testing.B) {
	const size = 200_000
	ctx := context.Background()
	store := mkvstest.NewMemStore()
	empty := node.Root{Namespace: testNS, Type: node.RootTypeState, Hash: hash.Empty}
	seed := mkvs.NewWithRoot(empty, store)
	for i := 0; i < size; i++ {
		if err := seed.Insert(ctx, benchKey(i), benchValue); err != nil {
			b.Fatal(err)
		}
	}
	_, root, batch, err := seed.Commit(ctx, testNS, 1)
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Apply(ctx, batch); err != nil {
		b.Fatal(err)
	}
	seed.Close()
	tree := mkvs.NewWithRoot(root, store)
	defer tree.Close()
	version := uint64(1)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	defer func() { reportCPU(b, cpu) }()
	for i := 0; b.Loop(); i++ {
		if err := tree.Insert(ctx, benchKey(size+i), benchValue); err != nil {
			b.Fatal(err)
		}
		if (i+1)%1000 == 0 {
			version++
			_, _, batch, err := tree.Commit(ctx, testNS, version)
			if err != nil {
				b.Fatal(err)
			}
			if err := store.Apply(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkGet reads random present keys from a 100k-key in-memory tree.
func BenchmarkGet(b *testing.B) {
	const size = 100_000
	ctx := context.Background()
	tree := benchTree(b, size)
	defer tree.Close()
	keys := make([][]byte, 4096)
	for i := range keys {
		keys[i] = benchKey(i * 24)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 0; b.Loop(); i++ {
		v, err := tree.Get(ctx, keys[i%len(keys)])
		if err != nil || v == nil {
			b.Fatal(err, v)
		}
	}
	reportCPU(b, cpu)
}
