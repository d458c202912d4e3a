package host

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

// multiEvents records a Multi's events per version.
type multiEvents struct {
	mu   sync.Mutex
	logs map[VersionKey]*eventLog
}

func (m *multiEvents) log(k VersionKey) *eventLog {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.logs[k] == nil {
		m.logs[k] = newEventLog()
	}
	return m.logs[k]
}

func runMulti(t *testing.T) (*Multi, *multiEvents) {
	t.Helper()
	ev := &multiEvents{logs: make(map[VersionKey]*eventLog)}
	m, err := NewMulti(MultiConfig{RuntimeID: testRuntimeID, OnEvent: func(k VersionKey, e Event) {
		t.Logf("%s: %v", k.Version, e)
		ev.log(k).add(e)
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Multi.Run() = %v", err)
		}
	})
	return m, ev
}

func TestMultiSwitchesToAPreWarmedVersionWithoutAFailedCall(t *testing.T) {
	p := newProvisioner(t)
	m, ev := runMulti(t)
	// A call made before any version is active waits for one.
	early := make(chan error, 1)
	go func() {
		_, err := queryString(callCtx(t, failAfter), m, "version")
		early <- err
	}()
	v1, err := m.Add(testConfig(t, bundleV1, p, localConfig{Mode: "healthy"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Activate(v1); err != nil {
		t.Fatal(err)
	}
	if err := <-early; err != nil {
		t.Fatalf("a call made before activation = %v", err)
	}

	// Callers keep calling throughout the upgrade. Each records its own answers: calls of two
	// callers may complete out of order, but each caller's answers must switch once.
	stop := make(chan struct{})
	const callers = 2
	var (
		mu      sync.Mutex
		answers [callers][]string
		errs    []error
		wg      sync.WaitGroup
	)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				v, err := queryString(callCtx(t, failAfter), m, "version")
				mu.Lock()
				answers[i] = append(answers[i], v)
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}

	// Pre-warm version 2, switch when it is ready, then retire version 1.
	v2, err := m.Add(testConfig(t, bundleV2, p, localConfig{Mode: "healthy"}))
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := m.Host(v2)
	if _, err := h2.WaitReady(callCtx(t, failAfter)); err != nil {
		t.Fatal(err)
	}
	if err := m.Activate(v2); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove(callCtx(t, failAfter), v2); !errors.Is(err, ErrActiveVersion) {
		t.Errorf("Remove(active) = %v, want ErrActiveVersion", err)
	}
	mustQueryVersion(t, m, "2.0.0")
	if err := m.Remove(callCtx(t, failAfter), v1); err != nil {
		t.Fatalf("Remove(v1) = %v", err)
	}
	ev.log(v1).waitFor(t, "v1 stopped", 1, isStopped)
	mustQueryVersion(t, m, "2.0.0")
	close(stop)
	wg.Wait()

	if len(errs) != 0 {
		t.Fatalf("%d calls failed during the upgrade, first: %v", len(errs), errs[0])
	}
	// Each caller's answers switch once, from 1.0.0 to 2.0.0.
	for i := range callers {
		switched := false
		for _, a := range answers[i] {
			switch {
			case a == "2.0.0":
				switched = true
			case a != "1.0.0" || switched:
				t.Fatalf("caller %d: answers %v do not switch once from 1.0.0 to 2.0.0", i, answers[i])
			}
		}
	}
	if active, _ := m.Active(); active != v2 || len(m.Versions()) != 1 {
		t.Errorf("active %v, versions %v", active, m.Versions())
	}
	for _, k := range []VersionKey{v1, v2} {
		if n := ev.log(k).count(isFailed); n != 0 {
			t.Errorf("version %s failed %d times", k.Version, n)
		}
	}
}

func TestMultiRefusesUnknownAndDuplicateVersions(t *testing.T) {
	p := newProvisioner(t)
	m, _ := runMulti(t)
	if err := m.Activate(VersionKey{}); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("Activate(unknown) = %v", err)
	}
	if err := m.Remove(context.Background(), VersionKey{}); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("Remove(unknown) = %v", err)
	}
	if _, err := m.Add(testConfig(t, bundleV1, p, localConfig{Mode: "healthy"})); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(testConfig(t, bundleV1, p, localConfig{Mode: "healthy"})); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Add(same version twice) = %v", err)
	}
	cfg := testConfig(t, bundleV2, p, localConfig{Mode: "healthy"})
	cfg.RuntimeID[0] ^= 1
	if _, err := m.Add(cfg); !errors.Is(err, ErrRuntimeIDMismatch) {
		t.Errorf("Add(another runtime) = %v", err)
	}
	// Nothing is active: calls give up at their deadline.
	if _, err := m.Call(callCtx(t, 50*time.Millisecond), &messages.Body{RuntimePingRequest: &messages.RuntimePingRequest{}}); !errors.Is(err, ErrNotReady) {
		t.Errorf("Call with no active version = %v, want ErrNotReady", err)
	}
}
