package db

import (
	"fmt"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
)

// rootID identifies a root within the DB's namespace.
type rootID struct {
	version uint64
	typ     node.RootType
	hash    hash.Hash
}

func idOf(r node.Root) rootID { return rootID{version: r.Version, typ: r.Type, hash: r.Hash} }

// walk visits the nodes of a tree of type t depth first from start. visit is called with each
// node's location before it is loaded; a node is loaded and its children visited only when
// visit returns true. Leaves in leaf slots are part of their internal node and not visited.
func (d *DB) walk(t node.RootType, start childRef, visit func(ref childRef) bool) error {
	stack := []childRef{start}
	var children []childRef
	for len(stack) > 0 {
		ref := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !visit(ref) {
			continue
		}
		raw, err := d.nodeRecord(cacheKey{version: ref.Version, typ: t, hash: ref.Hash})
		if err != nil {
			return err
		}
		if children, err = storedChildren(raw, children[:0]); err != nil {
			return err
		}
		stack = append(stack, children...)
	}
	return nil
}

// walkLeaves calls fn with the key and value of every leaf of the tree of type t under start,
// in no particular order.
func (d *DB) walkLeaves(t node.RootType, start childRef, fn func(key, value []byte) error) error {
	stack := []childRef{start}
	for len(stack) > 0 {
		ref := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		raw, err := d.nodeRecord(cacheKey{version: ref.Version, typ: t, hash: ref.Hash})
		if err != nil {
			return err
		}
		n, err := node.UnmarshalStored(raw, ref.Version)
		if err != nil {
			return fmt.Errorf("%w: node %d/%s: %w", ErrCorrupt, ref.Version, ref.Hash, err)
		}
		switch n := n.(type) {
		case *node.LeafNode:
			if err := fn(n.Key, n.Value); err != nil {
				return err
			}
		case *node.InternalNode:
			if n.Leaf != nil {
				leaf := n.Leaf.Node.(*node.LeafNode)
				if err := fn(leaf.Key, leaf.Value); err != nil {
					return err
				}
			}
			for _, c := range []*node.Pointer{n.Left, n.Right} {
				if c != nil {
					stack = append(stack, childRef{Version: c.Version, Hash: c.Hash})
				}
			}
		}
	}
	return nil
}
