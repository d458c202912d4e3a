package consensus

import (
	"sync"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// verifiedCache remembers transactions whose signature this node verified, by transaction
// hash, so that FinalizeBlock does not verify (or decode) them again. It is bounded: the
// oldest entries are evicted first. Safe for concurrent use.
type verifiedCache struct {
	mu      sync.Mutex
	entries map[hash.Hash]*transaction.Decoded
	ring    []hash.Hash
	next    int
}

func newVerifiedCache(size int) *verifiedCache {
	if size < 1 {
		size = 1
	}
	return &verifiedCache{entries: make(map[hash.Hash]*transaction.Decoded, size), ring: make([]hash.Hash, size)}
}

func (c *verifiedCache) get(h hash.Hash) (*transaction.Decoded, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.entries[h]
	return d, ok
}

func (c *verifiedCache) put(d *transaction.Decoded) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[d.Hash]; ok {
		return
	}
	if old := c.ring[c.next]; !old.IsZero() {
		delete(c.entries, old)
	}
	c.ring[c.next] = d.Hash
	c.next = (c.next + 1) % len(c.ring)
	c.entries[d.Hash] = d
}

func (c *verifiedCache) remove(h hash.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, h)
}

func (c *verifiedCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
