package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/runtime/bundle"
	"github.com/atoll-project/atoll/runtime/host/protocol"
	"github.com/atoll-project/atoll/runtime/host/tee"
)

func TestAHealthyRuntimeStartsAnswersAndStopsGracefully(t *testing.T) {
	p := newProvisioner(t)
	ext := bundleV1
	h, log, stop := runHostStoppable(t, testConfig(t, ext, p, localConfig{Mode: "healthy"}))

	started, err := h.WaitReady(callCtx(t, failAfter))
	if err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if started.Version != (version.Version{Major: 1}) || started.Checksum != ext.Checksum || started.PID == 0 {
		t.Errorf("started = %+v", started)
	}
	mustQueryVersion(t, h, "1.0.0")
	resp, err := h.Call(callCtx(t, failAfter), query("echo", []byte("hello")))
	if err != nil || string(resp.RuntimeQueryResponse.Data) != string(cbor.Marshal([]byte("hello"))) {
		t.Fatalf("echo = %v, %v", resp, err)
	}
	if _, err := h.Call(callCtx(t, failAfter), query("no such method", nil)); !errors.Is(err, protocol.ErrMethodNotSupported) {
		t.Errorf("unknown query = %v, want the runtime's ErrMethodNotSupported", err)
	}
	if n := log.count(isFailed); n != 0 {
		t.Errorf("%d failures", n)
	}
	stop()
	log.waitFor(t, "stopped", 1, isStopped)
	if err := processAlive(started.PID); err == nil {
		t.Errorf("sandbox process %d still alive after Run returned", started.PID)
	}
	if _, err := h.Call(callCtx(t, failAfter), query("version", nil)); !errors.Is(err, ErrStopped) {
		t.Errorf("call after Run returned = %v, want ErrStopped", err)
	}
}

// processAlive returns nil when pid names a live (not zombie) process.
func processAlive(pid int) error {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return err
	}
	if strings.Contains(string(stat), ") Z ") {
		return errors.New("zombie")
	}
	return nil
}

func TestACrashedRuntimeIsRestartedAndLaterCallsSucceed(t *testing.T) {
	p := newProvisioner(t)
	h, log := runHost(t, testConfig(t, bundleV1, p, localConfig{Mode: "crash-after", N: 2}))
	mustQueryVersion(t, h, "1.0.0")
	mustQueryVersion(t, h, "1.0.0")

	_, err := h.Call(callCtx(t, failAfter), query("version", nil))
	if !errors.Is(err, ErrRuntimeFailed) {
		t.Fatalf("the call that crashed the runtime = %v, want ErrRuntimeFailed", err)
	}
	failed := log.waitFor(t, "failed", 1, isFailed)[0].Failed
	if !errors.Is(failed.Err, ErrRuntimeFailed) || !strings.Contains(failed.Err.Error(), "exit status 3") {
		t.Errorf("failure = %v, want ErrRuntimeFailed naming exit status 3", failed.Err)
	}
	log.waitFor(t, "started", 2, isStarted)
	mustQueryVersion(t, h, "1.0.0") // the restarted instance answers
	mustQueryVersion(t, h, "1.0.0")
	if got := p.starts.Load(); got != 2 {
		t.Errorf("%d sandbox starts, want 2", got)
	}
}

func TestAHungCallIsAbortedAtItsDeadlineAndTheRuntimeRestarted(t *testing.T) {
	p := newProvisioner(t)
	h, log := runHost(t, testConfig(t, bundleV1, p, localConfig{Mode: "hang"}))
	mustQueryVersion(t, h, "1.0.0")

	const deadline = 300 * time.Millisecond
	begin := time.Now()
	_, err := h.Call(callCtx(t, deadline), query("hang", nil))
	took := time.Since(begin)
	if !errors.Is(err, ErrCallTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung call = %v, want ErrCallTimeout", err)
	}
	if took < deadline || took > deadline+5*time.Second {
		t.Errorf("the hung call returned after %v, want its deadline %v", took, deadline)
	}
	// The runtime ignores the abort request too: it is killed and restarted.
	failed := log.waitFor(t, "failed", 1, isFailed)[0].Failed
	if !errors.Is(failed.Err, ErrCallTimeout) || !strings.Contains(failed.Err.Error(), "abort") {
		t.Errorf("failure = %v, want ErrCallTimeout naming the abort", failed.Err)
	}
	// A call made meanwhile waits for the restarted runtime.
	mustQueryVersion(t, h, "1.0.0")
	if n := log.count(isStarted); n != 2 {
		t.Errorf("%d starts, want 2", n)
	}
}

func TestARuntimeThatHonoursTheAbortRequestKeepsRunning(t *testing.T) {
	p := newProvisioner(t)
	h, log := runHost(t, testConfig(t, bundleV1, p, localConfig{Mode: "abortable"}))
	mustQueryVersion(t, h, "1.0.0")
	if _, err := h.Call(callCtx(t, 200*time.Millisecond), query("hang", nil)); !errors.Is(err, ErrCallTimeout) {
		t.Fatalf("hung call = %v, want ErrCallTimeout", err)
	}
	// This call waits until the abort has been answered, then goes to the same instance.
	mustQueryVersion(t, h, "1.0.0")
	if f, s := log.count(isFailed), log.count(isStarted); f != 0 || s != 1 {
		t.Errorf("%d failures and %d starts, want 0 and 1", f, s)
	}
}

func TestAFloodingRuntimeIsDisconnectedWithAClearErrorAndRestarted(t *testing.T) {
	p := newProvisioner(t)
	h, log := runHost(t, testConfig(t, bundleV1, p, localConfig{Mode: "flood"}))
	mustQueryVersion(t, h, "1.0.0")
	if _, err := h.Call(callCtx(t, failAfter), query("flood", nil)); !errors.Is(err, ErrRuntimeFailed) {
		t.Fatalf("flooding call = %v, want ErrRuntimeFailed", err)
	}
	failed := log.waitFor(t, "failed", 1, isFailed)[0].Failed
	if !errorIs(failed.Err, ErrRuntimeFailed, protocol.ErrFrameTooLarge) {
		t.Errorf("failure = %v, want ErrRuntimeFailed with the protocol's ErrFrameTooLarge", failed.Err)
	}
	log.waitFor(t, "started", 2, isStarted)
	mustQueryVersion(t, h, "1.0.0")
}

func TestARuntimeExitingDuringTheHandshakeIsRetriedWithBackoff(t *testing.T) {
	p := newProvisioner(t)
	cfg := testConfig(t, bundleV1, p, localConfig{Mode: "exit-in-handshake"})
	cfg.Backoff = Backoff{Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond}
	h, log := runHost(t, cfg)
	failures := log.waitFor(t, "failed", 4, isFailed)
	wantDelays := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond}
	for i, e := range failures[:4] {
		f := e.Failed
		if !errors.Is(f.Err, ErrHandshakeFailed) || f.Consecutive != i+1 || f.RestartIn != wantDelays[i] {
			t.Errorf("failure %d = %+v (%v), want ErrHandshakeFailed, consecutive %d, restart in %v", i+1, f, f.Err, i+1, wantDelays[i])
		}
	}
	if n := log.count(isStarted); n != 0 {
		t.Errorf("%d starts, want 0", n)
	}
	_, err := h.Call(callCtx(t, 100*time.Millisecond), query("version", nil))
	if !errorIs(err, ErrNotReady, context.DeadlineExceeded, ErrHandshakeFailed) {
		t.Errorf("call = %v, want ErrNotReady naming the last failure", err)
	}
}

func TestARuntimeThatIsNotTheConfiguredOneIsRefused(t *testing.T) {
	p := newProvisioner(t)
	for _, c := range []struct {
		name  string
		lc    localConfig
		want  []error
		words string
	}{
		{"built for another runtime ID", localConfig{Mode: "wrong-id"}, []error{ErrHandshakeFailed}, "this is runtime"},
		{"another protocol major", localConfig{Mode: "wrong-major"}, []error{ErrHandshakeFailed, protocol.ErrIncompatibleVersion}, "major versions must match"},
		{"another version than its manifest", localConfig{Mode: "healthy", ReportVersion: "1.0.1"}, []error{ErrVersionMismatch}, "reports version 1.0.1, its bundle manifest says 1.0.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, log := runHost(t, testConfig(t, bundleV1, p, c.lc))
			f := log.waitFor(t, "failed", 2, isFailed)[1].Failed
			if !errorIs(f.Err, c.want...) || !strings.Contains(f.Err.Error(), c.words) {
				t.Errorf("failure = %v, want %v saying %q", f.Err, c.want, c.words)
			}
			if n := log.count(isStarted); n != 0 {
				t.Errorf("%d starts, want 0", n)
			}
			if _, err := h.Call(callCtx(t, 50*time.Millisecond), query("version", nil)); !errors.Is(err, ErrNotReady) {
				t.Errorf("call = %v, want ErrNotReady", err)
			}
		})
	}
}

func TestABundleForAnotherRuntimeIsRefusedByNew(t *testing.T) {
	p := newProvisioner(t)
	cfg := testConfig(t, bundleV1, p, localConfig{Mode: "healthy"})
	cfg.RuntimeID[5] ^= 1
	if _, err := New(cfg); !errorIs(err, ErrInvalidConfig, ErrRuntimeIDMismatch) {
		t.Errorf("New() = %v, want ErrRuntimeIDMismatch", err)
	}
}

func TestATamperedBundleIsRefusedBeforeStart(t *testing.T) {
	for _, c := range []struct {
		name   string
		tamper func(t *testing.T, ext *bundle.Extracted)
	}{
		{"a changed file", func(t *testing.T, ext *bundle.Extracted) {
			writeFile(t, filepath.Join(ext.Dir, "testruntime.json"), []byte(`{"id":"`+testRuntimeID.String()+`","version":"6.6.6"}`))
		}},
		{"a replaced executable", func(t *testing.T, ext *bundle.Extracted) {
			bin := append([]byte(nil), testRuntimeBin...)
			bin[len(bin)/2] ^= 1
			writeFile(t, ext.ExecutablePath(), bin)
		}},
		{"an extra file", func(t *testing.T, ext *bundle.Extracted) {
			writeFile(t, filepath.Join(ext.Dir, "preload.so"), []byte("x"))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newProvisioner(t)
			ext := copyBundle(t, bundleV1)
			c.tamper(t, ext)
			_, log := runHost(t, testConfig(t, ext, p, localConfig{Mode: "healthy"}))
			f := log.waitFor(t, "failed", 2, isFailed)[1].Failed
			if !errorIs(f.Err, ErrBundleRefused, bundle.ErrDigestMismatch) {
				t.Errorf("failure = %v, want ErrBundleRefused with bundle.ErrDigestMismatch", f.Err)
			}
			if n := p.starts.Load(); n != 0 {
				t.Errorf("the sandbox was started %d times", n)
			}
		})
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestTheWatchdogRestartsARuntimeThatStopsAnsweringPings(t *testing.T) {
	p := newProvisioner(t)
	cfg := testConfig(t, bundleV1, p, localConfig{Mode: "deaf"})
	cfg.Timeouts.PingInterval = 50 * time.Millisecond
	cfg.Timeouts.Ping = 200 * time.Millisecond
	_, log := runHost(t, cfg)
	f := log.waitFor(t, "failed", 1, isFailed)[0].Failed
	if !errors.Is(f.Err, ErrRuntimeFailed) || !strings.Contains(f.Err.Error(), "watchdog") {
		t.Errorf("failure = %v, want ErrRuntimeFailed from the watchdog", f.Err)
	}
	log.waitFor(t, "started", 2, isStarted)
}

func TestCallsDuringARestartWaitForReadinessButNeverPastTheirDeadline(t *testing.T) {
	p := newProvisioner(t)
	cfg := testConfig(t, bundleV1, p, localConfig{Mode: "crash-after", N: 1})
	cfg.Backoff = Backoff{Initial: time.Second, Max: time.Second}
	h, log := runHost(t, cfg)
	mustQueryVersion(t, h, "1.0.0")
	if _, err := h.Call(callCtx(t, failAfter), query("version", nil)); !errors.Is(err, ErrRuntimeFailed) {
		t.Fatalf("crashing call = %v", err)
	}
	log.waitFor(t, "failed", 1, isFailed)
	// The restart is a second away: a short call gives up at its deadline...
	begin := time.Now()
	_, err := h.Call(callCtx(t, 50*time.Millisecond), query("version", nil))
	if !errorIs(err, ErrNotReady, context.DeadlineExceeded, ErrRuntimeFailed) {
		t.Errorf("short call during the backoff = %v, want ErrNotReady naming the crash", err)
	}
	if took := time.Since(begin); took > 900*time.Millisecond {
		t.Errorf("the short call took %v", took)
	}
	// ...and a longer one is served by the restarted runtime.
	mustQueryVersion(t, h, "1.0.0")
}

func TestTheRAKOfATEERuntimeIsAttestedAtStart(t *testing.T) {
	p := newProvisioner(t)
	provider, err := tee.NewMockProvider(tee.MockProviderConfig{TEEHardware: tee.HardwareMock, DebugMode: true, ChainContext: testChain})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, bundleV1, p, localConfig{Mode: "tee"})
	cfg.TEE = provider
	h, _ := runHost(t, cfg)
	started, err := h.WaitReady(callCtx(t, failAfter))
	if err != nil {
		t.Fatal(err)
	}
	if started.Attestation == nil || !started.Features.CapabilityTEE {
		t.Fatalf("started = %+v, want an attestation", started)
	}
	if err := provider.VerifyAttestation(testRuntimeID, started.Attestation); err != nil {
		t.Errorf("VerifyAttestation: %v", err)
	}

	t.Run("a runtime without the TEE capability is refused", func(t *testing.T) {
		cfg := testConfig(t, bundleV1, p, localConfig{Mode: "healthy"})
		cfg.TEE = provider
		_, log := runHost(t, cfg)
		f := log.waitFor(t, "failed", 1, isFailed)[0].Failed
		if !errors.Is(f.Err, ErrHandshakeFailed) || !strings.Contains(f.Err.Error(), "TEE capability") {
			t.Errorf("failure = %v", f.Err)
		}
	})
}

func TestLocalStorageRequestsOfASandboxedRuntimeReachTheHostsStore(t *testing.T) {
	p := newProvisioner(t)
	path := filepath.Join(t.TempDir(), "local.cbor")
	store, err := OpenLocalStorage(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, bundleV1, p, localConfig{Mode: "healthy"})
	cfg.Handler = &RequestRouter{LocalStorage: store}
	h, _ := runHost(t, cfg)
	if _, err := h.Call(callCtx(t, failAfter), query("local-set", [][]byte{[]byte("k"), []byte("v")})); err != nil {
		t.Fatalf("local-set: %v", err)
	}
	resp, err := h.Call(callCtx(t, failAfter), query("local-get", []byte("k")))
	if err != nil {
		t.Fatalf("local-get: %v", err)
	}
	if want := cbor.Marshal([]byte("v")); string(resp.RuntimeQueryResponse.Data) != string(want) {
		t.Errorf("local-get = %x, want %x", resp.RuntimeQueryResponse.Data, want)
	}
	reopened, err := OpenLocalStorage(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := reopened.Get([]byte("k")); string(got) != "v" {
		t.Errorf("reopened store holds %q", got)
	}
}

func TestNewChecksTheSocketDirectory(t *testing.T) {
	p := newProvisioner(t)
	ext := bundleV1

	open := newSocketDir(t)
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, ext, p, localConfig{Mode: "healthy"})
	cfg.Sandbox.SocketDir = open
	if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "chmod 0700") {
		t.Errorf("New(socket dir 0755) = %v", err)
	}

	cfg.Sandbox.SocketDir = "/" + strings.Repeat("d", 100)
	if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New(long socket dir) = %v", err)
	}

	created := filepath.Join(newSocketDir(t), "new")
	cfg.Sandbox.SocketDir = created
	if _, err := New(cfg); err != nil {
		t.Fatalf("New() = %v", err)
	}
	if st, err := os.Stat(created); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("created socket dir: %v, %v", st.Mode(), err)
	}
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}.withDefaults()
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.delay(i + 1); got != w*time.Millisecond {
			t.Errorf("delay(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	if got := b.delay(1000); got != time.Second {
		t.Errorf("delay(1000) = %v", got)
	}
}
