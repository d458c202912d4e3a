package hosttest

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	"github.com/atoll-project/atoll/internal/cputime"
	"github.com/atoll-project/atoll/runtime/examples/kvstore/app"
	"github.com/atoll-project/atoll/runtime/examples/kvstore/kvstoretest"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
	"github.com/atoll-project/atoll/runtime/sdk"
	"github.com/atoll-project/atoll/runtime/sdk/sdktest"
)

// overheadBatchesPerPhase is how many batches one side executes in a row before the other
// side takes over: long enough that a phase is not dominated by its first batch, short enough
// that a burst of load from elsewhere on the machine hits both sides of a round alike.
const overheadBatchesPerPhase = 4

// overheadWarmup is how many batches each side executes before the measurement, so that both
// have their verified state nodes cached and their heaps grown to steady state.
const overheadWarmup = 3

// BenchmarkExecuteTxBatch1000InsertsOverhead measures the host protocol's overhead on a
// 1000-tx ExecuteTxBatch (DESIGN.md §11, target ≤ 5%) in a way that survives a noisy machine:
// one process runs the workload of BenchmarkExecuteTxBatch1000InsertsSandboxed both in-process
// (sdk.Dispatcher, as the kvstore example's in-process benchmark) and through the host and
// the real sandbox, alternating phases of a few batches, so that load from elsewhere falls on
// both. Each b.N iteration is one round: a phase of each side, in alternating order.
//
// It reports, per batch, the median over the rounds of the wall time and of the CPU time
// (in-process: this process's; sandboxed: this process's and the sandbox's together) of each
// side, and the overhead as the median over the rounds of each round's sandboxed/in-process
// ratio, minus one, in percent (overhead-%, cpu-overhead-%). The wall figure is the one the
// target is about; the CPU figure moves less with load from elsewhere.
//
// Both sides run at the same garbage collector setting, so that the figures compare the
// protocol and not the collector: sdk.Run gives the sandboxed runtime's process
// sdk.DefaultGCPercent (the sandbox passes it no $GOGC), and the benchmark sets this process,
// where the in-process batches run, to the same percentage (debug.SetGCPercent) for its whole
// duration and restores it at the end. It is set for the sandboxed phases too (where this
// process is the host), not flipped at each phase: lowering it after an in-process phase would
// start a collection of this process's grown heap that the sandboxed phase would pay for. Run
// it without -race:
//
//	go test -run '^$' -bench ExecuteTxBatch1000InsertsOverhead -benchtime 20x ./runtime/host/hosttest/
//
// or `make bench-overhead`.
func BenchmarkExecuteTxBatch1000InsertsOverhead(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(sdk.DefaultGCPercent))
	ctx := context.Background()
	storage := sdktest.NewStorage()
	_, req, err := kvstoretest.InsertBatch(ctx, storage, 10_000, 1000)
	if err != nil {
		b.Fatal(err)
	}
	rt, err := app.New(1)
	if err != nil {
		b.Fatal(err)
	}
	sandboxed := Start(b, Config{Bundle: kvstoreV1, Storage: storage, Logger: slog.New(slog.DiscardHandler)})
	sandboxCPU := func() time.Duration {
		cpu, err := sandboxed.SandboxCPU()
		if err != nil {
			b.Fatal(err)
		}
		return cpu + cputime.Process()
	}
	sides := [2]overheadSide{
		{rt: sdk.NewDispatcher(rt, storage, nil), cpuTime: cputime.Process},
		{rt: sandboxed, cpuTime: sandboxCPU},
	}
	for i := range sides {
		sides[i].phase(b, req, overheadWarmup)
	}
	var wallRatios, cpuRatios []float64
	b.ResetTimer()
	for round := 0; b.Loop(); round++ {
		var wall, cpu [2]time.Duration
		for k := range 2 {
			i := (round + k) % 2 // who goes first alternates
			wall[i], cpu[i] = sides[i].phase(b, req, overheadBatchesPerPhase)
		}
		wallRatios = append(wallRatios, float64(wall[1])/float64(wall[0]))
		cpuRatios = append(cpuRatios, float64(cpu[1])/float64(cpu[0]))
	}
	b.StopTimer()
	for i, name := range []string{"in-process", "sandboxed"} {
		b.ReportMetric(sides[i].wall.median(), name+"-ms/batch")
		b.ReportMetric(sides[i].cpu.median(), name+"-cpu-ms/batch")
		b.Logf("%s: ms/batch %s; cpu-ms/batch %s", name, sides[i].wall.quartiles(), sides[i].cpu.quartiles())
	}
	wallOverhead, cpuOverhead := percentOver(wallRatios), percentOver(cpuRatios)
	b.ReportMetric(wallOverhead.median(), "overhead-%")
	b.ReportMetric(cpuOverhead.median(), "cpu-overhead-%")
	b.Logf("overhead %%: wall %s; cpu %s (%d rounds of %d batches a side)",
		wallOverhead.quartiles(), cpuOverhead.quartiles(), len(wallRatios), overheadBatchesPerPhase)
}

// overheadSide is one way of running the batch, with its per-phase figures.
type overheadSide struct {
	rt      sdktest.Runtime
	cpuTime func() time.Duration
	// wall and cpu hold one figure per phase, in milliseconds per batch.
	wall, cpu samples
}

// phase executes req n times and records and returns the wall and CPU time taken.
func (s *overheadSide) phase(b *testing.B, req *messages.RuntimeExecuteTxBatchRequest, n int) (wall, cpu time.Duration) {
	b.Helper()
	ctx := context.Background()
	cpu0, t0 := s.cpuTime(), time.Now()
	for range n {
		resp, err := s.rt.ExecuteTxBatch(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if len(resp.TxHashes) != len(req.Inputs) {
			b.Fatalf("executed %d of %d", len(resp.TxHashes), len(req.Inputs))
		}
	}
	wall, cpu = time.Since(t0), s.cpuTime()-cpu0
	perBatch := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
	s.wall = append(s.wall, perBatch(wall))
	s.cpu = append(s.cpu, perBatch(cpu))
	return wall, cpu
}

// samples are figures of a benchmark's repetitions.
type samples []float64

// percentOver turns ratios into percentages over 1.
func percentOver(ratios []float64) samples {
	out := make(samples, len(ratios))
	for i, r := range ratios {
		out[i] = (r - 1) * 100
	}
	return out
}

// quantile returns the q-quantile (0 ≤ q ≤ 1) by linear interpolation; 0 for no samples.
func (s samples) quantile(q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Sorted(slices.Values(s))
	pos := q * float64(len(sorted)-1)
	lo := int(pos)
	if lo+1 >= len(sorted) {
		return sorted[lo]
	}
	return sorted[lo] + (pos-float64(lo))*(sorted[lo+1]-sorted[lo])
}

func (s samples) median() float64 { return s.quantile(0.5) }

// quartiles formats the median with the first and third quartiles.
func (s samples) quartiles() string {
	return fmt.Sprintf("median %.2f (quartiles %.2f, %.2f)", s.median(), s.quantile(0.25), s.quantile(0.75))
}
