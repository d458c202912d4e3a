package mkvs

import "github.com/atoll-project/atoll/mkvs/node"

// nodeCache keeps track of the clean nodes a tree could load again and drops the least
// recently used ones past its budget, by unloading their pointers (Node = nil). Only pointers
// in the cache are ever unloaded, so dirty nodes, leaf slots (stored inside their parent) and
// the nodes of a tree with nowhere to reload them from stay in memory.
//
// The root pointer is pinned: never tracked, so never unloaded once loaded.
//
// Leaves go first: the cache keeps one LRU list of leaves and one of internal nodes, and
// evicts from the leaves' until it is empty. An insert or a lookup walks ~log2(keys) internal
// nodes to reach a single leaf, and reloading a leaf costs one node DB read whatever its
// depth, so a budget spent on internal nodes saves the most reloads (on a 1M-key tree, the
// internal nodes alone take about as much as the default budget).
//
// Invariant: ptr.Cache != nil implies ptr is clean and loaded. Touching a path from the root
// down leaves ancestors more recent than their descendants, so eviction works bottom-up; when
// an internal node goes anyway, its loaded descendants go with it.
type nodeCache struct {
	evictable bool // nodes can be loaded again
	maxBytes  int
	bytes     int
	// Sentinels: x.next is the most recent entry, x.prev the least.
	leaves, internals cacheEntry
	last              *cacheEntry // the entry added or touched last, never evicted
	// free holds entries no longer tracking a pointer, for reuse: a commit adds as many entries
	// as it drops, and recycling them spares the allocator and the garbage collector.
	free []*cacheEntry
	// stack is the scratch stack of addSubtree and unload.
	stack []*node.Pointer
}

type cacheEntry struct {
	prev, next *cacheEntry
	ptr        *node.Pointer
	size       int32
	leaf       bool
}

func (c *nodeCache) init(maxBytes int) {
	c.maxBytes = maxBytes
	c.bytes = 0
	c.leaves.next, c.leaves.prev = &c.leaves, &c.leaves
	c.internals.next, c.internals.prev = &c.internals, &c.internals
	c.last = nil
	c.free = nil
	c.stack = nil
}

func (c *nodeCache) enabled() bool { return c.evictable && c.maxBytes > 0 }

// Approximate in-memory sizes, for the budget.
const (
	leafOverhead     = 120
	internalOverhead = 180
	entryOverhead    = 48
)

func nodeSize(n node.Node) int {
	switch n := n.(type) {
	case *node.LeafNode:
		return leafOverhead + len(n.Key) + len(n.Value)
	case *node.InternalNode:
		size := internalOverhead + len(n.Label)
		if n.Leaf != nil {
			if l, ok := n.Leaf.Node.(*node.LeafNode); ok {
				size += leafOverhead + len(l.Key) + len(l.Value)
			}
		}
		return size
	}
	return 0
}

// add starts tracking a clean, loaded pointer.
func (c *nodeCache) add(ptr *node.Pointer) {
	if !c.enabled() || ptr.Cache != nil || ptr.Node == nil || !ptr.Clean {
		return
	}
	_, leaf := ptr.Node.(*node.LeafNode)
	var e *cacheEntry
	if n := len(c.free); n > 0 {
		e = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		e = new(cacheEntry)
	}
	*e = cacheEntry{ptr: ptr, size: int32(nodeSize(ptr.Node) + entryOverhead), leaf: leaf}
	ptr.Cache = e
	c.pushFront(e)
	c.bytes += int(e.size)
}

// addSubtree tracks ptr and every loaded pointer below it (a subtree grafted from a proof).
func (c *nodeCache) addSubtree(ptr *node.Pointer) {
	if !c.enabled() {
		return
	}
	stack := append(c.stack[:0], ptr)
	defer func() { c.stack = stack[:0] }()
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		c.add(p)
		if in, ok := p.Node.(*node.InternalNode); ok {
			for _, ch := range [2]*node.Pointer{in.Left, in.Right} {
				if ch != nil && ch.Node != nil && ch.Cache == nil {
					stack = append(stack, ch)
				}
			}
		}
	}
}

// touch marks ptr as just used.
func (c *nodeCache) touch(ptr *node.Pointer) {
	e, ok := ptr.Cache.(*cacheEntry)
	if !ok || c.last == e {
		return
	}
	c.unlink(e)
	c.pushFront(e)
}

// remove stops tracking ptr (which is about to be replaced or dropped) without unloading it.
func (c *nodeCache) remove(ptr *node.Pointer) {
	e, ok := ptr.Cache.(*cacheEntry)
	if !ok {
		return
	}
	c.unlink(e)
	c.bytes -= int(e.size)
	ptr.Cache = nil
	e.ptr = nil
	if len(c.free) < maxFreeEntries {
		c.free = append(c.free, e)
	}
}

// maxFreeEntries bounds the entries kept for reuse (about what a few large commits recycle).
const maxFreeEntries = 1 << 16

// evict unloads least recently used nodes, leaves first, until the cache is within budget,
// always keeping the most recent one (the node an operation just loaded).
func (c *nodeCache) evict() {
	for c.bytes > c.maxBytes {
		var e *cacheEntry
		switch {
		case c.leaves.prev != &c.leaves && c.leaves.prev != c.last:
			e = c.leaves.prev
		case c.internals.prev != &c.internals && c.internals.prev != c.last:
			e = c.internals.prev
		default:
			return
		}
		c.unload(e.ptr)
	}
}

// unload drops ptr's node and every tracked node below it.
func (c *nodeCache) unload(ptr *node.Pointer) {
	stack := append(c.stack[:0], ptr)
	defer func() { c.stack = stack[:0] }()
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if p.Cache == nil {
			continue
		}
		c.remove(p)
		if in, ok := p.Node.(*node.InternalNode); ok {
			for _, ch := range [2]*node.Pointer{in.Left, in.Right} {
				if ch != nil && ch.Cache != nil {
					stack = append(stack, ch)
				}
			}
		}
		p.Node = nil
	}
}

func (c *nodeCache) pushFront(e *cacheEntry) {
	list := &c.internals
	if e.leaf {
		list = &c.leaves
	}
	e.prev = list
	e.next = list.next
	list.next.prev = e
	list.next = e
	c.last = e
}

func (c *nodeCache) unlink(e *cacheEntry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
	if c.last == e {
		c.last = nil
	}
}
