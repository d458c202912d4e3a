package mkvs

import (
	"bytes"
	"context"
	"fmt"

	"github.com/atoll-project/atoll/mkvs/node"
)

// Nodes are copied on write: a clean node (committed, loaded, or handed out in a batch) is
// never modified; changing it creates a dirty copy under a new pointer, and the change
// propagates up to the root as new pointers. A dirty node is modified in place.

// opResult reports what an insert or remove found and did.
type opResult struct {
	changed bool   // the tree changed
	existed bool   // the key was present before
	old     []byte // its value then
}

// Insert sets key to value (a nil value is stored as empty). The tree keeps its own copies of
// key and value.
func (t *Tree) Insert(ctx context.Context, key, value []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ready(); err != nil {
		return err
	}
	return t.insertLocked(ctx, key, value)
}

func (t *Tree) insertLocked(ctx context.Context, key, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if len(value) > node.MaxValueSize {
		return fmt.Errorf("%w: %d bytes", ErrValueTooLarge, len(value))
	}
	buf := make([]byte, len(key)+len(value))
	copy(buf, key)
	copy(buf[len(key):], value)
	k, v := buf[:len(key):len(key)], buf[len(key):]
	var res opResult
	root, err := t.insert(ctx, t.rootPtr, 0, k, v, &res)
	t.settle(err == nil && res.changed)
	if err != nil {
		return err
	}
	if res.changed {
		t.setRoot(root)
		t.noteChange(k, true, res, true, v)
	}
	return nil
}

// insert returns the pointer that replaces ptr, a subtree whose keys share key's first depth
// bits (ptr itself when nothing changed). On error nothing reachable has changed.
func (t *Tree) insert(ctx context.Context, ptr *node.Pointer, depth int, key, value []byte, res *opResult) (*node.Pointer, error) {
	if ptr == nil {
		res.changed = true
		return newLeafPointer(key, value), nil
	}
	n, err := t.deref(ctx, ptr, loadHint{key: key})
	if err != nil {
		return nil, err
	}
	switch n := n.(type) {
	case *node.LeafNode:
		if !bytes.Equal(n.Key, key) {
			res.changed = true
			return t.splitLeaf(ptr, n, depth, key, value), nil
		}
		res.existed, res.old = true, n.Value
		if bytes.Equal(n.Value, value) {
			return ptr, nil
		}
		res.changed = true
		if !ptr.Clean {
			n.Value = value
			return ptr, nil
		}
		t.replace(ptr)
		return newLeafPointer(key, value), nil
	case *node.InternalNode:
		b := int(n.LabelBits)
		cp := matchLabel(n.Label, b, key, depth)
		if cp < b {
			res.changed = true
			return t.splitInternal(ptr, n, depth, cp, key, value), nil
		}
		end := depth + b
		if 8*len(key) == end {
			if n.Leaf != nil {
				l := n.Leaf.Node.(*node.LeafNode)
				res.existed, res.old = true, l.Value
				if bytes.Equal(l.Value, value) {
					return ptr, nil
				}
			}
			res.changed = true
			p, c := t.mutable(ptr, n)
			c.Leaf = newLeafPointer(key, value)
			return p, nil
		}
		old := n.Left
		if bitAt(key, end) == 1 {
			old = n.Right
		}
		child, err := t.insert(ctx, old, end, key, value, res)
		if err != nil || child == old {
			return ptr, err
		}
		p, c := t.mutable(ptr, n)
		if bitAt(key, end) == 0 {
			c.Left = child
		} else {
			c.Right = child
		}
		return p, nil
	default:
		return nil, fmt.Errorf("mkvs: unexpected node type %T", n)
	}
}

// splitLeaf puts the leaf at ptr (holding a key other than key) and a new leaf for key under a
// new internal node whose label runs from depth to where the two keys part.
func (t *Tree) splitLeaf(ptr *node.Pointer, l *node.LeafNode, depth int, key, value []byte) *node.Pointer {
	p := commonPrefixBits(l.Key, key)
	in := &node.InternalNode{LabelBits: uint16(p - depth), Label: extractBits(key, depth, p)}
	if 8*len(l.Key) == p {
		// The old leaf moves into a leaf slot, stored inline: it becomes a new node.
		t.replace(ptr)
		in.Leaf = newLeafPointer(l.Key, l.Value)
	} else {
		setChild(in, bitAt(l.Key, p), ptr)
	}
	if 8*len(key) == p {
		in.Leaf = newLeafPointer(key, value)
	} else {
		setChild(in, bitAt(key, p), newLeafPointer(key, value))
	}
	return &node.Pointer{Node: in}
}

// splitInternal splits the label of n (at depth) where key leaves it, after cp bits: a new
// internal node takes the first cp bits, with n (keeping the rest of its label) on one side and
// the new leaf in its leaf slot or on the other side.
func (t *Tree) splitInternal(ptr *node.Pointer, n *node.InternalNode, depth, cp int, key, value []byte) *node.Pointer {
	b := int(n.LabelBits)
	t.replace(ptr)
	lower := &node.InternalNode{
		LabelBits: uint16(b - cp),
		Label:     extractBits(n.Label, cp, b),
		Leaf:      n.Leaf,
		Left:      n.Left,
		Right:     n.Right,
	}
	upper := &node.InternalNode{LabelBits: uint16(cp), Label: extractBits(n.Label, 0, cp)}
	setChild(upper, bitAt(n.Label, cp), &node.Pointer{Node: lower})
	if 8*len(key) == depth+cp {
		upper.Leaf = newLeafPointer(key, value)
	} else {
		setChild(upper, bitAt(key, depth+cp), newLeafPointer(key, value))
	}
	return &node.Pointer{Node: upper}
}

// mutable returns a node that may be modified in place of n (at ptr), and its pointer: n
// itself when dirty, else a dirty copy under a new pointer.
func (t *Tree) mutable(ptr *node.Pointer, n *node.InternalNode) (*node.Pointer, *node.InternalNode) {
	if !ptr.Clean {
		return ptr, n
	}
	t.replace(ptr)
	c := &node.InternalNode{LabelBits: n.LabelBits, Label: n.Label, Leaf: n.Leaf, Left: n.Left, Right: n.Right}
	return &node.Pointer{Node: c}, c
}

func newLeafPointer(key, value []byte) *node.Pointer {
	return &node.Pointer{Node: &node.LeafNode{Key: key, Value: value}}
}

func setChild(n *node.InternalNode, side byte, p *node.Pointer) {
	if side == 0 {
		n.Left = p
	} else {
		n.Right = p
	}
}
