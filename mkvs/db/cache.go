package db

import (
	"sync"
	"sync/atomic"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/mkvs/node"
)

// nodeCache keeps the stored form of node records that garbage-collection walks (Finalize's
// discards, Prune without a batch's list of obsolete nodes, rebuilding the flat index) loaded,
// so that walks over overlapping trees skip Pebble; trees loading nodes read it too. Entries are immutable byte
// slices; eviction is first in, first out within each shard under a byte budget.
//
// Node records are immutable while they exist, so a hit is always a valid node; records are
// dropped from the cache after the batch deleting them commits, and Apply overwrites the entry
// of every node it writes.
type nodeCache struct {
	shards []cacheShard
	// entries counts the cached records, so that removing records from an empty cache (the
	// usual case of Prune with a commit's list of obsolete nodes) takes no lock.
	entries atomic.Int64
}

const (
	cacheShards = 16
	// cacheEntryOverhead approximates the memory of one entry beside its bytes.
	cacheEntryOverhead = 96
)

type cacheKey struct {
	version uint64
	typ     node.RootType
	hash    hash.Hash
}

type cacheShard struct {
	mu       sync.Mutex
	entries  map[cacheKey][]byte
	queue    []cacheKey // insertion order; may hold keys already removed
	head     int
	size     int64
	capacity int64
}

// newNodeCache returns a cache of about capacity bytes, or nil (a cache that holds nothing)
// for a non-positive capacity.
func newNodeCache(capacity int64) *nodeCache {
	if capacity <= 0 {
		return nil
	}
	c := &nodeCache{shards: make([]cacheShard, cacheShards)}
	for i := range c.shards {
		c.shards[i].entries = make(map[cacheKey][]byte)
		c.shards[i].capacity = capacity / cacheShards
	}
	return c
}

func (c *nodeCache) shard(k cacheKey) *cacheShard {
	return &c.shards[(uint(k.hash[0])^uint(k.version))%cacheShards]
}

// get returns the cached record; the caller must not modify it.
func (c *nodeCache) get(k cacheKey) ([]byte, bool) {
	if c == nil || c.entries.Load() == 0 {
		return nil, false
	}
	s := c.shard(k)
	s.mu.Lock()
	v, ok := s.entries[k]
	s.mu.Unlock()
	return v, ok
}

// put stores data (which the cache now owns) under k, replacing any previous entry.
func (c *nodeCache) put(k cacheKey, data []byte) {
	if c == nil {
		return
	}
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.entries[k]; ok {
		s.size -= int64(len(old))
		s.entries[k] = data
		s.size += int64(len(data))
		return
	}
	s.entries[k] = data
	c.entries.Add(1)
	s.queue = append(s.queue, k)
	s.size += int64(len(data)) + cacheEntryOverhead
	for s.size > s.capacity && s.head < len(s.queue) {
		victim := s.queue[s.head]
		s.head++
		if v, ok := s.entries[victim]; ok {
			delete(s.entries, victim)
			c.entries.Add(-1)
			s.size -= int64(len(v)) + cacheEntryOverhead
		}
	}
	switch live := len(s.queue) - s.head; {
	case live > 2*len(s.entries)+1024:
		// Mostly removed keys: keep the live ones, in order.
		q := s.queue[:0]
		for _, k := range s.queue[s.head:] {
			if _, ok := s.entries[k]; ok {
				q = append(q, k)
			}
		}
		s.queue, s.head = q, 0
	case s.head > 1024 && s.head > len(s.queue)/2:
		s.queue = append(s.queue[:0], s.queue[s.head:]...)
		s.head = 0
	}
}

// remove drops k.
func (c *nodeCache) remove(k cacheKey) {
	if c == nil || c.entries.Load() == 0 {
		return
	}
	s := c.shard(k)
	s.mu.Lock()
	if v, ok := s.entries[k]; ok {
		delete(s.entries, k)
		c.entries.Add(-1)
		s.size -= int64(len(v)) + cacheEntryOverhead
	}
	s.mu.Unlock()
}
