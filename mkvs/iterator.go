package mkvs

import (
	"bytes"
	"context"
	"fmt"

	"github.com/atoll-project/atoll/mkvs/node"
)

// Iterator walks a tree's keys in bytewise order. It sees the tree as it is, committed or not;
// modifying the tree while iterating gives undefined results. Key and Value are valid until
// the next move and must not be modified. A new iterator is unpositioned: call Rewind or Seek.
//
// An Iterator holds the context it was created with, which it uses to load nodes; an error
// while loading ends the iteration, and Err reports it.
type Iterator struct {
	t   *Tree
	ctx context.Context
	w   walker
}

// NewIterator returns an iterator over the tree.
func (t *Tree) NewIterator(ctx context.Context) *Iterator {
	return &Iterator{t: t, ctx: ctx}
}

// Rewind moves to the first key.
func (it *Iterator) Rewind() { it.Seek(nil) }

// Seek moves to the first key at or after key.
func (it *Iterator) Seek(key []byte) {
	it.t.mu.Lock()
	defer it.t.mu.Unlock()
	if err := it.t.ready(); err != nil {
		it.w.fail(err)
		return
	}
	it.w.reset(it.t, it.t.rootPtr, 0, nil)
	it.w.trackPath = it.t.needsPath()
	it.w.seek(it.ctx, key)
}

// Next moves to the following key.
func (it *Iterator) Next() {
	it.t.mu.Lock()
	defer it.t.mu.Unlock()
	if !it.w.valid {
		return
	}
	if it.t.closed {
		it.w.fail(ErrClosed)
		return
	}
	it.w.advance(it.ctx)
}

// Valid reports whether the iterator is at a key.
func (it *Iterator) Valid() bool { return it.w.valid }

// Key returns the current key.
func (it *Iterator) Key() []byte { return it.w.key }

// Value returns the current value.
func (it *Iterator) Value() []byte { return it.w.value }

// Err returns the error that ended the iteration, if any.
func (it *Iterator) Err() error { return it.w.err }

// Close releases the iterator.
func (it *Iterator) Close() { it.w = walker{} }

// needsPath reports whether loading a node needs a key leading to it (a remote source).
func (t *Tree) needsPath() bool {
	_, ok := t.src.(*syncSource)
	return ok
}

// walker is an in-order traversal of a subtree, the engine of Iterator and of the proofs for
// iterate and prefix requests.
type walker struct {
	t         *Tree
	start     *node.Pointer
	depth     int // bit depth of start
	stack     []frame
	path      []byte // key bits from the root down to the deepest frame's label end
	trackPath bool
	visit     func(*node.Pointer, node.Node) // called for every node the walk loads

	valid      bool
	key, value []byte
	err        error
}

// frame is an internal node on the walk's stack and what comes next in it.
type frame struct {
	n     *node.InternalNode
	depth int
	next  uint8 // frameLeaf, frameLeft, frameRight or frameDone
}

const (
	frameLeaf uint8 = iota
	frameLeft
	frameRight
	frameDone
)

// reset positions the walker at the subtree start, whose keys share prefix's first depth bits.
func (w *walker) reset(t *Tree, start *node.Pointer, depth int, prefix []byte) {
	w.t, w.start, w.depth = t, start, depth
	w.stack = w.stack[:0]
	w.path = append(w.path[:0], prefix...)
	w.valid, w.key, w.value, w.err = false, nil, nil, nil
}

func (w *walker) fail(err error) {
	w.valid, w.key, w.value, w.err = false, nil, nil, err
	w.stack = w.stack[:0]
}

func (w *walker) load(ctx context.Context, ptr *node.Pointer, hint loadHint) (node.Node, bool) {
	n, err := w.t.deref(ctx, ptr, hint)
	if err != nil {
		w.fail(err)
		return nil, false
	}
	if w.visit != nil {
		w.visit(ptr, n)
	}
	return n, true
}

func (w *walker) push(n *node.InternalNode, depth int, next uint8) {
	w.stack = append(w.stack, frame{n: n, depth: depth, next: next})
	if w.trackPath {
		w.path = setBits(w.path, depth, n.Label, int(n.LabelBits))
	}
}

func (w *walker) setLeaf(l *node.LeafNode) {
	w.valid, w.key, w.value = true, l.Key, l.Value
}

// seek positions the walker at the first key at or after target within its subtree.
func (w *walker) seek(ctx context.Context, target []byte) {
	hint := loadHint{key: target, iterate: true}
	ptr, depth := w.start, w.depth
	targetBits := 8 * len(target)
	for ptr != nil {
		n, ok := w.load(ctx, ptr, hint)
		if !ok {
			return
		}
		switch n := n.(type) {
		case *node.LeafNode:
			if bytes.Compare(n.Key, target) >= 0 {
				w.setLeaf(n)
				return
			}
			ptr = nil
		case *node.InternalNode:
			b := int(n.LabelBits)
			cp := matchLabel(n.Label, b, target, depth)
			if cp < b {
				// The subtree is entirely after target when target ends inside the label or has
				// a 0 where the label has a 1, and entirely before it otherwise.
				if depth+cp == targetBits || bitAt(n.Label, cp) == 1 {
					w.push(n, depth, frameLeaf)
				}
				ptr = nil
				break
			}
			end := depth + b
			if targetBits == end {
				w.push(n, depth, frameLeaf)
				ptr = nil
				break
			}
			// The leaf slot holds a proper prefix of target, before it.
			if bitAt(target, end) == 0 {
				w.push(n, depth, frameRight)
				ptr = n.Left
			} else {
				w.push(n, depth, frameDone)
				ptr = n.Right
			}
			depth = end
		default:
			w.fail(fmt.Errorf("mkvs: unexpected node type %T", n))
			return
		}
	}
	w.advance(ctx)
}

// advance moves to the next leaf in order after the current position.
func (w *walker) advance(ctx context.Context) {
	w.valid = false
	for len(w.stack) > 0 {
		f := &w.stack[len(w.stack)-1]
		var child *node.Pointer
		var side byte
		switch f.next {
		case frameLeaf:
			f.next = frameLeft
			if f.n.Leaf != nil {
				w.setLeaf(f.n.Leaf.Node.(*node.LeafNode))
				return
			}
			continue
		case frameLeft:
			f.next = frameRight
			child, side = f.n.Left, 0
		case frameRight:
			f.next = frameDone
			child, side = f.n.Right, 1
		default:
			w.stack = w.stack[:len(w.stack)-1]
			continue
		}
		if child == nil {
			continue
		}
		end := f.depth + int(f.n.LabelBits)
		var hint loadHint
		if child.Node == nil && w.trackPath {
			hint = loadHint{key: guideKey(w.path, end, side), iterate: true}
		}
		n, ok := w.load(ctx, child, hint)
		if !ok {
			return
		}
		switch n := n.(type) {
		case *node.LeafNode:
			w.setLeaf(n)
			return
		case *node.InternalNode:
			w.push(n, end, frameLeaf)
		}
	}
	w.key, w.value = nil, nil
}
