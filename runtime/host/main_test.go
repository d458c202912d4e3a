package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/runtime/bundle"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
	"github.com/atoll-project/atoll/runtime/host/sandbox"
)

// failAfter bounds every wait of these tests: a guard against hangs, never a way to let
// something happen.
const failAfter = 60 * time.Second

var (
	// bundleV1 and bundleV2 are real bundles of the test runtime (versions 1.0.0 and 2.0.0 of
	// testRuntimeID), written with bundle.Write and extracted by TestMain. Tests that do not
	// change them share them.
	bundleV1, bundleV2 *bundle.Extracted
	// testRuntimeBin is the test runtime's executable.
	testRuntimeBin []byte
	// socketBase is a short directory for socket dirs (Unix socket paths are short).
	socketBase string

	testRuntimeID = namespace.Namespace{0: 0x80, 31: 0x11}
	testChain     = hash.Digest([]byte("host test genesis"))
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ah")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	socketBase = dir
	if err := buildBundles(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			return 1
		}
	}
	return code
}

// buildBundles builds testdata/testruntime and writes and extracts bundleV1 and bundleV2
// under dir. Compressing a bundle is slow under the race detector, hence only two, written
// at once.
func buildBundles(dir string) error {
	bin := filepath.Join(dir, "testruntime")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./testdata/testruntime")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building testdata/testruntime: %v\n%s", err, out)
	}
	var err error
	if testRuntimeBin, err = os.ReadFile(bin); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, v := range []string{"1.0.0", "2.0.0"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ext, err := writeBundle(filepath.Join(dir, "b"+v), v)
			errs[i] = err
			if i == 0 {
				bundleV1 = ext
			} else {
				bundleV2 = ext
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func writeBundle(dir, v string) (*bundle.Extracted, error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	ver, err := version.Parse(v)
	if err != nil {
		return nil, err
	}
	spec, err := json.Marshal(map[string]string{"id": testRuntimeID.String(), "version": v})
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "runtime.atb")
	m := bundle.Manifest{ID: testRuntimeID, Version: ver, Executable: "testruntime"}
	if _, err := bundle.Write(path, m, map[string][]byte{"testruntime": testRuntimeBin, "testruntime.json": spec}); err != nil {
		return nil, err
	}
	b, err := bundle.Open(path)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return b.Extract(filepath.Join(dir, "extracted"))
}

// copyBundle copies an extracted bundle into a directory of the test's own, for tests that
// tamper with it.
func copyBundle(t *testing.T, ext *bundle.Extracted) *bundle.Extracted {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bundle")
	if err := os.CopyFS(dir, os.DirFS(ext.Dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, ext.Manifest.Executable), 0o755); err != nil {
		t.Fatal(err)
	}
	c := *ext
	c.Dir = dir
	return &c
}

// localConfig is the test runtime's local config: how it behaves (see testdata/testruntime).
type localConfig struct {
	Mode          string `cbor:"mode"`
	N             int    `cbor:"n,omitempty"`
	ReportVersion string `cbor:"report_version,omitempty"`
}

// countingProvisioner passes starts on to the real provisioner and counts them.
type countingProvisioner struct {
	sandbox.Provisioner
	starts atomic.Int64
}

func (c *countingProvisioner) Start(ctx context.Context, cfg sandbox.Config) (sandbox.Process, error) {
	c.starts.Add(1)
	return c.Provisioner.Start(ctx, cfg)
}

// newProvisioner returns the real bubblewrap provisioner, or skips the test when bubblewrap
// is not installed.
func newProvisioner(t *testing.T) *countingProvisioner {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bubblewrap is not installed (apt-get install -y bubblewrap); skipping a test that needs the real sandbox")
	}
	b, err := sandbox.NewBubblewrap(sandbox.BubblewrapOptions{})
	if err != nil {
		t.Fatalf("NewBubblewrap: %v", err)
	}
	return &countingProvisioner{Provisioner: b}
}

func newSocketDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(socketBase, "s")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// testConfig returns a host config for ext, the test runtime behaving as lc, with the test's
// timeouts: generous where a loaded machine could be slow, short where the test waits for
// them.
func testConfig(t *testing.T, ext *bundle.Extracted, p sandbox.Provisioner, lc localConfig) Config {
	return Config{
		RuntimeID:    testRuntimeID,
		ChainContext: testChain,
		Bundle:       ext,
		LocalConfig:  cbor.Marshal(&lc),
		Sandbox:      SandboxConfig{Provisioner: p, SocketDir: newSocketDir(t), Output: testOutput{t}},
		Timeouts:     Timeouts{Connect: failAfter, Init: 20 * time.Second, Abort: time.Second},
		Backoff:      Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
	}
}

// testOutput logs the runtime's output through the test.
type testOutput struct{ t *testing.T }

func (o testOutput) Write(p []byte) (int, error) {
	o.t.Logf("runtime: %s", p)
	return len(p), nil
}

// eventLog records a host's events and lets a test wait for them.
type eventLog struct {
	mu      sync.Mutex
	events  []Event
	changed chan struct{}
}

func newEventLog() *eventLog { return &eventLog{changed: make(chan struct{})} }

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *eventLog) snapshot() ([]Event, chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...), l.changed
}

// waitFor waits until the log holds n events matching pred and returns them.
func (l *eventLog) waitFor(t *testing.T, what string, n int, pred func(Event) bool) []Event {
	t.Helper()
	deadline := time.After(failAfter)
	for {
		events, changed := l.snapshot()
		var match []Event
		for _, e := range events {
			if pred(e) {
				match = append(match, e)
			}
		}
		if len(match) >= n {
			return match
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("waited %v for %d %s events; got %v", failAfter, n, what, events)
		}
	}
}

func (l *eventLog) count(pred func(Event) bool) int {
	events, _ := l.snapshot()
	n := 0
	for _, e := range events {
		if pred(e) {
			n++
		}
	}
	return n
}

func isStarted(e Event) bool { return e.Started != nil }
func isFailed(e Event) bool  { return e.Failed != nil }
func isStopped(e Event) bool { return e.Stopped != nil }

// runHost starts h.Run and stops it at cleanup, checking that Run returns nil.
func runHost(t *testing.T, cfg Config) (*Host, *eventLog) {
	t.Helper()
	h, log, _ := runHostStoppable(t, cfg)
	return h, log
}

// runHostStoppable is runHost that also returns a function stopping the host and waiting for
// Run to return; it may be called more than once.
func runHostStoppable(t *testing.T, cfg Config) (*Host, *eventLog, func()) {
	t.Helper()
	log := newEventLog()
	own := cfg.OnEvent
	cfg.OnEvent = func(e Event) {
		t.Logf("event: %v", e)
		if own != nil {
			own(e)
		}
		log.add(e)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run() = %v", err)
				}
			case <-time.After(failAfter):
				t.Errorf("Run did not return within %v of its context ending", failAfter)
			}
		})
	}
	t.Cleanup(stop)
	return h, log, stop
}

func callCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func query(method string, args any) *messages.Body {
	q := &messages.RuntimeQueryRequest{Method: method}
	if args != nil {
		q.Args = cbor.Marshal(args)
	}
	return &messages.Body{RuntimeQueryRequest: q}
}

// queryString calls query method and decodes a string answer.
func queryString(ctx context.Context, c interface {
	Call(context.Context, *messages.Body) (*messages.Body, error)
}, method string) (string, error) {
	resp, err := c.Call(ctx, query(method, nil))
	if err != nil {
		return "", err
	}
	if resp.RuntimeQueryResponse == nil {
		return "", fmt.Errorf("answered with %s", resp.Kind())
	}
	var s string
	if err := cbor.Unmarshal(resp.RuntimeQueryResponse.Data, &s); err != nil {
		return "", err
	}
	return s, nil
}

func mustQueryVersion(t *testing.T, c interface {
	Call(context.Context, *messages.Body) (*messages.Body, error)
}, want string) {
	t.Helper()
	got, err := queryString(callCtx(t, failAfter), c, "version")
	if err != nil || got != want {
		t.Fatalf("query version = %q, %v; want %q", got, err, want)
	}
}

func errorIs(err error, targets ...error) bool {
	for _, target := range targets {
		if !errors.Is(err, target) {
			return false
		}
	}
	return true
}
