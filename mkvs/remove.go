package mkvs

import (
	"bytes"
	"context"
	"fmt"

	"github.com/atoll-project/atoll/mkvs/node"
)

// Remove deletes key; removing an absent key is not an error.
func (t *Tree) Remove(ctx context.Context, key []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ready(); err != nil {
		return err
	}
	return t.removeLocked(ctx, key)
}

func (t *Tree) removeLocked(ctx context.Context, key []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	var res opResult
	root, err := t.remove(ctx, t.rootPtr, 0, key, &res)
	t.settle(err == nil && res.changed)
	if err != nil {
		return err
	}
	if res.changed {
		t.setRoot(root)
		t.noteChange(key, false, res, false, nil)
	}
	return nil
}

// remove returns the pointer that replaces ptr once key is gone from its subtree (ptr itself
// when key is absent). A node left with one item is replaced by that item; a lone internal
// child takes the node's label in front of its own. On error nothing reachable has changed.
func (t *Tree) remove(ctx context.Context, ptr *node.Pointer, depth int, key []byte, res *opResult) (*node.Pointer, error) {
	if ptr == nil {
		return nil, nil
	}
	n, err := t.deref(ctx, ptr, loadHint{key: key, includeSiblings: true})
	if err != nil {
		return nil, err
	}
	switch n := n.(type) {
	case *node.LeafNode:
		if !bytes.Equal(n.Key, key) {
			return ptr, nil
		}
		res.changed, res.existed, res.old = true, true, n.Value
		t.replace(ptr)
		return nil, nil
	case *node.InternalNode:
		b := int(n.LabelBits)
		if matchLabel(n.Label, b, key, depth) != b {
			return ptr, nil
		}
		end := depth + b
		leaf, left, right := n.Leaf, n.Left, n.Right
		if 8*len(key) == end {
			if leaf == nil {
				return ptr, nil
			}
			l := leaf.Node.(*node.LeafNode)
			res.changed, res.existed, res.old = true, true, l.Value
			leaf = nil
		} else {
			side := bitAt(key, end)
			old := left
			if side == 1 {
				old = right
			}
			child, err := t.remove(ctx, old, end, key, res)
			if err != nil || !res.changed {
				return ptr, err
			}
			if side == 0 {
				left = child
			} else {
				right = child
			}
		}
		if count(leaf, left, right) >= 2 {
			p, c := t.mutable(ptr, n)
			c.Leaf, c.Left, c.Right = leaf, left, right
			return p, nil
		}
		return t.collapse(ctx, ptr, n, end, key, leaf, left, right)
	default:
		return nil, fmt.Errorf("mkvs: unexpected node type %T", n)
	}
}

// collapse replaces the internal node n (at ptr, label ending at bit end of key) left with a
// single item.
func (t *Tree) collapse(ctx context.Context, ptr *node.Pointer, n *node.InternalNode, end int, key []byte, leaf, left, right *node.Pointer) (*node.Pointer, error) {
	if leaf != nil {
		// The leaf leaves its slot, where it was stored inline: it becomes a node of its own.
		l := leaf.Node.(*node.LeafNode)
		t.replace(ptr)
		return newLeafPointer(l.Key, l.Value), nil
	}
	only, side := left, byte(0)
	if only == nil {
		only, side = right, 1
	}
	cn, err := t.deref(ctx, only, loadHint{key: guideKey(key, end, side), includeSiblings: true})
	if err != nil {
		return nil, err
	}
	t.replace(ptr)
	switch cn := cn.(type) {
	case *node.LeafNode:
		return only, nil
	case *node.InternalNode:
		bits := int(n.LabelBits) + int(cn.LabelBits)
		label := concatBits(n.Label, int(n.LabelBits), cn.Label, int(cn.LabelBits))
		if !only.Clean {
			cn.LabelBits, cn.Label = uint16(bits), label
			return only, nil
		}
		t.replace(only)
		c := &node.InternalNode{LabelBits: uint16(bits), Label: label, Leaf: cn.Leaf, Left: cn.Left, Right: cn.Right}
		return &node.Pointer{Node: c}, nil
	default:
		return nil, fmt.Errorf("mkvs: unexpected node type %T", cn)
	}
}

func count(ptrs ...*node.Pointer) int {
	c := 0
	for _, p := range ptrs {
		if p != nil {
			c++
		}
	}
	return c
}
