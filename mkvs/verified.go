package mkvs

import (
	"sync"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
)

// VerifiedNodes is a bounded store of nodes whose hashes this process computed itself, from a
// proof it verified or by committing them, shared by the trees opened WithVerifiedNodes over a
// remote peer (NewWithSyncer). A node is immutable and named by its hash, which commits to its
// whole subtree, so a node verified under one root stands for every pointer of that hash under
// any other root: such trees ask their peer only for what the store lacks, and a runtime that
// keeps one store across batches fetches little once warm.
//
// The store keeps nodes without their children (an internal node refers to its children by
// hash) and hands each tree its own copies, so trees never share mutable state through it.
// The least recently used nodes are dropped past the byte budget. It is safe for concurrent
// use.
type VerifiedNodes struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	entries  map[hash.Hash]*verifiedEntry
	lru      verifiedEntry // sentinel: lru.next is the most recent entry, lru.prev the least
}

// verifiedEntry is one node in a compact form (see encodeVerified) that holds no pointers
// into the node graph, so the store costs the garbage collector little to scan.
type verifiedEntry struct {
	prev, next *verifiedEntry
	hash       hash.Hash
	data       []byte
}

// NewVerifiedNodes returns an empty store that keeps about maxBytes of nodes (at least one).
func NewVerifiedNodes(maxBytes int) *VerifiedNodes {
	v := &VerifiedNodes{maxBytes: maxBytes, entries: make(map[hash.Hash]*verifiedEntry)}
	v.lru.next, v.lru.prev = &v.lru, &v.lru
	return v
}

// WithVerifiedNodes makes a tree opened with NewWithSyncer take the nodes it needs from v
// before asking its peer, and put into v every node it verifies or commits. Other trees
// ignore it.
func WithVerifiedNodes(v *VerifiedNodes) Option { return func(o *options) { o.verified = v } }

// Len returns the number of nodes held.
func (v *VerifiedNodes) Len() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.entries)
}

// get returns a fresh copy of the node of hash h, with unloaded children, or nil.
func (v *VerifiedNodes) get(h hash.Hash) node.Node {
	v.mu.Lock()
	e, ok := v.entries[h]
	if ok && v.lru.next != e {
		v.unlink(e)
		v.pushFront(e)
	}
	v.mu.Unlock()
	if !ok {
		return nil
	}
	return decodeVerified(h, e.data)
}

// hashPointer returns a new unloaded clean pointer with p's hash (nil for nil).
func hashPointer(p *node.Pointer) *node.Pointer {
	if p == nil {
		return nil
	}
	return &node.Pointer{Clean: true, Hash: p.Hash}
}

// addSubtree adds every loaded clean node of the subtree at ptr, whose hashes the caller has
// computed from their contents (a verified proof, or a commit).
func (v *VerifiedNodes) addSubtree(ptr *node.Pointer) {
	if ptr == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	stack := []*node.Pointer{ptr}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if p == nil || !p.Clean || p.Node == nil {
			continue
		}
		v.addLocked(p.Node)
		if in, ok := p.Node.(*node.InternalNode); ok {
			stack = append(stack, in.Right, in.Left)
		}
	}
	v.evictLocked()
}

// addNodes adds clean nodes whose hashes the caller has computed (a commit's batch).
func (v *VerifiedNodes) addNodes(nodes []node.Node) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, n := range nodes {
		v.addLocked(n)
	}
	v.evictLocked()
}

func (v *VerifiedNodes) addLocked(n node.Node) {
	h := n.NodeHash()
	if old, ok := v.entries[h]; ok {
		if v.lru.next != old {
			v.unlink(old)
			v.pushFront(old)
		}
		return
	}
	data := encodeVerified(n)
	if data == nil {
		return
	}
	e := &verifiedEntry{hash: h, data: data}
	v.entries[h] = e
	v.pushFront(e)
	v.bytes += entrySize(e)
}

// entrySize approximates an entry's memory: the data, the entry and its map slot.
func entrySize(e *verifiedEntry) int { return cap(e.data) + 2*hash.Size + 64 }

// The compact form of a clean node whose hash is known:
//
//	leaf:     0x00 || u16 len(key) || key || value
//	internal: 0x01 || u16 label_bits || label || present || [left hash] || [right hash]
//	          || [leaf hash || u16 len(key) || key || leaf value]
//
// where present has bit 0 set for a leaf slot, bit 1 for a left child and bit 2 for a right
// child, and the leaf value runs to the end. Integers are little-endian.
const (
	verifiedLeaf     = 0x00
	verifiedInternal = 0x01

	presentLeaf  = 1 << 0
	presentLeft  = 1 << 1
	presentRight = 1 << 2
)

// encodeVerified returns the compact form of n, or nil for a node that is not clean (or has a
// child that is not).
func encodeVerified(n node.Node) []byte {
	switch n := n.(type) {
	case *node.LeafNode:
		if !n.Clean {
			return nil
		}
		b := make([]byte, 0, 3+len(n.Key)+len(n.Value))
		b = append(b, verifiedLeaf)
		return appendKeyValue(b, n.Key, n.Value)
	case *node.InternalNode:
		if !n.Clean || !cleanChild(n.Left) || !cleanChild(n.Right) {
			return nil
		}
		var leaf *node.LeafNode
		if n.Leaf != nil {
			l, ok := n.Leaf.Node.(*node.LeafNode)
			if !ok || !l.Clean || !n.Leaf.Clean {
				return nil
			}
			leaf = l
		}
		size := 4 + len(n.Label) + 2*hash.Size
		if leaf != nil {
			size += hash.Size + 2 + len(leaf.Key) + len(leaf.Value)
		}
		b := make([]byte, 0, size)
		b = append(b, verifiedInternal, byte(n.LabelBits), byte(n.LabelBits>>8))
		b = append(b, n.Label...)
		var present byte
		if leaf != nil {
			present |= presentLeaf
		}
		if n.Left != nil {
			present |= presentLeft
		}
		if n.Right != nil {
			present |= presentRight
		}
		b = append(b, present)
		if n.Left != nil {
			b = append(b, n.Left.Hash[:]...)
		}
		if n.Right != nil {
			b = append(b, n.Right.Hash[:]...)
		}
		if leaf != nil {
			b = append(b, leaf.Hash[:]...)
			b = appendKeyValue(b, leaf.Key, leaf.Value)
		}
		return b
	}
	return nil
}

func appendKeyValue(b, key, value []byte) []byte {
	b = append(b, byte(len(key)), byte(len(key)>>8))
	b = append(b, key...)
	return append(b, value...)
}

// decodeVerified rebuilds a node of hash h from its compact form. The node's label, key and
// value alias data, which is never modified (nor are a clean node's).
func decodeVerified(h hash.Hash, data []byte) node.Node {
	if data[0] == verifiedLeaf {
		key, value := splitKeyValue(data[1:])
		return &node.LeafNode{Clean: true, Hash: h, Key: key, Value: value}
	}
	bits := uint16(data[1]) | uint16(data[2])<<8
	off := 3 + node.LabelBytes(bits)
	n := &node.InternalNode{Clean: true, Hash: h, LabelBits: bits, Label: data[3:off:off]}
	present := data[off]
	off++
	if present&presentLeft != 0 {
		n.Left = &node.Pointer{Clean: true, Hash: hash.Hash(data[off : off+hash.Size])}
		off += hash.Size
	}
	if present&presentRight != 0 {
		n.Right = &node.Pointer{Clean: true, Hash: hash.Hash(data[off : off+hash.Size])}
		off += hash.Size
	}
	if present&presentLeaf != 0 {
		lh := hash.Hash(data[off : off+hash.Size])
		key, value := splitKeyValue(data[off+hash.Size:])
		n.Leaf = &node.Pointer{Clean: true, Hash: lh, Node: &node.LeafNode{Clean: true, Hash: lh, Key: key, Value: value}}
	}
	return n
}

func splitKeyValue(b []byte) (key, value []byte) {
	kl := int(b[0]) | int(b[1])<<8
	return b[2 : 2+kl : 2+kl], b[2+kl : len(b) : len(b)]
}

// cleanChild reports whether a child pointer names its node by a hash that is final.
func cleanChild(p *node.Pointer) bool { return p == nil || p.Clean }

func (v *VerifiedNodes) evictLocked() {
	for v.bytes > v.maxBytes && v.lru.prev != &v.lru && v.lru.prev != v.lru.next {
		e := v.lru.prev
		v.unlink(e)
		delete(v.entries, e.hash)
		v.bytes -= entrySize(e)
	}
}

func (v *VerifiedNodes) pushFront(e *verifiedEntry) {
	e.prev = &v.lru
	e.next = v.lru.next
	v.lru.next.prev = e
	v.lru.next = e
}

func (v *VerifiedNodes) unlink(e *verifiedEntry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}
