package consensus_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/atoll-project/atoll/consensus"
	"github.com/atoll-project/atoll/consensus/memchain"
	staking "github.com/atoll-project/atoll/consensus/staking/api"
	"github.com/atoll-project/atoll/internal/cputime"
)

const benchAccounts = 1000

// signedTransfers returns n signed transfers spread over the fixture's accounts, each
// account's in nonce order.
func signedTransfers(f *memchain.Fixture, n int) [][]byte {
	txs := make([][]byte, n)
	for i := range txs {
		s := f.Accounts[i%len(f.Accounts)]
		to := memchain.Address(f.Accounts[(i+1)%len(f.Accounts)])
		txs[i] = transfer(f, s, uint64(i/len(f.Accounts)), to, 1, 0)
	}
	return txs
}

func benchChain(b *testing.B) (*memchain.Fixture, *memchain.Chain) {
	b.Helper()
	return newChain(b, memchain.FixtureParams{Validators: 1, Accounts: benchAccounts, Balance: 1 << 40})
}

// BenchmarkCheckTxTransfers measures CheckTx of signed transfers (decode, verify, run against
// the check state): the mempool's admission rate.
func BenchmarkCheckTxTransfers(b *testing.B) {
	f, c := benchChain(b)
	txs := signedTransfers(f, b.N)
	ctx := context.Background()
	runtime.GC()
	b.ResetTimer()
	start := time.Now()
	for _, tx := range txs {
		resp, err := c.Mux().CheckTx(ctx, &abci.RequestCheckTx{Tx: tx})
		if err != nil || resp.Code != 0 {
			b.Fatalf("CheckTx: %v %s", err, resp.Log)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tx/s")
}

// BenchmarkFinalizeBlockTransfers measures FinalizeBlock + Commit of blocks of 1000 signed
// transfers whose CheckTx verdicts are cached (the normal path on a validator).
func BenchmarkFinalizeBlockTransfers(b *testing.B) {
	benchFinalize(b, true)
}

// BenchmarkFinalizeBlockTransfersUnchecked is the same with no cached verdicts: every
// signature is batch-verified in FinalizeBlock (a node that missed the transactions).
func BenchmarkFinalizeBlockTransfersUnchecked(b *testing.B) {
	benchFinalize(b, false)
}

func benchFinalize(b *testing.B, checked bool) {
	f, c := benchChain(b)
	const blockSize = 1000
	txs := signedTransfers(f, b.N)
	mux := c.Mux()
	ctx := context.Background()
	b.ResetTimer()
	var elapsed time.Duration
	for i := 0; i < len(txs); i += blockSize {
		block := txs[i:min(i+blockSize, len(txs))]
		if checked {
			b.StopTimer()
			for _, tx := range block {
				if resp, err := mux.CheckTx(ctx, &abci.RequestCheckTx{Tx: tx}); err != nil || resp.Code != 0 {
					b.Fatalf("CheckTx: %v", err)
				}
			}
			b.StartTimer()
		}
		start := time.Now()
		height := c.NextHeight()
		res, err := mux.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: height, Time: c.TimeAt(height), Txs: block})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := mux.Commit(ctx, &abci.RequestCommit{}); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		for j, r := range res.TxResults {
			if r.Code != 0 {
				b.Fatalf("tx %d: %s", i+j, r.Log)
			}
		}
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "tx/s")
}

// BenchmarkNodeCycleTransfers replays what a validator's mux does under the load tool
// (`atoll bench transfers`: many accounts, two pipelined nonces each, batches of 250): each
// batch is pre-verified (the gRPC SubmitTxs path) and checked into the mempool; every 2,500
// transactions a block takes the pending ones but the last 500 (which arrived during the
// round), is finalized and committed, and those 500 are rechecked. It reports the process's
// CPU time per transaction (both cores' worth), the figure the node profile gives.
func BenchmarkNodeCycleTransfers(b *testing.B) {
	const (
		accounts   = 3000
		batch      = 250
		blockEvery = 2500
		leftOver   = 500
	)
	f, c := newChain(b, memchain.FixtureParams{Validators: 1, Accounts: accounts, Balance: 1 << 40})
	txs := make([][]byte, b.N)
	for i := range txs {
		s := f.Accounts[i%accounts]
		to := memchain.Address(f.Accounts[(i+1)%accounts])
		txs[i] = transfer(f, s, uint64(i/accounts), to, 1, 0)
	}
	mux := c.Mux()
	ctx := context.Background()
	check := func(tx []byte, typ abci.CheckTxType) {
		resp, err := mux.CheckTx(ctx, &abci.RequestCheckTx{Tx: tx, Type: typ})
		if err != nil || resp.Code != 0 {
			b.Fatalf("CheckTx (%v): %v %s", typ, err, resp.GetLog())
		}
	}
	var pending [][]byte
	finalize := func(n int) {
		height := c.NextHeight()
		res, err := mux.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: height, Time: c.TimeAt(height), Txs: pending[:n]})
		if err != nil {
			b.Fatal(err)
		}
		for j, r := range res.TxResults {
			if r.Code != 0 {
				b.Fatalf("tx %d: %s", j, r.Log)
			}
		}
		if _, err := mux.Commit(ctx, &abci.RequestCommit{}); err != nil {
			b.Fatal(err)
		}
		pending = append(pending[:0], pending[n:]...)
		for _, tx := range pending {
			check(tx, abci.CheckTxType_Recheck)
		}
	}
	runtime.GC()
	cpu0 := cputime.Process()
	b.ResetTimer()
	for i := 0; i < len(txs); i += batch {
		part := txs[i:min(i+batch, len(txs))]
		mux.PreverifyTxs(part)
		for _, tx := range part {
			check(tx, abci.CheckTxType_New)
		}
		pending = append(pending, part...)
		if len(pending) >= blockEvery {
			finalize(len(pending) - leftOver)
		}
	}
	if len(pending) > 0 {
		finalize(len(pending))
	}
	b.StopTimer()
	b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/float64(b.N), "cpu-µs/tx")
}

var _ consensus.Event = staking.TransferEvent{}
