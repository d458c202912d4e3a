package sdk

import (
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

// entryOverhead bounds the CBOR overhead of one write log entry: the array header and the two
// byte-string (or null) headers around key and value.
const entryOverhead = 1 + 5 + 5

// entrySize bounds the encoded size of a write log entry.
func entrySize(key string, value []byte) int { return len(key) + len(value) + entryOverhead }

// cost is what some writes add to a batch's write logs: entries and encoded bytes.
type cost struct {
	entries uint64
	bytes   uint64
}

func (c cost) plus(o cost) cost { return cost{c.entries + o.entries, c.bytes + o.bytes} }

// within reports whether c respects limits; a zero limit is no bound.
func (c cost) within(l messages.BatchLimits) bool {
	return (l.MaxApplyWriteLogEntries == 0 || c.entries <= l.MaxApplyWriteLogEntries) &&
		(l.MaxBatchBytes == 0 || c.bytes <= l.MaxBatchBytes)
}

// budget tracks an upper bound of the size of a batch's write logs as transactions are added
// (DESIGN.md §6 batch size rule). It counts every key a transaction writes, even one written
// back to its old value, so it never underestimates.
type budget struct {
	limits messages.BatchLimits
	// state is the bound of each state key's entry so far; a later write replaces it.
	state map[string]int
	total cost
}

func newBudget(limits messages.BatchLimits) *budget {
	return &budget{limits: limits, state: make(map[string]int)}
}

// stateCost returns what the overlay costs alone and what it adds to the batch.
func (b *budget) stateCost(overlay map[string][]byte) (alone, added cost) {
	for k, v := range overlay {
		n := uint64(entrySize(k, v))
		alone.entries++
		alone.bytes += n
		if old, ok := b.state[k]; ok {
			if n > uint64(old) {
				added.bytes += n - uint64(old)
			}
			continue
		}
		added.entries++
		added.bytes += n
	}
	return alone, added
}

// ioCost returns the cost of IO entries of the given key and value lengths.
func ioCost(entries ...[2]int) cost {
	var c cost
	for _, e := range entries {
		c.entries++
		c.bytes += uint64(e[0] + e[1] + entryOverhead)
	}
	return c
}

// fits reports whether adding c keeps the batch within its limits.
func (b *budget) fits(c cost) bool { return b.total.plus(c).within(b.limits) }

// add records an overlay applied to the state and IO entries of cost io.
func (b *budget) add(overlay map[string][]byte, io cost) {
	_, added := b.stateCost(overlay)
	for k, v := range overlay {
		b.state[k] = entrySize(k, v)
	}
	b.total = b.total.plus(added).plus(io)
}
