package cli

import (
	"encoding/binary"
	"sort"
	"sync"
	"time"

	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/grpcapi"
)

// defaultBenchSeed is the default seed of the bench accounts' keys.
const defaultBenchSeed = "atoll-bench"

// maxBenchAccounts bounds --bench-accounts and --accounts.
const maxBenchAccounts = 100_000

// benchSigner returns bench key number i of seed: H("atoll/bench: test key" || seed ||
// u64be(i)) as an Ed25519 seed. The key is public knowledge to anyone with the seed: it is
// for test chains only.
func benchSigner(seed string, i int) *signature.MemorySigner {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(i))
	sum := hash.Digest([]byte("atoll/bench: test key"), []byte(seed), n[:])
	s, err := signature.NewSignerFromSeed(sum[:])
	if err != nil {
		// A 32-byte seed always makes a key.
		panic(err)
	}
	return s
}

// benchPending is a submitted transaction waiting for its block.
type benchPending struct {
	account   int
	submitted time.Time
}

// benchTracker matches the blocks the node streams against the submitted transactions. It is
// safe for concurrent use.
type benchTracker struct {
	mu        sync.Mutex
	pending   map[hash.Hash]benchPending
	inFlight  []int // per account
	wake      []chan struct{}
	workers   int
	windowEnd time.Time

	latencies       []time.Duration
	committed       int
	committedWindow int
	failedInBlock   int
	blocks          int
	blockTxs        int
	maxBlockTxs     int
	firstHeight     int64
	lastHeight      int64
}

func newBenchTracker(accounts, workers int) *benchTracker {
	t := &benchTracker{
		pending:  make(map[hash.Hash]benchPending, accounts*4),
		inFlight: make([]int, accounts),
		wake:     make([]chan struct{}, workers),
		workers:  workers,
	}
	for i := range t.wake {
		t.wake[i] = make(chan struct{}, 1)
	}
	return t
}

// add registers a transaction about to be submitted.
func (t *benchTracker) add(h hash.Hash, account int, at time.Time) {
	t.mu.Lock()
	t.pending[h] = benchPending{account: account, submitted: at}
	t.inFlight[account]++
	t.mu.Unlock()
}

// drop forgets a transaction the node rejected.
func (t *benchTracker) drop(h hash.Hash) {
	t.mu.Lock()
	if p, ok := t.pending[h]; ok {
		delete(t.pending, h)
		t.inFlight[p.account]--
	}
	t.mu.Unlock()
}

// inFlightOf returns the account's transactions waiting for a block.
func (t *benchTracker) inFlightOf(account int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.inFlight[account]
}

// pendingCount returns every transaction waiting for a block.
func (t *benchTracker) pendingCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// block records a committed block, seen at time now.
func (t *benchTracker) block(b grpcapi.BlockOutcomes, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.firstHeight == 0 {
		t.firstHeight = b.Height
	}
	t.lastHeight = b.Height
	t.blocks++
	t.blockTxs += len(b.Txs)
	t.maxBlockTxs = max(t.maxBlockTxs, len(b.Txs))
	woken := make([]bool, t.workers)
	for _, tx := range b.Txs {
		p, ok := t.pending[tx.Hash]
		if !ok {
			continue
		}
		delete(t.pending, tx.Hash)
		t.inFlight[p.account]--
		t.committed++
		if tx.Code != 0 {
			t.failedInBlock++
		}
		if !t.windowEnd.IsZero() && !now.After(t.windowEnd) {
			t.committedWindow++
		}
		t.latencies = append(t.latencies, now.Sub(p.submitted))
		w := p.account % t.workers
		if !woken[w] {
			woken[w] = true
			select {
			case t.wake[w] <- struct{}{}:
			default:
			}
		}
	}
}

// benchSnapshot is the tracker's counters at one moment.
type benchSnapshot struct {
	committed, committedWindow, failedInBlock, pending int
	blocks, blockTxs, maxBlockTxs                      int
	firstHeight, lastHeight                            int64
}

func (t *benchTracker) snapshot() benchSnapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	return benchSnapshot{
		committed: t.committed, committedWindow: t.committedWindow, failedInBlock: t.failedInBlock,
		pending: len(t.pending), blocks: t.blocks, blockTxs: t.blockTxs, maxBlockTxs: t.maxBlockTxs,
		firstHeight: t.firstHeight, lastHeight: t.lastHeight,
	}
}

// latencyPercentiles returns the p50, p90, p99 and maximum inclusion latencies.
func (t *benchTracker) latencyPercentiles() (p50, p90, p99, maxLat, mean time.Duration) {
	t.mu.Lock()
	l := append([]time.Duration(nil), t.latencies...)
	t.mu.Unlock()
	if len(l) == 0 {
		return 0, 0, 0, 0, 0
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	at := func(q float64) time.Duration { return l[min(len(l)-1, int(q*float64(len(l))))] }
	var sum time.Duration
	for _, d := range l {
		sum += d
	}
	return at(0.50), at(0.90), at(0.99), l[len(l)-1], sum / time.Duration(len(l))
}
