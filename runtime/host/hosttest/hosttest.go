// Package hosttest runs a real runtime binary, from a real bundle, in the real sandbox under a
// host.Host, with its state served from an in-memory MKVS, so that tests and benchmarks can
// drive it exactly as a compute node does: CheckTxBatch, ExecuteTxBatch (whose write logs are
// checked and applied to the in-memory storage) and Query.
//
// Start extracts the bundle, starts a Host with the bubblewrap provisioner (the test is
// skipped, saying why, when bubblewrap is not installed), waits until the runtime is ready and
// stops everything at the test's cleanup. The runtime's HostStorageSync requests are served by
// an sdktest.Storage (an MKVS node DB in memory holding any number of roots; a tree opened at
// the requested root answers with proofs), its local storage requests by an in-memory
// host.LocalStorage. Blocks and requests are built by an sdktest.Chain over the same storage,
// so one workload runs unchanged in-process, over a socketpair or sandboxed (Runtime
// implements sdktest.Runtime).
//
// A Runtime is safe for concurrent use; a Chain is not.
package hosttest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/runtime/bundle"
	"github.com/atoll-project/atoll/runtime/host"
	"github.com/atoll-project/atoll/runtime/host/protocol"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
	"github.com/atoll-project/atoll/runtime/host/sandbox"
	"github.com/atoll-project/atoll/runtime/sdk/sdktest"
)

// ChainContext is the chain context the harness's hosts send in the handshake.
var ChainContext = hash.Digest([]byte("atoll/hosttest: chain"))

// startTimeout bounds Start's wait for the runtime to become ready.
const startTimeout = time.Minute

// Config configures Start.
type Config struct {
	// Bundle is the path of the runtime's bundle file; Start extracts it into a temporary
	// directory and the host runs the runtime it names.
	Bundle string
	// Storage serves the runtime's state and IO trees; nil means a new empty one.
	Storage *sdktest.Storage
	// LocalConfig is passed to the runtime in the handshake.
	LocalConfig cbor.RawMessage
	// Timeouts of the host; zero fields take the host's defaults, except Init, which is 30 s
	// here (a loaded test machine is slow).
	Timeouts host.Timeouts
	// Logger receives the host's records; nil sends them to the test log.
	Logger *slog.Logger
}

// Runtime is a sandboxed runtime under a host, as a test sees it.
type Runtime struct {
	host    *host.Host
	storage *sdktest.Storage
	started host.StartedEvent
}

var _ sdktest.Runtime = (*Runtime)(nil)

// Start starts the runtime of cfg.Bundle in the bubblewrap sandbox and returns once it is
// ready; the test fails if it does not become ready within a minute. The runtime is stopped,
// and its host's Run awaited, at the test's cleanup.
func Start(tb testing.TB, cfg Config) *Runtime {
	tb.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		tb.Skip("bubblewrap is not installed (apt-get install -y bubblewrap); skipping a test that needs the real sandbox")
	}
	prov, err := sandbox.NewBubblewrap(sandbox.BubblewrapOptions{})
	if err != nil {
		tb.Fatalf("hosttest: %v", err)
	}
	ext := extract(tb, cfg.Bundle)
	storage := cfg.Storage
	if storage == nil {
		storage = sdktest.NewStorage()
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(testWriter{tb}, nil))
	}
	timeouts := cfg.Timeouts
	if timeouts.Init == 0 {
		timeouts.Init = 30 * time.Second
	}
	h, err := host.New(host.Config{
		RuntimeID:    ext.Manifest.ID,
		ChainContext: ChainContext,
		Bundle:       ext,
		Sandbox:      host.SandboxConfig{Provisioner: prov, SocketDir: socketDir(tb)},
		Handler:      &host.RequestRouter{RuntimeStorage: storage, LocalStorage: host.NewMemoryLocalStorage()},
		LocalConfig:  cfg.LocalConfig,
		Timeouts:     timeouts,
		Logger:       logger,
	})
	if err != nil {
		tb.Fatalf("hosttest: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := h.Run(ctx); err != nil {
			tb.Errorf("hosttest: Run: %v", err)
		}
	}()
	tb.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	readyCtx, readyCancel := context.WithTimeout(context.Background(), startTimeout)
	defer readyCancel()
	started, err := h.WaitReady(readyCtx)
	if err != nil {
		tb.Fatalf("hosttest: the runtime did not become ready: %v", err)
	}
	return &Runtime{host: h, storage: storage, started: *started}
}

// extract opens the bundle at path and extracts it into a temporary directory.
func extract(tb testing.TB, path string) *bundle.Extracted {
	tb.Helper()
	b, err := bundle.Open(path)
	if err != nil {
		tb.Fatalf("hosttest: %v", err)
	}
	defer b.Close()
	ext, err := b.Extract(tb.TempDir())
	if err != nil {
		tb.Fatalf("hosttest: %v", err)
	}
	return ext
}

// socketDir returns a fresh short directory for the host's socket (Unix socket paths are
// short; test temporary directories can be long).
func socketDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "hosttest")
	if err != nil {
		tb.Fatalf("hosttest: %v", err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

// testWriter sends log output to the test log.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(string(p))
	return len(p), nil
}

// Host returns the runtime's host.
func (r *Runtime) Host() *host.Host { return r.host }

// Storage returns the storage serving the runtime's state.
func (r *Runtime) Storage() *sdktest.Storage { return r.storage }

// Started returns what the runtime reported when it became ready.
func (r *Runtime) Started() host.StartedEvent { return r.started }

// CheckTxBatch sends a CheckTxBatch request.
func (r *Runtime) CheckTxBatch(ctx context.Context, req *messages.RuntimeCheckTxBatchRequest) (*messages.RuntimeCheckTxBatchResponse, error) {
	resp, err := r.host.Call(ctx, &messages.Body{RuntimeCheckTxBatchRequest: req})
	if err != nil {
		return nil, err
	}
	if resp.RuntimeCheckTxBatchResponse == nil {
		return nil, fmt.Errorf("%w: %s", protocol.ErrUnexpectedBody, resp.Kind())
	}
	return resp.RuntimeCheckTxBatchResponse, nil
}

// ExecuteTxBatch sends an ExecuteTxBatch request.
func (r *Runtime) ExecuteTxBatch(ctx context.Context, req *messages.RuntimeExecuteTxBatchRequest) (*messages.RuntimeExecuteTxBatchResponse, error) {
	resp, err := r.host.Call(ctx, &messages.Body{RuntimeExecuteTxBatchRequest: req})
	if err != nil {
		return nil, err
	}
	if resp.RuntimeExecuteTxBatchResponse == nil {
		return nil, fmt.Errorf("%w: %s", protocol.ErrUnexpectedBody, resp.Kind())
	}
	return resp.RuntimeExecuteTxBatchResponse, nil
}

// Query sends a Query request.
func (r *Runtime) Query(ctx context.Context, req *messages.RuntimeQueryRequest) (*messages.RuntimeQueryResponse, error) {
	resp, err := r.host.Call(ctx, &messages.Body{RuntimeQueryRequest: req})
	if err != nil {
		return nil, err
	}
	if resp.RuntimeQueryResponse == nil {
		return nil, fmt.Errorf("%w: %s", protocol.ErrUnexpectedBody, resp.Kind())
	}
	return resp.RuntimeQueryResponse, nil
}

// CheckTx checks inputs against chain's latest block.
func (r *Runtime) CheckTx(ctx context.Context, chain *sdktest.Chain, inputs ...[]byte) (*messages.RuntimeCheckTxBatchResponse, error) {
	return r.CheckTxBatch(ctx, chain.CheckRequest(inputs))
}

// ExecuteTx executes inputs as the next round of chain, as a compute node does: it stores the
// inputs-only IO tree, sends ExecuteTxBatch, checks the computed batch and applies its write
// logs (chain.Finalize), so the chain's latest block is then the batch's. It returns the
// response; on an error the chain is unchanged.
func (r *Runtime) ExecuteTx(ctx context.Context, chain *sdktest.Chain, inputs ...[]byte) (*messages.RuntimeExecuteTxBatchResponse, error) {
	req, err := chain.ExecuteRequest(ctx, inputs)
	if err != nil {
		return nil, err
	}
	resp, err := r.ExecuteTxBatch(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := chain.Finalize(ctx, req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// QueryMethod runs the query method with CBOR-encoded args (nil: none) against chain's latest
// block and returns the runtime's CBOR answer.
func (r *Runtime) QueryMethod(ctx context.Context, chain *sdktest.Chain, method string, args any) (cbor.RawMessage, error) {
	resp, err := r.Query(ctx, chain.QueryRequest(method, args))
	if err != nil {
		return nil, err
	}
	return resp.Data, nil
}

// SandboxCPU returns the CPU time (user and system, in nanoseconds, exited threads included)
// used so far by the runtime's sandbox: the processes of the current instance, bubblewrap and
// the runtime included. Benchmarks use it to count the runtime's share of the work, which the
// benchmark process's own CPU time misses.
func (r *Runtime) SandboxCPU() (time.Duration, error) {
	cpu, err := treeCPU(r.started.PID, 0)
	if err != nil {
		return 0, fmt.Errorf("hosttest: sandbox CPU time: %w", err)
	}
	return cpu, nil
}

// processCPUClock returns the clock ID of the CPU-time clock of process pid (the kernel's
// MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)), which any process that sees pid may read: it
// counts every thread of the process, exited ones included, to the nanosecond, where
// /proc/PID/stat counts in 10 ms ticks.
func processCPUClock(pid int) int32 {
	const cpuClockSched = 2
	return int32(^pid<<3 | cpuClockSched)
}

// treeCPU sums the CPU time of pid and its descendants.
func treeCPU(pid, depth int) (time.Duration, error) {
	if depth > 16 {
		return 0, fmt.Errorf("process tree deeper than 16")
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(processCPUClock(pid), &ts); err != nil {
		return 0, fmt.Errorf("CPU clock of process %d: %w", pid, err)
	}
	total := time.Duration(ts.Nano())
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	for _, task := range tasks {
		children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
		if err != nil {
			continue // the task has exited
		}
		for _, c := range strings.Fields(string(children)) {
			child, err := strconv.Atoi(c)
			if err != nil {
				return 0, err
			}
			n, err := treeCPU(child, depth+1)
			if err != nil {
				return 0, err
			}
			total += n
		}
	}
	return total, nil
}
