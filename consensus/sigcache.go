package consensus

import (
	"sync"

	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// verifiedTx is a decoded transaction whose signature this node verified, with the signer's
// staking address (derived once: it is a hash). It is immutable and safe to share.
type verifiedTx struct {
	*transaction.Decoded
	signerAddr staking.Address
}

func newVerifiedTx(d *transaction.Decoded) *verifiedTx {
	return &verifiedTx{Decoded: d, signerAddr: staking.NewAddress(d.Signer())}
}

// verifiedCache remembers transactions whose signature this node verified, keyed by their raw
// bytes (so a lookup costs a map access, not a hash of the transaction), so that CheckTx,
// rechecks, proposals and FinalizeBlock do not decode or verify them again. It is bounded: the
// oldest entries are evicted first. Safe for concurrent use.
type verifiedCache struct {
	mu      sync.Mutex
	entries map[string]verifiedEntry
	ring    []string // the keys by insertion slot; "" for a free slot
	next    int
}

type verifiedEntry struct {
	tx   *verifiedTx
	slot int
}

func newVerifiedCache(size int) *verifiedCache {
	if size < 1 {
		size = 1
	}
	return &verifiedCache{entries: make(map[string]verifiedEntry, size), ring: make([]string, size)}
}

func (c *verifiedCache) get(raw []byte) (*verifiedTx, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(raw)]
	return e.tx, ok
}

func (c *verifiedCache) has(raw []byte) bool {
	_, ok := c.get(raw)
	return ok
}

// put remembers v as the verified decoding of raw, evicting the oldest entry when full.
func (c *verifiedCache) put(raw []byte, v *verifiedTx) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[string(raw)]; ok {
		return
	}
	if old := c.ring[c.next]; old != "" {
		delete(c.entries, old)
	}
	key := string(raw)
	c.ring[c.next] = key
	c.entries[key] = verifiedEntry{tx: v, slot: c.next}
	c.next = (c.next + 1) % len(c.ring)
}

func (c *verifiedCache) remove(raw []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[string(raw)]; ok {
		c.ring[e.slot] = ""
		delete(c.entries, string(raw))
	}
}

func (c *verifiedCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
