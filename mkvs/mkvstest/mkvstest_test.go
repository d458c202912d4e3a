package mkvstest_test

import (
	"context"
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/mkvstest"
	"github.com/atoll-project/atoll/mkvs/node"
)

func TestNaiveRootReproducesKnownRoots(t *testing.T) {
	for _, tc := range []struct {
		name     string
		contents map[string][]byte
		want     string
	}{
		{"empty", nil, "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a"},
		{"foo", map[string][]byte{"foo": []byte("bar")}, "db67c0572006673b488342a45e6590a75e8919265e6da706c80c6b2776017aa7"},
		{"foo and moo", map[string][]byte{"foo": []byte("bar"), "moo": []byte("foo")}, "e627581db43e18410a52793e662e4f21ae6a4fca14e16915a85ec4c3e3e41a13"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mkvstest.NaiveRoot(tc.contents).String(); got != tc.want {
				t.Fatalf("NaiveRoot = %s, want %s", got, tc.want)
			}
		})
	}
}

var ns = namespace.Namespace{7}

// commitTo commits kvs on top of src (applied to store) at version and returns the batch.
func commitTo(t *testing.T, store *mkvstest.MemStore, src node.Root, version uint64, kvs map[string]string) *node.Batch {
	t.Helper()
	ctx := context.Background()
	tree := mkvs.NewWithRoot(src, store)
	defer tree.Close()
	for k, v := range kvs {
		if err := tree.Insert(ctx, []byte(k), []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	_, _, batch, err := tree.Commit(ctx, ns, version)
	if err != nil {
		t.Fatal(err)
	}
	return batch
}

func TestMemStoreChecksTheBatchContract(t *testing.T) {
	ctx := context.Background()
	empty := node.Root{Namespace: ns, Type: node.RootTypeState, Hash: hash.Empty}
	for _, tc := range []struct {
		name string
		edit func(b *node.Batch)
	}{
		{"the root must be the last node", func(b *node.Batch) { b.Nodes = b.Nodes[:len(b.Nodes)-1] }},
		{"nodes must carry the batch version", func(b *node.Batch) { b.Root.Version = 9 }},
		{"the source root must be held", func(b *node.Batch) { b.Src.Hash = hash.Digest([]byte("x")) }},
		{"a new root needs nodes", func(b *node.Batch) { b.Nodes = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := mkvstest.NewMemStore()
			b := commitTo(t, store, empty, 1, map[string]string{"a": "1", "b": "2", "c": "3"})
			tc.edit(b)
			if err := store.Apply(ctx, b); err == nil {
				t.Fatal("Apply accepted a broken batch")
			}
		})
	}
}

func TestMemStoreFinalizeDropsLosersAndReopenKeepsWinners(t *testing.T) {
	ctx := context.Background()
	store := mkvstest.NewMemStore()
	empty := node.Root{Namespace: ns, Type: node.RootTypeState, Hash: hash.Empty}
	base := commitTo(t, store, empty, 1, map[string]string{"a": "1", "b": "2"})
	if err := store.Apply(ctx, base); err != nil {
		t.Fatal(err)
	}
	// Two competing results of version 2.
	win := commitTo(t, store, base.Root, 2, map[string]string{"c": "winner"})
	lose := commitTo(t, store, base.Root, 2, map[string]string{"c": "loser"})
	for _, b := range []*node.Batch{win, lose} {
		if err := store.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	before := store.NodeCount()
	if err := store.Finalize(ctx, 2, []node.Root{win.Root}); err != nil {
		t.Fatal(err)
	}
	if store.NodeCount() >= before {
		t.Fatalf("finalizing kept all %d nodes; the loser's were not dropped", before)
	}
	if _, err := store.RootPointer(lose.Root); !errors.Is(err, node.ErrRootNotFound) {
		t.Fatalf("losing root still opens: %v", err)
	}
	reopened, err := store.Reopen()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.RootPointer(win.Root); !errors.Is(err, mkvstest.ErrStoreClosed) {
		t.Fatalf("the old handle still works: %v", err)
	}
	tree := mkvs.NewWithRoot(win.Root, reopened)
	defer tree.Close()
	for k, want := range map[string]string{"a": "1", "b": "2", "c": "winner"} {
		got, err := tree.Get(ctx, []byte(k))
		if err != nil || string(got) != want {
			t.Fatalf("Get(%q) after reopen = %q, %v; want %q", k, got, err, want)
		}
	}
}

func TestRunOpsCatchesAStoreThatLosesNodes(t *testing.T) {
	ops := []mkvstest.Op{
		{Kind: mkvstest.OpInsert, Key: []byte("a"), Value: []byte("1")},
		{Kind: mkvstest.OpInsert, Key: []byte("b"), Value: []byte("2")},
		{Kind: mkvstest.OpCommit},
		{Kind: mkvstest.OpReopen},
		{Kind: mkvstest.OpGet, Key: []byte("a")},
	}
	rec := &recorder{}
	func() {
		defer func() { _ = recover() }()
		mkvstest.RunOps(rec, forgetfulStore{mkvstest.NewMemStore()}, ops, mkvstest.Params{})
	}()
	if !rec.failed {
		t.Fatal("RunOps passed over a store that drops every batch")
	}
	rec = &recorder{}
	mkvstest.RunOps(rec, mkvstest.NewMemStore(), ops, mkvstest.Params{})
	if rec.failed {
		t.Fatalf("RunOps failed on the memory store: %s", rec.msg)
	}
}

// forgetfulStore accepts batches and drops them.
type forgetfulStore struct{ *mkvstest.MemStore }

func (forgetfulStore) Apply(context.Context, *node.Batch) error { return nil }

func (s forgetfulStore) Reopen() (mkvstest.Store, error) {
	r, err := s.MemStore.Reopen()
	if err != nil {
		return nil, err
	}
	return forgetfulStore{r.(*mkvstest.MemStore)}, nil
}

// recorder is a mkvstest.TB that records the first failure and stops the run.
type recorder struct {
	failed bool
	msg    string
}

func (*recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
	r.msg = format
	panic("fatal")
}

func TestOpsGeneratorMakesEveryKindOfOp(t *testing.T) {
	seen := map[mkvstest.OpKind]bool{}
	rapid.Check(t, func(t *rapid.T) {
		for _, op := range mkvstest.Ops().Draw(t, "ops") {
			seen[op.Kind] = true
		}
	})
	for k := mkvstest.OpInsert; k <= mkvstest.OpFinalize; k++ {
		if !seen[k] {
			t.Errorf("no %v op in 100 sequences", mkvstest.Op{Kind: k})
		}
	}
}
