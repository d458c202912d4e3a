package db

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

// This file holds a small reference trie builder for tests: it builds the canonical trie of a
// key set from scratch (no incremental updates) and emits, as a commit would, the nodes that
// the previous tree of the same chain does not already hold.

var testNS = namespace.Namespace{0xa7, 0x01}

// refTree is one tree of a chain built by commitRef.
type refTree struct {
	root  node.Root
	kv    map[string][]byte
	nodes map[hash.Hash]uint64 // standalone nodes of the tree: hash → creation version
}

// emptyRef is the empty tree of type t, the start of a chain.
func emptyRef(t node.RootType) *refTree {
	return &refTree{
		root:  node.Root{Namespace: testNS, Type: t, Hash: hash.Empty},
		kv:    map[string][]byte{},
		nodes: map[hash.Hash]uint64{},
	}
}

// commitRef applies changes (nil value: delete) to prev and returns the new tree at version
// with the batch a commit would produce.
func commitRef(prev *refTree, version uint64, changes map[string][]byte) (*refTree, *node.Batch) {
	kv := maps.Clone(prev.kv)
	var wl writelog.WriteLog
	for k, v := range changes {
		old, had := prev.kv[k]
		if v == nil {
			delete(kv, k)
			if had {
				wl = append(wl, writelog.LogEntry{Key: []byte(k)})
			}
			continue
		}
		kv[k] = v
		if !had || !bytes.Equal(old, v) {
			wl = append(wl, writelog.LogEntry{Key: []byte(k), Value: v})
		}
	}
	wl.Sort()
	next := &refTree{kv: kv, nodes: map[hash.Hash]uint64{}}
	b := &node.Batch{Src: prev.root, WriteLog: wl}
	keys := slices.Sorted(maps.Keys(kv))
	h := hash.Empty
	if len(keys) > 0 {
		ptr := buildRef(prev, next, b, version, keys, 0)
		h = ptr.Hash
	}
	next.root = node.Root{Namespace: testNS, Version: version, Type: prev.root.Type, Hash: h}
	b.Root = next.root
	return next, b
}

func buildRef(prev, next *refTree, b *node.Batch, version uint64, keys []string, depth int) *node.Pointer {
	record := func(n node.Node) *node.Pointer {
		h := n.NodeHash()
		v, ok := prev.nodes[h]
		if !ok {
			v = version
			switch n := n.(type) {
			case *node.LeafNode:
				n.Version = version
			case *node.InternalNode:
				n.Version = version
				if n.Leaf != nil {
					n.Leaf.Version = version
					n.Leaf.Node.(*node.LeafNode).Version = version
				}
			}
			if _, dup := next.nodes[h]; !dup {
				b.Nodes = append(b.Nodes, n)
			}
		}
		next.nodes[h] = v
		return &node.Pointer{Clean: true, Hash: h, Version: v, Node: n}
	}
	if len(keys) == 1 {
		leaf := &node.LeafNode{Key: []byte(keys[0]), Value: next.kv[keys[0]]}
		leaf.UpdateHash()
		return record(leaf)
	}
	first, last := []byte(keys[0]), []byte(keys[len(keys)-1])
	lcp := commonBits(first, last)
	n := &node.InternalNode{LabelBits: uint16(lcp - depth), Label: bitRange(first, depth, lcp)}
	rest := keys
	if len(first)*8 == lcp {
		leaf := &node.LeafNode{Key: first, Value: next.kv[keys[0]]}
		leaf.UpdateHash()
		n.Leaf = &node.Pointer{Clean: true, Hash: leaf.Hash, Node: leaf}
		rest = keys[1:]
	}
	split := len(rest)
	for i, k := range rest {
		if bit([]byte(k), lcp) == 1 {
			split = i
			break
		}
	}
	if split > 0 {
		n.Left = buildRef(prev, next, b, version, rest[:split], lcp)
	}
	if split < len(rest) {
		n.Right = buildRef(prev, next, b, version, rest[split:], lcp)
	}
	n.UpdateHash()
	return record(n)
}

func bit(b []byte, i int) byte { return (b[i/8] >> (7 - uint(i%8))) & 1 }

func commonBits(a, b []byte) int {
	n := 0
	for n < len(a)*8 && n < len(b)*8 && bit(a, n) == bit(b, n) {
		n++
	}
	return n
}

// bitRange returns bits [from, to) of b, left-aligned, unused bits zero.
func bitRange(b []byte, from, to int) []byte {
	out := make([]byte, (to-from+7)/8)
	for i := from; i < to; i++ {
		if bit(b, i) == 1 {
			out[(i-from)/8] |= 0x80 >> uint((i-from)%8)
		}
	}
	return out
}

func TestReferenceTrieMatchesGoldenRoots(t *testing.T) {
	tr, _ := commitRef(emptyRef(node.RootTypeState), 1, map[string][]byte{"foo": []byte("bar")})
	if got := tr.root.Hash.String(); got != "db67c0572006673b488342a45e6590a75e8919265e6da706c80c6b2776017aa7" {
		t.Fatalf("{foo: bar} root = %s", got)
	}
	tr, _ = commitRef(tr, 2, map[string][]byte{"moo": []byte("foo")})
	if got := tr.root.Hash.String(); got != "e627581db43e18410a52793e662e4f21ae6a4fca14e16915a85ec4c3e3e41a13" {
		t.Fatalf("{foo: bar, moo: foo} root = %s", got)
	}
}

// openMem opens an in-memory DB on fs (a fresh one when fs is nil).
func openMem(t testing.TB, fs vfs.FS) *DB {
	t.Helper()
	opts := Options{InMemory: true, Namespace: testNS, NodeCacheSize: 1 << 20}
	if fs != nil {
		opts.FS = fs
	}
	d, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// readAll walks root through the node.Reader interface and returns its contents and the
// locations of its standalone nodes.
func readAll(t testing.TB, r node.Reader, root node.Root) (map[string][]byte, map[childRef]bool) {
	t.Helper()
	kv := map[string][]byte{}
	nodes := map[childRef]bool{}
	ptr, err := r.RootPointer(root)
	if err != nil {
		t.Fatalf("root pointer of %s: %v", root, err)
	}
	var visit func(p *node.Pointer)
	visit = func(p *node.Pointer) {
		if p == nil {
			return
		}
		nodes[childRef{Version: p.Version, Hash: p.Hash}] = true
		n, err := r.GetNode(root, p)
		if err != nil {
			t.Fatalf("loading node %d/%s of %s: %v", p.Version, p.Hash, root, err)
		}
		switch n := n.(type) {
		case *node.LeafNode:
			kv[string(n.Key)] = n.Value
		case *node.InternalNode:
			if n.Leaf != nil {
				l := n.Leaf.Node.(*node.LeafNode)
				kv[string(l.Key)] = l.Value
			}
			visit(n.Left)
			visit(n.Right)
		}
	}
	visit(ptr)
	return kv, nodes
}

func checkContents(t testing.TB, d *DB, tr *refTree) map[childRef]bool {
	t.Helper()
	kv, nodes := readAll(t, d, tr.root)
	if len(kv) != len(tr.kv) {
		t.Fatalf("%s holds %d keys, want %d", tr.root, len(kv), len(tr.kv))
	}
	for k, v := range tr.kv {
		if got, ok := kv[k]; !ok || !bytes.Equal(got, v) {
			t.Fatalf("%s: key %x = %x (present %t), want %x", tr.root, k, got, ok, v)
		}
	}
	return nodes
}

// countKeys counts the Pebble keys starting with prefix.
func countKeys(t testing.TB, d *DB, prefix []byte) int {
	t.Helper()
	it, err := d.pdb.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	return n
}

func mustApply(t testing.TB, d *DB, b *node.Batch) {
	t.Helper()
	if err := d.Apply(context.Background(), b); err != nil {
		t.Fatalf("apply %s: %v", b.Root, err)
	}
}

func mustFinalize(t testing.TB, d *DB, version uint64, roots ...node.Root) {
	t.Helper()
	if err := d.Finalize(context.Background(), version, roots); err != nil {
		t.Fatalf("finalize %d: %v", version, err)
	}
}

func mustPrune(t testing.TB, d *DB, version uint64) {
	t.Helper()
	if err := d.Prune(context.Background(), version); err != nil {
		t.Fatalf("prune %d: %v", version, err)
	}
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func rand0(seed int) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), 0)) }
