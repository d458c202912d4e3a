package db

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/node"
)

// chainOps are the deterministic changes of version v of a test chain: about n operations over
// a pool of keys, a fifth of them removals. Replaying versions 1..v gives the contents at v.
func chainOps(seed, v uint64, n int) (keys, values [][]byte) {
	rng := rand.New(rand.NewPCG(seed, v))
	for i := range n {
		k := hash.Digest(binary.BigEndian.AppendUint64([]byte("key"), rng.Uint64N(uint64(4*n+100))))
		keys = append(keys, k[:])
		if rng.IntN(5) == 0 {
			values = append(values, nil)
			continue
		}
		val := hash.Digest(binary.BigEndian.AppendUint64(nil, v), binary.BigEndian.AppendUint64(nil, uint64(i)))
		values = append(values, append(val[:], val[:]...))
	}
	return keys, values
}

// chainContents replays versions 1..upTo.
func chainContents(seed, upTo uint64, n int) map[string][]byte {
	kv := map[string][]byte{}
	for v := uint64(1); v <= upTo; v++ {
		keys, values := chainOps(seed, v, n)
		for i, k := range keys {
			if values[i] == nil {
				delete(kv, string(k))
			} else {
				kv[string(k)] = values[i]
			}
		}
	}
	return kv
}

// commitChainVersion applies version v's operations to tree, commits, applies and finalizes it.
func commitChainVersion(ctx context.Context, d *DB, tree *mkvs.Tree, seed, v uint64, n int) (node.Root, error) {
	keys, values := chainOps(seed, v, n)
	for i, k := range keys {
		var err error
		if values[i] == nil {
			err = tree.Remove(ctx, k)
		} else {
			err = tree.Insert(ctx, k, values[i])
		}
		if err != nil {
			return node.Root{}, err
		}
	}
	_, root, batch, err := tree.Commit(ctx, testNS, v)
	if err != nil {
		return node.Root{}, err
	}
	if err := d.Apply(ctx, batch); err != nil {
		return node.Root{}, err
	}
	if err := d.Finalize(ctx, v, []node.Root{root}); err != nil {
		return node.Root{}, err
	}
	return root, nil
}

func checkTreeContents(t testing.TB, d *DB, root node.Root, want map[string][]byte) {
	t.Helper()
	got, _ := readAll(t, d, root)
	if len(got) != len(want) {
		t.Fatalf("%s holds %d keys, want %d", root, len(got), len(want))
	}
	for k, v := range want {
		if !bytes.Equal(got[k], v) {
			t.Fatalf("%s: key %x = %x, want %x", root, k, got[k], v)
		}
	}
	tree := mkvs.NewWithRoot(root, d)
	defer tree.Close()
	for k, v := range want {
		val, err := tree.Get(context.Background(), []byte(k))
		if err != nil || !bytes.Equal(val, v) {
			t.Fatalf("tree get %x = %x, %v; want %x", k, val, err, v)
		}
		break
	}
}

func TestRealTreeCommitsPersistAndReopen(t *testing.T) {
	ctx := context.Background()
	d := openMem(t, nil)
	tree := mkvs.New()
	defer tree.Close()
	const seed, n = 11, 200
	var roots []node.Root
	for v := uint64(1); v <= 12; v++ {
		root, err := commitChainVersion(ctx, d, tree, seed, v, n)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, root)
		if v > 4 {
			mustPrune(t, d, v-4)
		}
		if v == 6 {
			// Continue from the DB rather than the in-memory tree.
			tree.Close()
			tree = mkvs.NewWithRoot(root, d, mkvs.WithNodeCache(1<<10))
		}
	}
	for v := uint64(9); v <= 12; v++ {
		checkTreeContents(t, d, roots[v-1], chainContents(seed, v, n))
	}
	for k, want := range chainContents(seed, 12, n) {
		got, err := d.GetLatest(ctx, []byte(k))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("latest %x = %x, %v", k, got, err)
		}
	}
	// A commit without changes keeps the root node; the DB registers it at the new version.
	_, root, batch, err := tree.Commit(ctx, testNS, 13)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, d, batch)
	if p, err := d.RootPointer(root); err != nil || p.Version != 12 {
		t.Fatalf("unchanged root pointer = %+v, %v", p, err)
	}
}

// TestPruneWithCommitListsRemovesExactlyTheGarbage drives real trees (whose batches list the
// nodes they replace, node.Batch.Obsolete) through inserts, removals, competing results,
// carried roots, IO trees and reopening, and checks after every Prune that the DB holds exactly
// the nodes its retained roots reach.
func TestPruneWithCommitListsRemovesExactlyTheGarbage(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(seed, 21))
			d := openMem(t, nil)
			tree := mkvs.New(mkvs.WithNodeCache(1 << 12))
			defer func() { tree.Close() }()
			state := node.Root{Namespace: testNS, Type: node.RootTypeState, Hash: hash.Empty}
			model := map[string][]byte{}
			retained := map[uint64][]node.Root{}
			const keep = 3
			change := func(tr *mkvs.Tree, m map[string][]byte, n int) {
				for range n {
					k := hash.Digest(binary.BigEndian.AppendUint64(nil, rng.Uint64N(60)))
					key := k[:1+rng.IntN(3)]
					if rng.IntN(3) == 0 {
						if err := tr.Remove(ctx, key); err != nil {
							t.Fatal(err)
						}
						delete(m, string(key))
						continue
					}
					v := []byte(fmt.Sprint(rng.Uint64()))
					if err := tr.Insert(ctx, key, v); err != nil {
						t.Fatal(err)
					}
					if m != nil {
						m[string(key)] = v
					}
				}
			}
			for v := uint64(1); v <= 60; v++ {
				var final []node.Root
				if v > 1 && rng.IntN(6) == 0 {
					r, err := d.CarryForward(ctx, state, v)
					if err != nil {
						t.Fatal(err)
					}
					state = r
					if rng.IntN(2) == 0 || tree.Root().Version+keep <= v {
						tree.Close()
						tree = mkvs.NewWithRoot(state, d, mkvs.WithNodeCache(1<<12))
					}
				} else {
					for range rng.IntN(3) { // competing results from the same root
						other := mkvs.NewWithRoot(state, d)
						change(other, nil, 1+rng.IntN(8))
						_, _, b, err := other.Commit(ctx, testNS, v)
						if err != nil {
							t.Fatal(err)
						}
						mustApply(t, d, b)
						other.Close()
					}
					change(tree, model, 1+rng.IntN(12))
					_, r, b, err := tree.Commit(ctx, testNS, v)
					if err != nil {
						t.Fatal(err)
					}
					mustApply(t, d, b)
					state = r
				}
				final = append(final, state)
				if rng.IntN(2) == 0 {
					io := mkvs.New(mkvs.WithRootType(node.RootTypeIO))
					change(io, nil, 1+rng.IntN(5))
					_, r, b, err := io.Commit(ctx, testNS, v)
					if err != nil {
						t.Fatal(err)
					}
					io.Close()
					mustApply(t, d, b)
					final = append(final, r)
				}
				mustFinalize(t, d, v, final...)
				retained[v] = final
				if v > keep {
					mustPrune(t, d, v-keep)
					delete(retained, v-keep)
				}
				reach := map[cacheKey]bool{}
				for _, roots := range retained {
					for _, r := range roots {
						if r.IsEmpty() {
							continue
						}
						_, nodes := readAll(t, d, r)
						for ref := range nodes {
							reach[cacheKey{version: ref.Version, typ: r.Type, hash: ref.Hash}] = true
						}
					}
				}
				if got := countKeys(t, d, []byte{prefixNode}); got != len(reach) {
					t.Fatalf("version %d: %d node records, retained roots reach %d", v, got, len(reach))
				}
				kv, _ := readAll(t, d, state)
				if len(kv) != len(model) {
					t.Fatalf("version %d: tree holds %d keys, model %d", v, len(kv), len(model))
				}
			}
		})
	}
}
