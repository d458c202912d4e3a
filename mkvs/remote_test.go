package mkvs_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sort"
	"sync/atomic"
	"testing"

	"pgregory.net/rapid"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/mkvstest"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/syncer"
)

// peer is a remote tree as a client sees it: it counts requests and can tamper with proofs.
type peer struct {
	rs       syncer.ReadSyncer
	requests atomic.Int64
	tamper   func(*syncer.Proof)
}

func (p *peer) answer(resp *syncer.ProofResponse, err error) (*syncer.ProofResponse, error) {
	p.requests.Add(1)
	if err == nil && p.tamper != nil {
		p.tamper(&resp.Proof)
	}
	return resp, err
}

func (p *peer) SyncGet(ctx context.Context, req *syncer.GetRequest) (*syncer.ProofResponse, error) {
	return p.answer(p.rs.SyncGet(ctx, req))
}

func (p *peer) SyncGetPrefixes(ctx context.Context, req *syncer.GetPrefixesRequest) (*syncer.ProofResponse, error) {
	return p.answer(p.rs.SyncGetPrefixes(ctx, req))
}

func (p *peer) SyncIterate(ctx context.Context, req *syncer.IterateRequest) (*syncer.ProofResponse, error) {
	return p.answer(p.rs.SyncIterate(ctx, req))
}

// remoteSetup persists a tree and serves it from a tree opened on the store, as a storage node
// does.
func remoteSetup(t *testing.T, n int) (node.Root, map[string][]byte, *peer) {
	t.Helper()
	store := mkvstest.NewMemStore()
	root, model := persistedTree(t, store, n)
	server := mkvs.NewWithRoot(root, store)
	t.Cleanup(server.Close)
	return root, model, &peer{rs: server}
}

func TestTreeOverAReadSyncerReadsThroughVerifiedProofs(t *testing.T) {
	ctx := context.Background()
	root, model, p := remoteSetup(t, 300)
	client := mkvs.NewWithSyncer(root, p)
	defer client.Close()
	for k, v := range model {
		if got := mustGet(t, client, k); !bytes.Equal(got, v) {
			t.Fatalf("Get(%q) = %q, want %q", k, got, v)
		}
	}
	if got := mustGet(t, client, "absent"); got != nil {
		t.Fatalf("Get(absent) = %q", got)
	}
	before := p.requests.Load()
	for k := range model {
		mustGet(t, client, k)
	}
	if n := p.requests.Load() - before; n != 0 {
		t.Fatalf("reading loaded keys again made %d requests", n)
	}

	keys := make([]string, 0, len(model))
	for k := range model {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, tc := range []struct {
		name string
		seek []byte
		from int
	}{{"a full iteration", nil, 0}, {"a seek half way", []byte(keys[150]), 150}} {
		t.Run(tc.name, func(t *testing.T) {
			fresh := mkvs.NewWithSyncer(root, p, mkvs.WithSyncPrefetch(7))
			defer fresh.Close()
			it := fresh.NewIterator(ctx)
			defer it.Close()
			it.Seek(tc.seek)
			if got := collect(t, it, len(keys)); !slices.Equal(got, keys[tc.from:]) {
				t.Fatalf("iteration gave %d keys, want %d", len(got), len(keys)-tc.from)
			}
		})
	}
}

func TestTreeOverAReadSyncerCommitsLocalChanges(t *testing.T) {
	ctx := context.Background()
	root, model, p := remoteSetup(t, 200)
	client := mkvs.NewWithSyncer(root, p, mkvs.WithNodeCache(1))
	defer client.Close()
	i := 0
	for k := range model {
		if i%2 == 0 {
			mustRemove(t, client, k)
			delete(model, k)
		} else {
			mustInsert(t, client, k, "changed")
			model[k] = []byte("changed")
		}
		i++
	}
	mustInsert(t, client, "brand new", "x")
	model["brand new"] = []byte("x")
	_, got, _, err := client.Commit(ctx, testNS, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := mkvstest.NaiveRoot(model); got.Hash != want {
		t.Fatalf("root %s, want %s", got.Hash, want)
	}
}

func TestPrefetchPrefixesLoadsTheKeysInOneRequest(t *testing.T) {
	root, model, p := remoteSetup(t, 300)
	client := mkvs.NewWithSyncer(root, p)
	defer client.Close()
	prefixes := [][]byte{[]byte("key-1"), []byte("key-5")}
	if err := client.PrefetchPrefixes(context.Background(), prefixes, 0); err != nil {
		t.Fatal(err)
	}
	if n := p.requests.Load(); n != 1 {
		t.Fatalf("prefetch made %d requests, want 1", n)
	}
	var want int
	for k, v := range model {
		if bytes.HasPrefix([]byte(k), prefixes[0]) || bytes.HasPrefix([]byte(k), prefixes[1]) {
			want++
			if got := mustGet(t, client, k); !bytes.Equal(got, v) {
				t.Fatalf("Get(%q) = %q", k, got)
			}
		}
	}
	if n := p.requests.Load(); want == 0 || n != 1 {
		t.Fatalf("reading %d prefetched keys made %d more requests, want 0", want, n-1)
	}
}

func TestTreeOverAReadSyncerRejectsBadProofs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tamper  func(*syncer.Proof)
		wantErr error
	}{
		{"a changed byte in the last node", func(p *syncer.Proof) {
			e := p.Entries[len(p.Entries)-1]
			if len(e) > 0 {
				e[len(e)-1] ^= 1
			}
		}, syncer.ErrHashMismatch},
		{"a proof for another root", func(p *syncer.Proof) { p.UntrustedRoot = hash.Digest([]byte("other")) }, syncer.ErrRootMismatch},
		{"a truncated proof", func(p *syncer.Proof) { p.Entries = p.Entries[:len(p.Entries)-1] }, syncer.ErrInvalidProof},
		{"a proof with an extra entry", func(p *syncer.Proof) { p.Entries = append(p.Entries, nil) }, syncer.ErrTrailingEntries},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			root, _, p := remoteSetup(t, 50)
			p.tamper = tc.tamper
			client := mkvs.NewWithSyncer(root, p)
			defer client.Close()
			if _, err := client.Get(ctx, []byte("key-07919")); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Get: %v, want %v", err, tc.wantErr)
			}
			it := client.NewIterator(ctx)
			defer it.Close()
			it.Rewind()
			if it.Valid() || !errors.Is(it.Err(), tc.wantErr) {
				t.Fatalf("iterator: valid %v, err %v, want %v", it.Valid(), it.Err(), tc.wantErr)
			}
		})
	}
}

func TestServingChecksTheRootAndThePosition(t *testing.T) {
	ctx := context.Background()
	store := mkvstest.NewMemStore()
	root, _ := persistedTree(t, store, 100)
	server := mkvs.NewWithRoot(root, store)
	defer server.Close()
	key := []byte("key-07919")

	// Honouring the position: the proof starts at the node it names.
	resp, err := server.SyncGet(ctx, &syncer.GetRequest{Tree: syncer.TreeID{Root: root, Position: root.Hash}, Key: key, IncludeSiblings: true})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := syncer.VerifyProof(root.Hash, &resp.Proof)
	if err != nil {
		t.Fatal(err)
	}
	in := sub.Node.(*node.InternalNode)
	child := in.Left
	if child == nil || child.Node == nil {
		child = in.Right
	}
	resp, err = server.SyncGet(ctx, &syncer.GetRequest{Tree: syncer.TreeID{Root: root, Position: child.Hash}, Key: key})
	if err != nil {
		t.Fatalf("SyncGet at a child position: %v", err)
	}
	if resp.Proof.UntrustedRoot != child.Hash {
		t.Fatalf("proof rooted at %s, want the position %s", resp.Proof.UntrustedRoot, child.Hash)
	}
	if _, err := syncer.VerifyProof(child.Hash, &resp.Proof); err != nil {
		t.Fatalf("proof at the position: %v", err)
	}

	for _, tc := range []struct {
		name    string
		req     *syncer.GetRequest
		dirty   bool
		wantErr error
	}{
		{"another root is not served", &syncer.GetRequest{Tree: syncer.TreeID{Root: node.Root{Hash: hash.Digest([]byte("x"))}}, Key: key}, false, syncer.ErrInvalidRoot},
		{"a position off the key's path is not found", &syncer.GetRequest{Tree: syncer.TreeID{Root: root, Position: hash.Digest([]byte("x"))}, Key: key}, false, syncer.ErrPositionNotFound},
		{"a tree with uncommitted changes does not serve", &syncer.GetRequest{Tree: syncer.TreeID{Root: root, Position: root.Hash}, Key: key}, true, syncer.ErrDirtyRoot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := mkvs.NewWithRoot(root, store)
			defer tree.Close()
			if tc.dirty {
				mustInsert(t, tree, "dirt", "x")
			}
			if _, err := tree.SyncGet(ctx, tc.req); !errors.Is(err, tc.wantErr) {
				t.Fatalf("SyncGet: %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestAnEmptyTreeServesAProofOfEmptiness(t *testing.T) {
	tree := mkvs.New()
	defer tree.Close()
	root := tree.Root()
	resp, err := tree.SyncGet(context.Background(), &syncer.GetRequest{Tree: syncer.TreeID{Root: root, Position: root.Hash}, Key: []byte("a")})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := syncer.VerifyProof(hash.Empty, &resp.Proof)
	if err != nil || sub != nil {
		t.Fatalf("VerifyProof = %v, %v; want nil, nil", sub, err)
	}
	client := mkvs.NewWithSyncer(root, tree)
	defer client.Close()
	if v := mustGet(t, client, "a"); v != nil {
		t.Fatalf("Get on an empty remote tree = %q", v)
	}
}

// TestRemoteTreeMatchesMapModel runs random operations on a tree over a remote peer (with a
// node cache small enough to drop and fetch nodes again) against a map.
func TestRemoteTreeMatchesMapModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ctx := context.Background()
		model := map[string][]byte{}
		server := mkvs.New()
		defer server.Close()
		n := rapid.IntRange(0, 80).Draw(rt, "initial")
		for j := 0; j < n; j++ {
			k := mkvstest.Key().Draw(rt, "key")
			if err := server.Insert(ctx, k, k); err != nil {
				rt.Fatal(err)
			}
			model[string(k)] = k
		}
		_, root, _, err := server.Commit(ctx, testNS, 1)
		if err != nil {
			rt.Fatal(err)
		}
		cache := rapid.SampledFrom([]int{0, 1, 4 << 10}).Draw(rt, "cache")
		client := mkvs.NewWithSyncer(root, &peer{rs: server}, mkvs.WithNodeCache(cache), mkvs.WithSyncPrefetch(2))
		defer client.Close()
		version := uint64(1)
		for i, op := range mkvstest.Ops().Draw(rt, "ops") {
			switch op.Kind {
			case mkvstest.OpCommit:
				version++
				_, got, _, err := client.Commit(ctx, testNS, version)
				if err != nil {
					rt.Fatalf("op %d %v: %v", i, op, err)
				}
				if want := mkvstest.NaiveRoot(model); got.Hash != want {
					rt.Fatalf("op %d %v: root %s, want %s", i, op, got.Hash, want)
				}
			case mkvstest.OpInsert:
				if err := client.Insert(ctx, op.Key, op.Value); err != nil {
					rt.Fatalf("op %d %v: %v", i, op, err)
				}
				model[string(op.Key)] = append([]byte{}, op.Value...)
			case mkvstest.OpRemove:
				if err := client.Remove(ctx, op.Key); err != nil {
					rt.Fatalf("op %d %v: %v", i, op, err)
				}
				delete(model, string(op.Key))
			case mkvstest.OpIterate:
				it := client.NewIterator(ctx)
				it.Seek(op.Key)
				var want []string
				for k := range model {
					if k >= string(op.Key) {
						want = append(want, k)
					}
				}
				sort.Strings(want)
				for j := 0; j < len(want) && j <= op.Count; j++ {
					if !it.Valid() || string(it.Key()) != want[j] || !bytes.Equal(it.Value(), model[want[j]]) {
						rt.Fatalf("op %d %v: key %d = %q (valid %v, err %v), want %q", i, op, j, it.Key(), it.Valid(), it.Err(), want[j])
					}
					it.Next()
				}
				if it.Err() != nil {
					rt.Fatalf("op %d %v: %v", i, op, it.Err())
				}
				it.Close()
			default:
				got, err := client.Get(ctx, op.Key)
				want, ok := model[string(op.Key)]
				if err != nil || (got != nil) != ok || !bytes.Equal(got, want) {
					rt.Fatalf("op %d Get(%q) = %q, %v; want %q", i, op.Key, got, err, want)
				}
			}
		}
	})
}
