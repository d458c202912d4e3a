package cometbft

import (
	"crypto/sha256"
	"sync"

	"github.com/cometbft/cometbft/types"
)

// inclusion matches the transactions of each new block against the submitters waiting for
// them. One subscription to new blocks serves every waiter, rather than one event query per
// transaction, whose matching cost grows with the number of waiters.
type inclusion struct {
	mu      sync.Mutex
	stopped bool
	waiters map[[32]byte][]chan TxResult
}

func newInclusion() *inclusion {
	return &inclusion{waiters: make(map[[32]byte][]chan TxResult)}
}

// add registers a waiter for the transaction with CometBFT hash h. The channel receives the
// result once, or is closed when the node stops.
func (in *inclusion) add(h [32]byte) (chan TxResult, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.stopped {
		return nil, ErrNotRunning
	}
	w := make(chan TxResult, 1)
	in.waiters[h] = append(in.waiters[h], w)
	return w, nil
}

// remove unregisters w, whether or not it was served.
func (in *inclusion) remove(h [32]byte, w chan TxResult) {
	in.mu.Lock()
	defer in.mu.Unlock()
	ws := in.waiters[h]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(in.waiters, h)
	} else {
		in.waiters[h] = ws
	}
}

// deliver serves the waiters of the block's transactions.
func (in *inclusion) deliver(ev types.EventDataNewBlock) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.waiters) == 0 {
		return
	}
	results := ev.ResultFinalizeBlock.TxResults
	for i, tx := range ev.Block.Txs {
		h := sha256.Sum256(tx)
		ws, ok := in.waiters[h]
		if !ok {
			continue
		}
		res := TxResult{Hash: h, Height: ev.Block.Height, Index: i}
		if i < len(results) && results[i] != nil {
			res.Result = *results[i]
		}
		for _, w := range ws {
			select {
			case w <- res:
			default: // already served by an earlier block
			}
		}
		delete(in.waiters, h)
	}
}

// stop closes every waiter and refuses new ones.
func (in *inclusion) stop() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.stopped = true
	for h, ws := range in.waiters {
		for _, w := range ws {
			close(w)
		}
		delete(in.waiters, h)
	}
}
