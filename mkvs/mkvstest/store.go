// Package mkvstest holds what tests of the MKVS and of its node DBs share: the Store contract a
// node DB meets for the tests, an in-memory Store, and one random-operation generator whose
// sequences drive both a property test against a naive map model (rapid.Check) and the fuzzer
// (rapid.MakeFuzz). See Run.
package mkvstest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
)

// Store is a node DB as the tests drive it.
//
// Apply persists a commit's batch (its nodes and its root); afterwards the root opens through
// RootPointer and every node under it loads through GetNode. Finalize(version, roots) settles
// a version: roots names the roots of that version that won, the others may be dropped along
// with the nodes only they reach; finalized roots stay readable. Reopen closes the store and
// opens the same one again, as a process restart would: everything applied survives, and the
// old handle is no longer used.
type Store interface {
	node.Reader
	Apply(ctx context.Context, b *node.Batch) error
	Finalize(ctx context.Context, version uint64, roots []node.Root) error
	Reopen() (Store, error)
}

// ErrStoreClosed is returned by a MemStore handle after Reopen.
var ErrStoreClosed = errors.New("mkvstest: store closed")

// MemStore is an in-memory Store. Nodes are kept in their stored form under (version, root
// type, hash), roots under (namespace, version, type, hash) with the version of their root
// node. Apply checks the batch contract: new nodes carry the new version, every child a new
// node refers to is held, the batch's last node is its root (or, with no nodes, the root is
// the source root or empty). Finalize drops the losing roots of the version and every node no
// root reaches any more. A MemStore is safe for concurrent use.
type MemStore struct {
	d      *memData
	mu     sync.Mutex
	closed bool
}

type memData struct {
	mu        sync.Mutex
	nodes     map[nodeKey][]byte
	roots     map[rootKey]uint64
	finalized map[uint64]bool
}

type nodeKey struct {
	version uint64
	typ     node.RootType
	hash    hash.Hash
}

type rootKey struct {
	root node.Root
}

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	return &MemStore{d: &memData{
		nodes:     make(map[nodeKey][]byte),
		roots:     make(map[rootKey]uint64),
		finalized: make(map[uint64]bool),
	}}
}

func (s *MemStore) data() (*memData, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrStoreClosed
	}
	return s.d, nil
}

// RootPointer implements node.Reader.
func (s *MemStore) RootPointer(root node.Root) (*node.Pointer, error) {
	if root.Hash.IsEmpty() {
		return nil, nil
	}
	d, err := s.data()
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.roots[rootKey{root}]
	if !ok {
		return nil, fmt.Errorf("%w: %s", node.ErrRootNotFound, root)
	}
	return &node.Pointer{Clean: true, Hash: root.Hash, Version: v}, nil
}

// GetNode implements node.Reader.
func (s *MemStore) GetNode(root node.Root, ptr *node.Pointer) (node.Node, error) {
	d, err := s.data()
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	raw, ok := d.nodes[nodeKey{ptr.Version, root.Type, ptr.Hash}]
	d.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s@%d", node.ErrNodeNotFound, ptr.Hash, ptr.Version)
	}
	return node.UnmarshalStored(raw, ptr.Version)
}

// Apply implements Store.
func (s *MemStore) Apply(_ context.Context, b *node.Batch) error {
	d, err := s.data()
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !b.Src.Hash.IsEmpty() {
		if _, ok := d.roots[rootKey{b.Src}]; !ok {
			return fmt.Errorf("mkvstest: apply: source root %s not held", b.Src)
		}
	}
	v, typ := b.Root.Version, b.Root.Type
	var rootVersion uint64
	switch {
	case len(b.Nodes) > 0:
		last := b.Nodes[len(b.Nodes)-1]
		if last.NodeHash() != b.Root.Hash {
			return fmt.Errorf("mkvstest: apply: last node %s is not the root %s", last.NodeHash(), b.Root.Hash)
		}
		rootVersion = v
	case b.Root.Hash.IsEmpty():
	case b.Root.Hash == b.Src.Hash:
		rootVersion = d.roots[rootKey{b.Src}]
	default:
		return fmt.Errorf("mkvstest: apply: new root %s with no nodes", b.Root.Hash)
	}
	for _, n := range b.Nodes {
		if nodeVersion(n) != v {
			return fmt.Errorf("mkvstest: apply: node %s has version %d in a batch of version %d", n.NodeHash(), nodeVersion(n), v)
		}
		raw, err := node.MarshalStored(n)
		if err != nil {
			return fmt.Errorf("mkvstest: apply: %w", err)
		}
		d.nodes[nodeKey{v, typ, n.NodeHash()}] = raw
	}
	for _, n := range b.Nodes {
		in, ok := n.(*node.InternalNode)
		if !ok {
			continue
		}
		for _, c := range []*node.Pointer{in.Left, in.Right} {
			if c == nil {
				continue
			}
			if _, ok := d.nodes[nodeKey{c.Version, typ, c.Hash}]; !ok {
				return fmt.Errorf("mkvstest: apply: node %s refers to child %s@%d that is not held", in.Hash, c.Hash, c.Version)
			}
		}
	}
	if !b.Root.Hash.IsEmpty() {
		d.roots[rootKey{b.Root}] = rootVersion
	}
	return nil
}

func nodeVersion(n node.Node) uint64 {
	switch n := n.(type) {
	case *node.LeafNode:
		return n.Version
	case *node.InternalNode:
		return n.Version
	}
	return 0
}

// Finalize implements Store.
func (s *MemStore) Finalize(_ context.Context, version uint64, roots []node.Root) error {
	d, err := s.data()
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.finalized[version] {
		return fmt.Errorf("mkvstest: version %d already finalized", version)
	}
	keep := make(map[rootKey]bool)
	for _, r := range roots {
		if r.Version != version {
			return fmt.Errorf("mkvstest: finalize %d: root %s of another version", version, r)
		}
		if _, ok := d.roots[rootKey{r}]; !ok && !r.Hash.IsEmpty() {
			return fmt.Errorf("mkvstest: finalize %d: %w: %s", version, node.ErrRootNotFound, r)
		}
		keep[rootKey{r}] = true
	}
	for k := range d.roots {
		if k.root.Version == version && !keep[k] {
			delete(d.roots, k)
		}
	}
	d.finalized[version] = true
	d.collect()
	return nil
}

// collect drops every node no root reaches.
func (d *memData) collect() {
	reached := make(map[nodeKey]bool)
	for k, v := range d.roots {
		stack := []nodeKey{{v, k.root.Type, k.root.Hash}}
		for len(stack) > 0 {
			nk := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if reached[nk] {
				continue
			}
			reached[nk] = true
			n, err := node.UnmarshalStored(d.nodes[nk], nk.version)
			if err != nil {
				continue
			}
			if in, ok := n.(*node.InternalNode); ok {
				for _, c := range []*node.Pointer{in.Left, in.Right} {
					if c != nil {
						stack = append(stack, nodeKey{c.Version, nk.typ, c.Hash})
					}
				}
			}
		}
	}
	for k := range d.nodes {
		if !reached[k] {
			delete(d.nodes, k)
		}
	}
}

// Reopen implements Store: the returned handle sees everything applied; this one is closed.
func (s *MemStore) Reopen() (Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrStoreClosed
	}
	s.closed = true
	return &MemStore{d: s.d}, nil
}

// NodeCount returns how many nodes the store holds.
func (s *MemStore) NodeCount() int {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return len(s.d.nodes)
}
