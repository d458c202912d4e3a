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

var _ consensus.Event = staking.TransferEvent{}
