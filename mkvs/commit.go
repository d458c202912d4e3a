package mkvs

import (
	"context"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/mkvs/node"
	"github.com/atoll-project/atoll/mkvs/writelog"
)

// change records a key touched since the last commit: its state then and now.
type change struct {
	origExists bool
	orig       []byte
	exists     bool
	value      []byte
}

// noteChange records the result of an operation on key. owned says the tree owns key's
// bytes (an inserted key, copied on the way in), which then back the map key.
func (t *Tree) noteChange(key []byte, owned bool, res opResult, exists bool, value []byte) {
	c := t.changes[string(key)]
	if c == nil {
		// Changes come from a slab, reused after each commit (nothing refers to them then).
		if len(t.changeSlab) == cap(t.changeSlab) {
			t.changeSlab = make([]change, 0, changeSlabSize)
		}
		t.changeSlab = append(t.changeSlab, change{origExists: res.existed, orig: res.old})
		c = &t.changeSlab[len(t.changeSlab)-1]
		k := string(key)
		if owned {
			// The tree never modifies the bytes of a key it owns.
			k = unsafe.String(unsafe.SliceData(key), len(key))
		}
		t.changes[k] = c
	}
	c.exists, c.value = exists, value
}

// changeSlabSize is the number of changes allocated at once.
const changeSlabSize = 512

// writeLog returns the net changes since the last commit, sorted by key.
func (t *Tree) writeLog() writelog.WriteLog {
	keys := make([]string, 0, len(t.changes))
	for k, c := range t.changes {
		if c.exists != c.origExists || (c.exists && string(c.value) != string(c.orig)) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, strings.Compare)
	wl := make(writelog.WriteLog, 0, len(keys))
	for _, k := range keys {
		c := t.changes[k]
		// Map keys are immutable strings: the write log shares their bytes (the empty key
		// stays non-nil: nil and empty encode differently).
		e := writelog.LogEntry{Key: []byte{}}
		if len(k) > 0 {
			e.Key = unsafe.Slice(unsafe.StringData(k), len(k))
		}
		if c.exists {
			e.Value = c.value
		}
		wl = append(wl, e)
	}
	return wl
}

// Commit hashes the changes since the last commit into a new root of namespace ns at version
// and returns the net write log, the new root and the batch of new nodes for the node DB; the
// tree then continues from the new root. New nodes get Version = version and come children
// before parents; leaves in leaf slots are stored inside their parent and not listed. The batch
// lists no nodes when the root node is unchanged (a commit with no changes returns the same root
// hash, at the new version) or the tree is now empty; otherwise its last node is the new root
// node. The write log holds the net changes since the last commit, sorted by key: a key
// inserted and removed again leaves no entry, a removal has a nil value.
//
// The write log and the batch share memory with the tree and must not be modified. For a tree
// opened with NewWithRoot the batch must be persisted to its reader before the tree is used
// again (see NewWithRoot).
func (t *Tree) Commit(ctx context.Context, ns namespace.Namespace, version uint64) (writelog.WriteLog, node.Root, *node.Batch, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ready(); err != nil {
		return nil, node.Root{}, nil, err
	}
	src := t.root
	if t.src != nil || !src.Namespace.IsZero() {
		if src.Namespace != ns {
			return nil, node.Root{}, nil, fmt.Errorf("%w: %s, tree has %s", ErrNamespaceMismatch, ns, src.Namespace)
		}
	} else {
		src.Namespace = ns
	}
	if version < src.Version {
		return nil, node.Root{}, nil, fmt.Errorf("%w: %d < %d", ErrVersionRegression, version, src.Version)
	}
	if r := t.rootPtr; r != nil && r.Clean && r.Hash != src.Hash {
		// An existing node became the root (a removal collapsed the old one): the batch carries
		// it anew so that the node DB finds the root node at the new version.
		n, err := t.deref(ctx, r, loadHint{})
		if err != nil {
			return nil, node.Root{}, nil, err
		}
		t.replace(r)
		t.settle(true)
		t.setRoot(&node.Pointer{Node: dirtyCopy(n)})
	}
	batch := &node.Batch{Src: src, WriteLog: t.writeLog()}
	_, persisted := t.src.(*readerSource)
	persisted = persisted && t.cache.enabled()
	c := committer{h: &t.hasher, version: version, trackPtrs: persisted}
	// A random insert dirties about a dozen nodes of a large tree.
	c.nodes = make([]node.Node, 0, 12*len(t.changes)+4)
	if persisted {
		c.ptrs = make([]*node.Pointer, 0, cap(c.nodes))
	}
	c.splitRoot = len(t.changes) >= parallelCommitChanges
	c.commit(t.rootPtr, false)
	if persisted {
		// Committed nodes can be loaded again once the caller persists the batch.
		for _, n := range c.ptrs {
			t.cache.add(n)
		}
		t.pinRoot()
		t.cache.evict()
	}
	batch.Nodes = c.nodes
	batch.Obsolete = t.obsolete
	if batch.Obsolete == nil {
		batch.Obsolete = []node.NodeRef{}
	}
	// The next commit likely replaces about as many nodes.
	t.obsolete = make([]node.NodeRef, 0, len(batch.Obsolete)+len(batch.Obsolete)/4)
	if s, ok := t.src.(*syncSource); ok && s.verified != nil {
		// Their hashes were just computed here: later trees may take them as verified.
		s.verified.addNodes(c.nodes)
	}
	batch.Root = node.Root{Namespace: ns, Version: version, Type: t.opts.rootType, Hash: node.HashOf(t.rootPtr)}
	t.root = batch.Root
	// The map and the last slab of changes serve the next commit (the write log shares only
	// the keys' bytes, which the map does not change).
	clear(t.changes)
	clear(t.changeSlab)
	t.changeSlab = t.changeSlab[:0]
	return batch.WriteLog, batch.Root, batch, nil
}

func dirtyCopy(n node.Node) node.Node {
	switch n := n.(type) {
	case *node.LeafNode:
		return &node.LeafNode{Key: n.Key, Value: n.Value}
	case *node.InternalNode:
		return &node.InternalNode{LabelBits: n.LabelBits, Label: n.Label, Leaf: n.Leaf, Left: n.Left, Right: n.Right}
	}
	panic(fmt.Sprintf("mkvs: unexpected node type %T", n))
}

// committer hashes dirty nodes bottom-up.
type committer struct {
	h         *hasher
	version   uint64
	trackPtrs bool // collect the pointers of listed nodes in ptrs
	nodes     []node.Node
	ptrs      []*node.Pointer
	// splitRoot makes the next commit call hash the two subtrees of its internal node on two
	// goroutines (commitBoth); that call clears it, so only the root is split.
	splitRoot bool
}

// parallelCommitChanges is the number of changed keys from which Commit splits the root: a
// commit of a thousand random writes to a large tree hashes some twelve thousand nodes, and
// starting a goroutine costs about one hash.
const parallelCommitChanges = 256

// commitBoth hashes left on another goroutine and right on this one, then lists left's nodes
// after right's (children still come before their parents).
func (c *committer) commitBoth(left, right *node.Pointer) {
	l := committer{h: &hasher{}, version: c.version, trackPtrs: c.trackPtrs}
	l.nodes = make([]node.Node, 0, cap(c.nodes)/2)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.commit(left, false)
	}()
	c.commit(right, false)
	<-done
	c.nodes = append(c.nodes, l.nodes...)
	c.ptrs = append(c.ptrs, l.ptrs...)
}

// commit hashes the dirty subtree at ptr; slot says ptr is a leaf slot, stored inside its
// parent and so not listed in the batch.
func (c *committer) commit(ptr *node.Pointer, slot bool) {
	if ptr == nil || ptr.Clean {
		return
	}
	split := c.splitRoot
	c.splitRoot = false
	switch n := ptr.Node.(type) {
	case *node.LeafNode:
		n.Hash = c.h.leaf(n)
		n.Clean, n.Version = true, c.version
	case *node.InternalNode:
		c.commit(n.Leaf, true)
		if split && n.Left != nil && n.Right != nil && !n.Left.Clean && !n.Right.Clean {
			c.commitBoth(n.Left, n.Right)
		} else {
			c.commit(n.Left, false)
			c.commit(n.Right, false)
		}
		n.Hash = c.h.internal(n)
		n.Clean, n.Version = true, c.version
	default:
		panic(fmt.Sprintf("mkvs: dirty pointer to %T", ptr.Node))
	}
	c.finish(ptr, slot)
}

// finish marks ptr, whose node was just hashed, clean and lists it in the batch unless it is a
// leaf slot.
func (c *committer) finish(ptr *node.Pointer, slot bool) {
	ptr.Hash, ptr.Version, ptr.Clean = ptr.Node.NodeHash(), c.version, true
	if !slot {
		c.nodes = append(c.nodes, ptr.Node)
		if c.trackPtrs {
			c.ptrs = append(c.ptrs, ptr)
		}
	}
}

// hasher computes node hashes (as node.HashLeaf and node.HashInternal do) in a reused buffer.
type hasher struct {
	buf []byte
}

func (h *hasher) sum(data []byte) hash.Hash {
	return sha512.Sum512_256(data)
}

func (h *hasher) leaf(n *node.LeafNode) hash.Hash {
	if len(n.Value) > 4096 {
		// Avoid copying large values into the buffer.
		return node.HashLeaf(n.Key, n.Value)
	}
	b := append(h.buf[:0], 0x00)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(n.Key)))
	b = append(b, n.Key...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(n.Value)))
	b = append(b, n.Value...)
	h.buf = b
	return h.sum(b)
}

func (h *hasher) internal(n *node.InternalNode) hash.Hash {
	b := append(h.buf[:0], 0x01)
	b = binary.LittleEndian.AppendUint16(b, n.LabelBits)
	b = append(b, n.Label...)
	for _, p := range [3]*node.Pointer{n.Leaf, n.Left, n.Right} {
		x := node.HashOf(p)
		b = append(b, x[:]...)
	}
	h.buf = b
	return h.sum(b)
}
