package mkvs

import (
	"bytes"
	"context"

	"github.com/atoll-project/atoll/mkvs/node"
)

// Get returns a copy of the value under key, or nil and no error when key is absent. A present
// key with an empty value gives a non-nil empty slice.
func (t *Tree) Get(ctx context.Context, key []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ready(); err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	leaf, err := t.lookup(ctx, key)
	if err != nil || leaf == nil {
		return nil, err
	}
	return append(make([]byte, 0, len(leaf.Value)), leaf.Value...), nil
}

// lookup returns the leaf holding key, or nil.
func (t *Tree) lookup(ctx context.Context, key []byte) (*node.LeafNode, error) {
	hint := loadHint{key: key}
	ptr, depth := t.rootPtr, 0
	keyBits := 8 * len(key)
	for ptr != nil {
		n, err := t.deref(ctx, ptr, hint)
		if err != nil {
			return nil, err
		}
		switch n := n.(type) {
		case *node.LeafNode:
			if bytes.Equal(n.Key, key) {
				return n, nil
			}
			return nil, nil
		case *node.InternalNode:
			b := int(n.LabelBits)
			if matchLabel(n.Label, b, key, depth) != b {
				return nil, nil
			}
			end := depth + b
			if keyBits == end {
				if n.Leaf == nil {
					return nil, nil
				}
				return n.Leaf.Node.(*node.LeafNode), nil
			}
			if keyBits < end {
				return nil, nil
			}
			if bitAt(key, end) == 0 {
				ptr = n.Left
			} else {
				ptr = n.Right
			}
			depth = end
		}
	}
	return nil, nil
}
