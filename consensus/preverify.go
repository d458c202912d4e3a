package consensus

import (
	"runtime"
	"sync"

	"github.com/atoll-project/atoll/common/signature"
	"github.com/atoll-project/atoll/consensus/transaction"
)

// minPreverifyChunk is the fewest transactions a goroutine of PreverifyTxs takes: below it,
// starting a goroutine costs more than the batch saves.
const minPreverifyChunk = 32

// PreverifyTxs decodes raw transactions and verifies their signatures in batches, on up to
// GOMAXPROCS goroutines, and remembers the valid ones in the verified cache by transaction
// hash. CheckTx, which CometBFT calls one transaction at a time, then finds their verdicts
// there instead of verifying on its serialised path. It is meant for transactions submitted
// to this node (the gRPC API) just before they go to the mempool.
//
// It changes no verdict: a transaction that is too large, does not decode or fails
// verification is left alone, and CheckTx rejects it with its usual error. The cache only ever
// holds verdicts this node computed. Safe for concurrent use (with CheckTx and FinalizeBlock
// too).
func (m *Mux) PreverifyTxs(txs [][]byte) {
	workers := min(runtime.GOMAXPROCS(0), len(txs)/minPreverifyChunk)
	if workers <= 1 {
		m.preverify(txs)
		return
	}
	var wg sync.WaitGroup
	chunk := (len(txs) + workers - 1) / workers
	for start := 0; start < len(txs); start += chunk {
		part := txs[start:min(start+chunk, len(txs))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.preverify(part)
		}()
	}
	wg.Wait()
}

// preverify batch-verifies txs on the calling goroutine and caches the valid ones.
func (m *Mux) preverify(txs [][]byte) {
	maxBytes := m.chain.doc.Consensus.MaxTxBytes
	decoded := make([]*transaction.Decoded, 0, len(txs))
	raws := make([][]byte, 0, len(txs))
	for _, raw := range txs {
		if int64(len(raw)) > maxBytes {
			continue
		}
		if m.verified.has(raw) {
			continue
		}
		d, err := transaction.Decode(raw)
		if err != nil {
			continue
		}
		decoded = append(decoded, d)
		raws = append(raws, raw)
	}
	if len(decoded) == 0 {
		return
	}
	batch := signature.NewBatchVerifier(len(decoded))
	for _, d := range decoded {
		d.AddToBatch(batch, m.chain.txContext)
	}
	_, valid := batch.Verify(nil)
	n := 0
	for i, d := range decoded {
		if valid[i] {
			m.verified.put(raws[i], newVerifiedTx(d))
			n++
		}
	}
	m.stats.pre.Add(uint64(n))
}
