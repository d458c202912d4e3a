package mkvs_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/mkvstest"
	"github.com/atoll-project/atoll/mkvs/node"
)

// countingReader counts the nodes a tree loads.
type countingReader struct {
	node.Reader
	loads atomic.Int64
}

func (r *countingReader) GetNode(root node.Root, ptr *node.Pointer) (node.Node, error) {
	r.loads.Add(1)
	return r.Reader.GetNode(root, ptr)
}

// persistedTree commits n keys into store and returns the root and the contents.
func persistedTree(t testing.TB, store mkvstest.Store, n int) (node.Root, map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	tree := mkvs.NewWithRoot(node.Root{Namespace: testNS, Type: node.RootTypeState, Hash: hash.Empty}, store)
	defer tree.Close()
	model := map[string][]byte{}
	for i := 0; i < n; i++ {
		k, v := fmt.Sprintf("key-%05d", i*7919%100000), fmt.Sprintf("value-%d", i)
		mustInsert(t, tree, k, v)
		model[k] = []byte(v)
	}
	_, root, batch, err := tree.Commit(ctx, testNS, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Apply(ctx, batch); err != nil {
		t.Fatal(err)
	}
	return root, model
}

func TestTreeLoadsOnlyTheNodesAnOperationReaches(t *testing.T) {
	store := mkvstest.NewMemStore()
	root, model := persistedTree(t, store, 500)
	reader := &countingReader{Reader: store}
	tree := mkvs.NewWithRoot(root, reader)
	defer tree.Close()
	if n := reader.loads.Load(); n != 0 {
		t.Fatalf("opening the tree loaded %d nodes, want 0", n)
	}
	if v := mustGet(t, tree, "key-07919"); string(v) != string(model["key-07919"]) {
		t.Fatalf("Get = %q", v)
	}
	if n := reader.loads.Load(); n == 0 || n > 30 {
		t.Fatalf("one Get loaded %d nodes, want a path (1..30) of the %d", n, store.NodeCount())
	}
	before := reader.loads.Load()
	mustGet(t, tree, "key-07919")
	if n := reader.loads.Load(); n != before {
		t.Fatalf("repeating the Get loaded %d more nodes, want 0", n-before)
	}
	for k, v := range model {
		if got := mustGet(t, tree, k); string(got) != string(v) {
			t.Fatalf("Get(%q) = %q, want %q", k, got, v)
		}
	}
}

func TestTreeWithATinyNodeCacheReloadsNodesAndStaysCorrect(t *testing.T) {
	ctx := context.Background()
	store := mkvstest.NewMemStore()
	root, model := persistedTree(t, store, 300)
	reader := &countingReader{Reader: store}
	tree := mkvs.NewWithRoot(root, reader, mkvs.WithNodeCache(1))
	defer tree.Close()
	for round := 0; round < 2; round++ {
		for k, v := range model {
			if got := mustGet(t, tree, k); string(got) != string(v) {
				t.Fatalf("Get(%q) = %q, want %q", k, got, v)
			}
		}
	}
	if n := reader.loads.Load(); n < int64(2*len(model)) {
		t.Fatalf("%d loads for %d Gets: nodes were not dropped", n, 2*len(model))
	}
	// Keep writing and committing on top of the dropped nodes.
	for v := uint64(2); v < 6; v++ {
		for i := 0; i < 50; i++ {
			k := fmt.Sprintf("key-%05d", (int(v)*131+i*17)%100000)
			if i%3 == 0 {
				mustRemove(t, tree, k)
				delete(model, k)
			} else {
				mustInsert(t, tree, k, fmt.Sprint(v))
				model[k] = []byte(fmt.Sprint(v))
			}
		}
		_, root, batch, err := tree.Commit(ctx, testNS, v)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Apply(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if want := mkvstest.NaiveRoot(model); root.Hash != want {
			t.Fatalf("version %d: root %s, want %s", v, root.Hash, want)
		}
	}
}

func TestTreeOpenedAtAnUnknownRootFailsOnFirstUse(t *testing.T) {
	root := node.Root{Namespace: testNS, Version: 3, Type: node.RootTypeState, Hash: hash.Digest([]byte("nope"))}
	tree := mkvs.NewWithRoot(root, mkvstest.NewMemStore())
	defer tree.Close()
	if _, err := tree.Get(context.Background(), []byte("a")); !errors.Is(err, node.ErrRootNotFound) {
		t.Fatalf("Get: %v, want ErrRootNotFound", err)
	}
}

// lyingReader returns another node than the one asked for.
type lyingReader struct{ node.Reader }

func (r lyingReader) GetNode(node.Root, *node.Pointer) (node.Node, error) {
	l := &node.LeafNode{Key: []byte("x"), Value: []byte("y")}
	l.UpdateHash()
	return l, nil
}

func TestTreeRejectsANodeWithTheWrongHashFromTheStore(t *testing.T) {
	store := mkvstest.NewMemStore()
	root, _ := persistedTree(t, store, 10)
	tree := mkvs.NewWithRoot(root, lyingReader{store})
	defer tree.Close()
	if _, err := tree.Get(context.Background(), []byte("a")); !errors.Is(err, mkvs.ErrCorruptNode) {
		t.Fatalf("Get: %v, want ErrCorruptNode", err)
	}
}
