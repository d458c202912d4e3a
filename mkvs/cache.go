package mkvs

import "github.com/atoll-project/atoll/mkvs/node"

// nodeCache keeps track of the clean nodes a tree could load again and drops the least
// recently used ones past its budget, by unloading their pointers (Node = nil). Only pointers
// in the cache are ever unloaded, so dirty nodes, leaf slots (stored inside their parent) and
// the nodes of a tree with nowhere to reload them from stay in memory.
//
// The root pointer is pinned: never tracked, so never unloaded once loaded.
//
// Invariant: ptr.Cache != nil implies ptr is clean and loaded. Touching a path from the root
// down leaves ancestors more recent than their descendants, so eviction works bottom-up; when
// an internal node goes anyway, its loaded descendants go with it.
type nodeCache struct {
	evictable bool // nodes can be loaded again
	maxBytes  int
	bytes     int
	lru       cacheEntry // sentinel: lru.next is the most recent entry, lru.prev the least
}

type cacheEntry struct {
	prev, next *cacheEntry
	ptr        *node.Pointer
	size       int
}

func (c *nodeCache) init(maxBytes int) {
	c.maxBytes = maxBytes
	c.bytes = 0
	c.lru.next, c.lru.prev = &c.lru, &c.lru
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
	e := &cacheEntry{ptr: ptr, size: nodeSize(ptr.Node) + entryOverhead}
	ptr.Cache = e
	c.pushFront(e)
	c.bytes += e.size
}

// addSubtree tracks ptr and every loaded pointer below it (a subtree grafted from a proof).
func (c *nodeCache) addSubtree(ptr *node.Pointer) {
	if !c.enabled() {
		return
	}
	stack := []*node.Pointer{ptr}
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
	if !ok || c.lru.next == e {
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
	c.bytes -= e.size
	ptr.Cache = nil
}

// evict unloads least recently used nodes until the cache is within budget, always keeping
// the most recent one (the node an operation just loaded).
func (c *nodeCache) evict() {
	for c.bytes > c.maxBytes && c.lru.prev != &c.lru && c.lru.prev != c.lru.next {
		c.unload(c.lru.prev.ptr)
	}
}

// unload drops ptr's node and every tracked node below it.
func (c *nodeCache) unload(ptr *node.Pointer) {
	stack := []*node.Pointer{ptr}
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
	e.prev = &c.lru
	e.next = c.lru.next
	c.lru.next.prev = e
	c.lru.next = e
}

func (c *nodeCache) unlink(e *cacheEntry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}
