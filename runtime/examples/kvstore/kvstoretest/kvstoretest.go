// Package kvstoretest builds kvstore workloads for tests and benchmarks that drive the runtime
// through any sdktest.Runtime: in-process (sdk.Dispatcher), over a socketpair or in a sandbox
// (sdktest.Host over the runtime's socket). The same workload on the same state gives
// byte-identical results wherever it runs.
package kvstoretest

import (
	"context"
	"fmt"
	"testing"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/internal/cputime"
	"github.com/atoll-project/atoll/mkvs/writelog"
	"github.com/atoll-project/atoll/runtime/examples/kvstore/app"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
	"github.com/atoll-project/atoll/runtime/sdk/sdktest"
)

// RuntimeID is the runtime ID the workloads use.
func RuntimeID() namespace.Namespace {
	var ns namespace.Namespace
	ns[0], ns[31] = 0x80, 0x0b
	return ns
}

// Sizes of the keys and values of the workloads.
const (
	KeySize   = 32
	ValueSize = 64
)

func key(prefix byte, i int) []byte {
	k := make([]byte, KeySize)
	k[0] = prefix
	copy(k[1:], fmt.Appendf(nil, "%031d", i))
	return k
}

func value(i int) []byte {
	v := make([]byte, ValueSize)
	copy(v, fmt.Appendf(nil, "value %d", i))
	return v
}

// InsertBatch stores a kvstore state of existing keys in storage and returns a chain on it
// and the ExecuteTxBatch request of n inserts of new keys. The keys interleave with the
// existing ones, spread over the whole key range (existing keys have even numbers, new ones
// odd numbers between them), so every insert walks a real path of the tree and the runtime
// has to read that path from storage.
func InsertBatch(ctx context.Context, storage *sdktest.Storage, existing, n int) (*sdktest.Chain, *messages.RuntimeExecuteTxBatchRequest, error) {
	genesis := make(writelog.WriteLog, existing)
	for i := range existing {
		genesis[i] = writelog.LogEntry{Key: app.StateKey(key('a', 2*i)), Value: value(i)}
	}
	genesis.Sort()
	chain, err := sdktest.NewChain(ctx, RuntimeID(), storage, genesis)
	if err != nil {
		return nil, nil, err
	}
	chain.MaxMessages = 128
	chain.Limits = messages.BatchLimits{MaxApplyWriteLogEntries: 100_000, MaxBatchBytes: 8 << 20}
	inputs := make([][]byte, n)
	for i := range n {
		tx := app.Tx{Nonce: uint64(i), Insert: &app.KeyValue{Key: key('a', 2*newPosition(i, existing, n)+1), Value: value(i)}}
		inputs[i] = tx.Encode()
	}
	req, err := chain.ExecuteRequest(ctx, inputs)
	if err != nil {
		return nil, nil, err
	}
	return chain, req, nil
}

// newPosition spreads n new keys evenly over the existing ones: the i-th goes right after the
// existing key newPosition(i) (strictly increasing in i, so the new keys are distinct).
func newPosition(i, existing, n int) int {
	if n <= existing {
		return i * existing / n
	}
	return i
}

// BenchmarkExecute executes req on rt b.N times (the state is not advanced, so every
// iteration does the same work) and reports ms/batch (wall clock) and cpu-ms/batch (CPU time
// of this whole process: with an in-process or socketpair runtime that is host and runtime
// together, which stays meaningful on a loaded machine where the wall clock does not).
func BenchmarkExecute(b *testing.B, rt sdktest.Runtime, req *messages.RuntimeExecuteTxBatchRequest) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cputime.Process()
	b.ResetTimer()
	for b.Loop() {
		resp, err := rt.ExecuteTxBatch(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if len(resp.TxHashes) != len(req.Inputs) {
			b.Fatalf("executed %d of %d", len(resp.TxHashes), len(req.Inputs))
		}
	}
	cpu := cputime.Process() - cpu0
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/batch")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/batch")
}
