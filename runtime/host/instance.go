package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atoll-project/atoll/runtime/bundle"
	"github.com/atoll-project/atoll/runtime/host/protocol"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
	"github.com/atoll-project/atoll/runtime/host/sandbox"
	"github.com/atoll-project/atoll/runtime/host/tee"
)

// instance is one started runtime process with its connection. The host's Run goroutine owns
// it: it starts it, watches it, and tears it down; calls and helper goroutines only use its
// connection and report failures through fail.
type instance struct {
	proc    sandbox.Process
	conn    *protocol.Connection
	started StartedEvent
	readyAt time.Time

	failed   chan struct{} // closed by fail
	failOnce sync.Once
	cause    error // written once, before failed is closed

	aborting atomic.Bool // an abort request is in flight

	mu      sync.Mutex
	closing bool // no more helper goroutines
	wg      sync.WaitGroup

	calls callGate
}

// callGate counts the calls in flight on an instance and lets teardown wait for them.
type callGate struct {
	mu       sync.Mutex
	draining bool          // no more calls
	inflight int           // calls in flight
	drained  chan struct{} // closed when draining and inflight reaches 0
}

// begin registers a call; it fails once the gate drains.
func (g *callGate) begin() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.draining {
		return false
	}
	g.inflight++
	return true
}

// end ends a call registered by begin.
func (g *callGate) end() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inflight--
	if g.draining && g.inflight == 0 && g.drained != nil {
		close(g.drained)
		g.drained = nil
	}
}

// drain refuses new calls and returns a channel closed once the calls in flight have ended.
func (g *callGate) drain() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.draining = true
	ch := make(chan struct{})
	if g.inflight == 0 {
		close(ch)
	} else {
		g.drained = ch
	}
	return ch
}

// fail marks the instance as failed with cause; the Run goroutine then tears it down. Only the
// first cause is kept.
func (in *instance) fail(cause error) {
	in.failOnce.Do(func() {
		in.cause = cause
		close(in.failed)
	})
}

// failure returns the cause once failed is closed.
func (in *instance) failure() error {
	select {
	case <-in.failed:
		return in.cause
	default:
		return nil
	}
}

// spawn runs f on a helper goroutine that teardown waits for; it does nothing once teardown
// has begun.
func (in *instance) spawn(f func()) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closing {
		return false
	}
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		f()
	}()
	return true
}

// teardown stops the instance: gracefully when graceful is set (the calls in flight are let
// finish, then a shutdown request is sent and the exit awaited, all within timeout), then by
// killing what is left. It returns once the process is reaped and every helper goroutine has
// returned.
func (in *instance) teardown(graceful bool, timeout time.Duration) {
	in.mu.Lock()
	in.closing = true
	in.mu.Unlock()
	drained := in.calls.drain()
	if graceful && in.failure() == nil {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		select {
		case <-drained:
		case <-in.failed:
		case <-ctx.Done():
		}
		_, _ = in.conn.Call(ctx, &messages.Body{RuntimeShutdownRequest: &messages.RuntimeShutdownRequest{}})
		select {
		case <-in.proc.Done():
		case <-ctx.Done():
		}
		cancel()
	}
	_ = in.proc.Kill()
	_ = in.conn.Close()
	_, _ = in.proc.Wait()
	in.wg.Wait()
}

// startInstance verifies the bundle, starts the runtime in the sandbox, accepts its
// connection and runs the handshake (and the TEE attestation). On failure nothing is left
// running.
func (h *Host) startInstance(ctx context.Context) (*instance, error) {
	ext, err := bundle.VerifyExtracted(h.cfg.Bundle.Dir, h.cfg.Bundle.Checksum)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBundleRefused, err)
	}
	if ext.Manifest.ID != h.cfg.RuntimeID {
		return nil, fmt.Errorf("%w: bundle %s is for runtime %s, the host runs %s", ErrRuntimeIDMismatch, ext.Dir, ext.Manifest.ID, h.cfg.RuntimeID)
	}

	sock, err := listenSocket(h.cfg.Sandbox.SocketDir)
	if err != nil {
		return nil, err
	}
	defer sock.Close() // also unlinks the socket file; the accepted connection survives

	proc, err := h.cfg.Sandbox.Provisioner.Start(context.WithoutCancel(ctx), sandbox.Config{
		Executable: ext.ExecutablePath(),
		BindRO:     []string{ext.Dir},
		Socket:     sock.Addr().String(),
		Stdout:     h.stdout,
		Stderr:     h.stderr,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStartFailed, err)
	}
	fail := func(err error) (*instance, error) {
		_ = proc.Kill()
		_, _ = proc.Wait()
		return nil, err
	}

	c, err := accept(ctx, sock, proc, h.cfg.Timeouts.Connect)
	if err != nil {
		return fail(err)
	}
	conn := protocol.NewConnection(c, h.cfg.Handler, protocol.Config{MaxFrameSize: h.cfg.Sandbox.MaxFrameSize})
	in := &instance{proc: proc, conn: conn, failed: make(chan struct{})}
	if err := h.handshake(ctx, in, ext); err != nil {
		_ = conn.Close()
		return fail(err)
	}
	in.readyAt = time.Now()
	return in, nil
}

// listenSocket creates a Unix listener on a fresh socket path in dir.
func listenSocket(dir string) (*net.UnixListener, error) {
	var suffix [8]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStartFailed, err)
	}
	path := filepath.Join(dir, "rt-"+hex.EncodeToString(suffix[:])+".sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("%w: listening: %w", ErrStartFailed, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("%w: %w", ErrStartFailed, err)
	}
	return l, nil
}

// accept waits for the runtime's one connection, for at most timeout, and fails early when the
// process exits or ctx ends.
func accept(ctx context.Context, l *net.UnixListener, proc sandbox.Process, timeout time.Duration) (net.Conn, error) {
	if err := l.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStartFailed, err)
	}
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		ch <- result{c, err}
	}()
	var cause error
	select {
	case r := <-ch:
		if r.err == nil {
			return r.c, nil
		}
		if errors.Is(r.err, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("%w: the runtime did not connect within %v", ErrStartFailed, timeout)
		}
		return nil, fmt.Errorf("%w: accepting: %w", ErrStartFailed, r.err)
	case <-proc.Done():
		status, err := proc.Wait()
		cause = fmt.Errorf("%w: the runtime exited before connecting (%v)", ErrStartFailed, status)
		if err != nil {
			cause = fmt.Errorf("%w: %w", ErrStartFailed, err)
		}
	case <-ctx.Done():
		cause = fmt.Errorf("%w: %w", ErrStartFailed, ctx.Err())
	}
	_ = l.SetDeadline(time.Now()) // wake the Accept
	if r := <-ch; r.c != nil {
		_ = r.c.Close()
	}
	return nil, cause
}

// handshake runs InitHost, checks what the runtime reports and attests it when a TEE is
// configured.
func (h *Host) handshake(ctx context.Context, in *instance, ext *bundle.Extracted) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeouts.Init)
	defer cancel()
	// A runtime that exits during the handshake must not make us wait for the deadline.
	go func() {
		select {
		case <-in.proc.Done():
			cancel()
		case <-ctx.Done():
		}
	}()

	info, err := protocol.InitHost(ctx, in.conn, messages.RuntimeInfoRequest{
		RuntimeID:             h.cfg.RuntimeID,
		ConsensusChainContext: h.cfg.ChainContext,
		LocalConfig:           h.cfg.LocalConfig,
	})
	if err != nil {
		return fmt.Errorf("%w: %w%s", ErrHandshakeFailed, err, exitNote(in.proc))
	}
	if info.RuntimeVersion != ext.Manifest.Version {
		return fmt.Errorf("%w: the runtime reports version %s, its bundle manifest says %s", ErrVersionMismatch, info.RuntimeVersion, ext.Manifest.Version)
	}
	in.started = StartedEvent{Version: info.RuntimeVersion, Checksum: ext.Checksum, Features: info.Features, PID: in.proc.PID()}
	if h.cfg.TEE == nil {
		return nil
	}
	if !info.Features.CapabilityTEE {
		return fmt.Errorf("%w: a %s TEE is configured but the runtime does not announce the TEE capability", ErrHandshakeFailed, h.cfg.TEE.Hardware())
	}
	att, err := tee.Attest(ctx, in.conn, h.cfg.TEE, h.cfg.RuntimeID)
	if err != nil {
		return fmt.Errorf("%w: TEE attestation: %w", ErrHandshakeFailed, err)
	}
	in.started.Attestation = att
	return nil
}

// exitNote describes the process's exit when it has exited, for error messages.
func exitNote(proc sandbox.Process) string {
	select {
	case <-proc.Done():
		status, _ := proc.Wait()
		return fmt.Sprintf(" (the runtime exited: %v)", status)
	default:
		return ""
	}
}
