package mkvs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/mkvs"
	"github.com/atoll-project/atoll/mkvs/mkvstest"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/syncer"
)

var testNS = namespace.Namespace{0x42}

func mustInsert(t testing.TB, tree *mkvs.Tree, key, value string) {
	t.Helper()
	if err := tree.Insert(context.Background(), []byte(key), []byte(value)); err != nil {
		t.Fatalf("Insert(%q): %v", key, err)
	}
}

func mustRemove(t testing.TB, tree *mkvs.Tree, key string) {
	t.Helper()
	if err := tree.Remove(context.Background(), []byte(key)); err != nil {
		t.Fatalf("Remove(%q): %v", key, err)
	}
}

func mustCommit(t testing.TB, tree *mkvs.Tree, version uint64) (node.Root, *node.Batch) {
	t.Helper()
	_, root, batch, err := tree.Commit(context.Background(), testNS, version)
	if err != nil {
		t.Fatalf("Commit(%d): %v", version, err)
	}
	return root, batch
}

func mustGet(t testing.TB, tree *mkvs.Tree, key string) []byte {
	t.Helper()
	v, err := tree.Get(context.Background(), []byte(key))
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v
}

func rootOf(t testing.TB, kvs map[string]string) hash.Hash {
	t.Helper()
	tree := mkvs.New()
	defer tree.Close()
	for k, v := range kvs {
		mustInsert(t, tree, k, v)
	}
	root, _ := mustCommit(t, tree, 1)
	return root.Hash
}

func TestTreeReproducesKnownRoots(t *testing.T) {
	for _, tc := range []struct {
		name string
		kvs  map[string]string
		want string
	}{
		{"an empty tree hashes to H(\"\")", nil, "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a"},
		{"a one-key tree is its leaf", map[string]string{"foo": "bar"}, "db67c0572006673b488342a45e6590a75e8919265e6da706c80c6b2776017aa7"},
		{"two keys hang under a 4-bit label", map[string]string{"foo": "bar", "moo": "foo"}, "e627581db43e18410a52793e662e4f21ae6a4fca14e16915a85ec4c3e3e41a13"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rootOf(t, tc.kvs); got.String() != tc.want {
				t.Fatalf("root = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRootsMatchTheNaiveOracle(t *testing.T) {
	// Shapes that exercise labels: prefixes, leaf slots, the empty key, labels across bytes.
	for _, keys := range [][]string{
		{"", "a"},
		{"a", "ab", "abc"},
		{"", "\x00", "\x00\x00", "\x80"},
		{"\xff\xff", "\xff\xfe", "\xff"},
		{"abcdefgh1", "abcdefgh2", "abcdefgi", "b"},
	} {
		t.Run(fmt.Sprintf("%q", keys), func(t *testing.T) {
			kvs := map[string]string{}
			model := map[string][]byte{}
			for i, k := range keys {
				kvs[k] = fmt.Sprint(i)
				model[k] = []byte(fmt.Sprint(i))
			}
			if got, want := rootOf(t, kvs), mkvstest.NaiveRoot(model); got != want {
				t.Fatalf("root = %s, want %s", got, want)
			}
		})
	}
}

func TestRemovingKeysRestoresEarlierRootsExactly(t *testing.T) {
	keys := []string{"foo", "moo", "fo", "f", "", "foo\x00", "foobar", "\xff", "\x00", "foobaz"}
	tree := mkvs.New()
	defer tree.Close()
	root, _ := mustCommit(t, tree, 0)
	roots := []hash.Hash{root.Hash}
	dumps := [][][]byte{dumpTree(t, tree)}
	version := uint64(0)
	for _, k := range keys {
		mustInsert(t, tree, k, "v"+k)
		version++
		root, _ := mustCommit(t, tree, version)
		roots = append(roots, root.Hash)
		dumps = append(dumps, dumpTree(t, tree))
	}
	for i := len(keys) - 1; i >= 0; i-- {
		mustRemove(t, tree, keys[i])
		version++
		root, _ := mustCommit(t, tree, version)
		if root.Hash != roots[i] {
			t.Fatalf("after removing %q: root %s, want the earlier %s", keys[i], root.Hash, roots[i])
		}
		if got := dumpTree(t, tree); !equalEntries(got, dumps[i]) {
			t.Fatalf("after removing %q: the tree's nodes differ from the earlier tree's", keys[i])
		}
	}
}

// dumpTree returns the serialization of every node of a clean tree, in pre-order.
func dumpTree(t *testing.T, tree *mkvs.Tree) [][]byte {
	t.Helper()
	root := tree.Root()
	resp, err := tree.SyncGetPrefixes(context.Background(), &syncer.GetPrefixesRequest{
		Tree: syncer.TreeID{Root: root, Position: root.Hash}, Prefixes: [][]byte{{}},
	})
	if err != nil {
		t.Fatalf("dumping the tree: %v", err)
	}
	for _, e := range resp.Proof.Entries {
		if len(e) > 0 && e[0] != syncer.EntryFull {
			t.Fatalf("dump left out a subtree")
		}
	}
	return resp.Proof.Entries
}

func equalEntries(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestInsertionOrderDoesNotChangeTheRoot(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	kvs := map[string]string{}
	for i := 0; i < 300; i++ {
		k := make([]byte, rng.Intn(5))
		for j := range k {
			k[j] = "\x00\x01a\x80\xff"[rng.Intn(5)]
		}
		kvs[string(k)] = fmt.Sprint(i)
	}
	keys := make([]string, 0, len(kvs))
	for k := range kvs {
		keys = append(keys, k)
	}
	want := rootOf(t, kvs)
	for round := 0; round < 5; round++ {
		rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		tree := mkvs.New()
		// Insert a decoy first and take it out again part way through.
		mustInsert(t, tree, "decoy-key", "x")
		for i, k := range keys {
			mustInsert(t, tree, k, kvs[k])
			if i == len(keys)/2 {
				mustRemove(t, tree, "decoy-key")
			}
		}
		if root, _ := mustCommit(t, tree, 1); root.Hash != want {
			t.Fatalf("round %d: root %s, want %s", round, root.Hash, want)
		}
		tree.Close()
	}
}

func TestEmptyKeyIsAnOrdinaryKey(t *testing.T) {
	tree := mkvs.New()
	defer tree.Close()
	if v := mustGet(t, tree, ""); v != nil {
		t.Fatalf("Get(\"\") on an empty tree = %q, want nil", v)
	}
	mustInsert(t, tree, "", "empty")
	mustInsert(t, tree, "a", "A")
	if v := mustGet(t, tree, ""); string(v) != "empty" {
		t.Fatalf("Get(\"\") = %q, want \"empty\"", v)
	}
	root, _ := mustCommit(t, tree, 1)
	if want := mkvstest.NaiveRoot(map[string][]byte{"": []byte("empty"), "a": []byte("A")}); root.Hash != want {
		t.Fatalf("root %s, want %s", root.Hash, want)
	}
	mustRemove(t, tree, "")
	if v := mustGet(t, tree, ""); v != nil {
		t.Fatalf("Get(\"\") after Remove = %q, want nil", v)
	}
	if v := mustGet(t, tree, "a"); string(v) != "A" {
		t.Fatalf("Get(\"a\") = %q, want \"A\"", v)
	}
}

func TestNilAndEmptyValuesAreStoredAsEmpty(t *testing.T) {
	tree := mkvs.New()
	defer tree.Close()
	ctx := context.Background()
	if err := tree.Insert(ctx, []byte("nil"), nil); err != nil {
		t.Fatal(err)
	}
	if err := tree.Insert(ctx, []byte("empty"), []byte{}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"nil", "empty"} {
		if v := mustGet(t, tree, k); v == nil || len(v) != 0 {
			t.Fatalf("Get(%q) = %#v, want a non-nil empty value", k, v)
		}
	}
	wl, _, _, err := tree.Commit(ctx, testNS, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range wl {
		if e.IsDelete() {
			t.Fatalf("write log entry %q is a delete, want an empty value", e.Key)
		}
	}
}

func TestKeyAndValueSizeLimits(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		key     int
		value   int
		wantErr error
	}{
		{"an 8 KiB key is accepted", node.MaxKeySize, 1, nil},
		{"a key one byte over 8 KiB is rejected", node.MaxKeySize + 1, 1, mkvs.ErrKeyTooLarge},
		{"a 1 MiB value is accepted", 1, node.MaxValueSize, nil},
		{"a value one byte over 1 MiB is rejected", 1, node.MaxValueSize + 1, mkvs.ErrValueTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := mkvs.New()
			defer tree.Close()
			// A neighbour sharing all but the last bit makes the longest possible label.
			key := bytes.Repeat([]byte{0xaa}, tc.key)
			neighbour := append([]byte{}, key...)
			neighbour[len(neighbour)-1] ^= 1
			if err := tree.Insert(ctx, neighbour[:min(len(neighbour), node.MaxKeySize)], []byte("n")); err != nil {
				t.Fatal(err)
			}
			err := tree.Insert(ctx, key, make([]byte, tc.value))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Insert: %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				if _, err := tree.Get(ctx, key); tc.key > node.MaxKeySize && !errors.Is(err, mkvs.ErrKeyTooLarge) {
					t.Fatalf("Get of an oversize key: %v, want ErrKeyTooLarge", err)
				}
				return
			}
			if v := mustGet(t, tree, string(key)); len(v) != tc.value {
				t.Fatalf("Get returned %d bytes, want %d", len(v), tc.value)
			}
			root, _ := mustCommit(t, tree, 1)
			model := map[string][]byte{string(key): make([]byte, tc.value), string(neighbour[:min(len(neighbour), node.MaxKeySize)]): []byte("n")}
			if want := mkvstest.NaiveRoot(model); root.Hash != want {
				t.Fatalf("root %s, want %s", root.Hash, want)
			}
		})
	}
}

func TestCommitWithoutChangesKeepsTheRootAndListsNoNodes(t *testing.T) {
	tree := mkvs.New()
	defer tree.Close()
	mustInsert(t, tree, "a", "1")
	mustInsert(t, tree, "b", "2")
	first, _ := mustCommit(t, tree, 1)
	mustInsert(t, tree, "a", "1") // same value: no change
	second, batch := mustCommit(t, tree, 2)
	if second.Hash != first.Hash || second.Version != 2 {
		t.Fatalf("root %s, want %s at version 2", second, first)
	}
	if len(batch.Nodes) != 0 || len(batch.WriteLog) != 0 {
		t.Fatalf("batch has %d nodes and %d write log entries, want none", len(batch.Nodes), len(batch.WriteLog))
	}
	if batch.Src != first {
		t.Fatalf("batch source %s, want %s", batch.Src, first)
	}
}

func TestCommitListsNewNodesChildrenFirstWithLeafSlotsInline(t *testing.T) {
	tree := mkvs.New()
	defer tree.Close()
	// "a" sits in the leaf slot of the root; "ab" and "ac" part at bit 15 under a second internal
	// node.
	for _, k := range []string{"a", "ab", "ac"} {
		mustInsert(t, tree, k, k)
	}
	root, batch := mustCommit(t, tree, 7)
	var leaves, internals int
	seen := map[hash.Hash]bool{}
	for _, n := range batch.Nodes {
		switch n := n.(type) {
		case *node.LeafNode:
			leaves++
			if n.Version != 7 {
				t.Fatalf("leaf version %d, want 7", n.Version)
			}
		case *node.InternalNode:
			internals++
			if n.Version != 7 {
				t.Fatalf("internal version %d, want 7", n.Version)
			}
			for _, c := range []*node.Pointer{n.Left, n.Right} {
				if c != nil && !seen[c.Hash] {
					t.Fatalf("internal node %s listed before its child %s", n.Hash, c.Hash)
				}
				if c != nil && c.Version != 7 {
					t.Fatalf("child pointer version %d, want 7", c.Version)
				}
			}
		}
		seen[n.NodeHash()] = true
	}
	if leaves != 2 || internals != 2 {
		t.Fatalf("batch has %d leaves and %d internal nodes, want 2 (ab, ac) and 2", leaves, internals)
	}
	if last := batch.Nodes[len(batch.Nodes)-1]; last.NodeHash() != root.Hash {
		t.Fatalf("last node %s is not the root %s", last.NodeHash(), root.Hash)
	}
}

func TestCommitRejectsAnotherNamespaceAndAnOlderVersion(t *testing.T) {
	ctx := context.Background()
	tree := mkvs.New()
	defer tree.Close()
	mustInsert(t, tree, "a", "1")
	mustCommit(t, tree, 5)
	if _, _, _, err := tree.Commit(ctx, namespace.Namespace{0x99}, 6); !errors.Is(err, mkvs.ErrNamespaceMismatch) {
		t.Fatalf("commit in another namespace: %v, want ErrNamespaceMismatch", err)
	}
	if _, _, _, err := tree.Commit(ctx, testNS, 4); !errors.Is(err, mkvs.ErrVersionRegression) {
		t.Fatalf("commit at an older version: %v, want ErrVersionRegression", err)
	}
}

func TestClosedTreeRefusesOperations(t *testing.T) {
	ctx := context.Background()
	tree := mkvs.New()
	tree.Close()
	if _, err := tree.Get(ctx, []byte("a")); !errors.Is(err, mkvs.ErrClosed) {
		t.Fatalf("Get: %v, want ErrClosed", err)
	}
	if err := tree.Insert(ctx, []byte("a"), nil); !errors.Is(err, mkvs.ErrClosed) {
		t.Fatalf("Insert: %v, want ErrClosed", err)
	}
	if _, _, _, err := tree.Commit(ctx, testNS, 1); !errors.Is(err, mkvs.ErrClosed) {
		t.Fatalf("Commit: %v, want ErrClosed", err)
	}
}

func TestALargeCommitHashesLikeTheOracleAndListsEveryNewNodeOnceChildrenFirst(t *testing.T) {
	// A commit of many changes hashes the root's subtrees on two goroutines; a tree committing
	// the same keys in small commits hashes on one.
	big, small := mkvs.New(), mkvs.New()
	defer big.Close()
	defer small.Close()
	model := map[string][]byte{}
	for i := range 2000 {
		k := fmt.Sprintf("key %06d", i*7919%100003)
		mustInsert(t, big, k, k)
		mustInsert(t, small, k, k)
		model[k] = []byte(k)
		if i%100 == 99 {
			mustCommit(t, small, 1)
		}
	}
	root, batch := mustCommit(t, big, 1)
	if want := mkvstest.NaiveRoot(model); root.Hash != want {
		t.Fatalf("root = %s, want %s", root.Hash, want)
	}
	if got := small.Root().Hash; got != root.Hash {
		t.Fatalf("root after small commits = %s, after one large commit %s", got, root.Hash)
	}
	seen := map[hash.Hash]bool{}
	for _, n := range batch.Nodes {
		if seen[n.NodeHash()] {
			t.Fatalf("node %s listed twice", n.NodeHash())
		}
		if in, ok := n.(*node.InternalNode); ok {
			for _, c := range []*node.Pointer{in.Left, in.Right} {
				if c != nil && !seen[c.Hash] {
					t.Fatalf("internal node %s listed before its child %s", in.Hash, c.Hash)
				}
			}
		}
		seen[n.NodeHash()] = true
	}
	if leaves := len(model); len(batch.Nodes) != 2*leaves-1 {
		t.Fatalf("batch lists %d nodes, a trie of %d keys without leaf slots has %d", len(batch.Nodes), leaves, 2*leaves-1)
	}
	if last := batch.Nodes[len(batch.Nodes)-1]; last.NodeHash() != root.Hash {
		t.Fatalf("last node %s is not the root %s", last.NodeHash(), root.Hash)
	}
}
