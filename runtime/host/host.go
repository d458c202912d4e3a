package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/atoll-project/atoll/runtime/host/protocol"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

// exitGrace is how long a failed instance's process gets to exit on its own before it is
// killed.
const exitGrace = 250 * time.Millisecond

// Host supervises one runtime binary (one bundle): see the package documentation.
type Host struct {
	cfg            Config
	logger         *slog.Logger
	stdout, stderr io.Writer

	mu      sync.Mutex
	current *instance     // the instance Run is supervising, nil between instances
	ready   *instance     // current, while it takes calls
	readyCh chan struct{} // closed when ready is set; replaced when it is cleared
	lastErr error         // why the runtime is not ready, if it failed
	running bool
	stopped chan struct{} // closed when Run returns
}

// New returns a host for cfg. It checks the configuration and creates the socket directory;
// nothing starts before Run.
func New(cfg Config) (*Host, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.Timeouts = cfg.Timeouts.withDefaults()
	cfg.Backoff = cfg.Backoff.withDefaults()
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("module", "runtime/host", "runtime_id", cfg.RuntimeID, "version", cfg.Bundle.Manifest.Version)
	h := &Host{
		cfg:     cfg,
		logger:  logger,
		readyCh: make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if out := cfg.Sandbox.Output; out != nil {
		h.stdout, h.stderr = out, out
	} else {
		h.stdout = newLineLogger(logger, "stdout")
		h.stderr = newLineLogger(logger, "stderr")
	}
	return h, nil
}

// Run starts the runtime and keeps it running until ctx ends: it restarts it with backoff
// whenever it fails, and stops it gracefully (a shutdown request, then a kill) at the end.
// It returns nil once ctx has ended and everything it started has stopped, and
// ErrAlreadyRunning when called a second time.
func (h *Host) Run(ctx context.Context) error {
	h.mu.Lock()
	if h.running {
		h.mu.Unlock()
		return ErrAlreadyRunning
	}
	h.running = true
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.current, h.ready = nil, nil
		close(h.stopped)
		h.mu.Unlock()
		h.logger.Info("runtime host stopped")
		h.emit(Event{Stopped: &StoppedEvent{}})
	}()

	failures := 0
	for {
		in, err := h.startInstance(ctx)
		if ctx.Err() != nil {
			if in != nil {
				in.teardown(true, h.cfg.Timeouts.Shutdown)
			}
			return nil
		}
		if err == nil {
			err = h.serve(ctx, in)
			if ctx.Err() != nil {
				return nil
			}
			if time.Since(in.readyAt) >= h.cfg.Backoff.ResetAfter {
				failures = 0
			}
		}
		failures++
		delay := h.cfg.Backoff.delay(failures)
		h.mu.Lock()
		h.lastErr = err
		h.mu.Unlock()
		h.logger.Warn("runtime failed; restarting after backoff", "err", err, "restart_in", delay, "consecutive_failures", failures)
		h.emit(Event{Failed: &FailedEvent{Err: err, RestartIn: delay, Consecutive: failures}})
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

// serve makes in the ready instance and watches it until it fails or ctx ends; it tears it
// down before returning the failure (nil when ctx ended).
func (h *Host) serve(ctx context.Context, in *instance) error {
	h.mu.Lock()
	h.current, h.ready, h.lastErr = in, in, nil
	close(h.readyCh)
	h.mu.Unlock()
	started := in.started
	h.logger.Info("runtime started", "pid", started.PID, "reported_version", started.Version, "tee", started.Attestation != nil)
	h.emit(Event{Started: &started})
	in.spawn(func() { h.watchdog(in) })

	var cause error
	select {
	case <-ctx.Done():
		h.clearReady(in)
		in.teardown(true, h.cfg.Timeouts.Shutdown)
		h.mu.Lock()
		h.current = nil
		h.mu.Unlock()
		return nil
	case <-in.proc.Done():
		cause = fmt.Errorf("%w: the runtime exited", ErrRuntimeFailed)
	case <-in.conn.Done():
		cause = fmt.Errorf("%w: its connection ended: %w", ErrRuntimeFailed, in.conn.Err())
	case <-in.failed:
	}
	in.fail(cause) // a no-op when a call or the watchdog failed it first
	h.clearReady(in)
	// A runtime that crashed has closed its connection an instant before its sandbox exits:
	// give it a moment, so that its exit status (more telling than a closed connection) is
	// its own rather than our kill's.
	select {
	case <-in.proc.Done():
	case <-time.After(exitGrace):
	}
	in.teardown(false, 0)
	h.mu.Lock()
	h.current = nil
	h.mu.Unlock()
	err := in.failure()
	// The exit status says more than a closed connection; a status without a signal is the
	// runtime's own exit, not our kill.
	if status, werr := in.proc.Wait(); werr == nil && status.Signal == 0 {
		err = fmt.Errorf("%w (the runtime exited: %v)", err, status)
	}
	return err
}

// clearReady stops routing calls to in.
func (h *Host) clearReady(in *instance) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ready == in {
		h.ready = nil
		h.readyCh = make(chan struct{})
	}
}

// restoreReady routes calls to in again after a successful abort, unless it failed or was
// replaced meanwhile.
func (h *Host) restoreReady(in *instance) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.current == in && h.ready == nil && in.failure() == nil {
		h.ready = in
		close(h.readyCh)
	}
}

func (h *Host) emit(e Event) {
	if h.cfg.OnEvent != nil {
		h.cfg.OnEvent(e)
	}
}

// waitReady returns the ready instance, waiting for one until ctx ends or Run returns.
func (h *Host) waitReady(ctx context.Context) (*instance, error) {
	for {
		h.mu.Lock()
		in, ch, last, stopped := h.ready, h.readyCh, h.lastErr, h.stopped
		h.mu.Unlock()
		if in != nil {
			return in, nil
		}
		select {
		case <-stopped:
			return nil, ErrStopped
		default:
		}
		select {
		case <-ch:
		case <-stopped:
			return nil, ErrStopped
		case <-ctx.Done():
			if last != nil {
				return nil, fmt.Errorf("%w (%w); last failure: %w", ErrNotReady, ctx.Err(), last)
			}
			return nil, fmt.Errorf("%w: %w", ErrNotReady, ctx.Err())
		}
	}
}

// WaitReady waits until the runtime takes calls and returns what it reported when it started.
// It fails as a call waiting for readiness would (ErrNotReady, ErrStopped).
func (h *Host) WaitReady(ctx context.Context) (*StartedEvent, error) {
	in, err := h.waitReady(ctx)
	if err != nil {
		return nil, err
	}
	started := in.started
	return &started, nil
}

// Call sends a request to the runtime and returns its response. It is safe for concurrent use.
//
// A call whose context has no deadline gets Timeouts.Call. While the runtime is not ready
// (starting, restarting, aborting) the call waits for it until its deadline (ErrNotReady).
// A call that exceeds its deadline returns ErrCallTimeout at once, and the runtime is asked to
// abort; if it does not answer the abort within Timeouts.Abort it is killed and restarted.
// A call cut short by the runtime failing returns ErrRuntimeFailed; calls are never retried.
// An error the runtime answered with is returned wrapped (errors.Is matches registered coded
// errors). A call cancelled (not timed out) by its caller just returns the context's error.
func (h *Host) Call(ctx context.Context, body *messages.Body) (*messages.Body, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.cfg.Timeouts.Call)
		defer cancel()
	}
	kind := body.Kind()
	var in *instance
	for in == nil {
		var err error
		if in, err = h.waitReady(ctx); err != nil {
			return nil, fmt.Errorf("host: %s: %w", kind, err)
		}
		if !in.calls.begin() {
			// Stopping: wait for its successor (or the end of Run).
			h.clearReady(in)
			in = nil
		}
	}
	defer in.calls.end()
	resp, err := in.conn.Call(ctx, body)
	switch {
	case err == nil:
		return resp, nil
	case errors.Is(err, context.DeadlineExceeded) && errors.Is(ctx.Err(), context.DeadlineExceeded):
		h.abort(in, kind)
		return nil, fmt.Errorf("%w: %s: %w", ErrCallTimeout, kind, err)
	case errors.Is(err, protocol.ErrClosed):
		if cause := in.failure(); cause != nil {
			return nil, fmt.Errorf("host: %s: %w", kind, cause)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrRuntimeFailed, kind, err)
	default:
		return nil, fmt.Errorf("host: %s: %w", kind, err)
	}
}

// abort asks in to abandon what it is doing after a call of kind timed out; calls wait for
// readiness meanwhile. A runtime that does not answer in time is failed (killed and
// restarted by Run).
func (h *Host) abort(in *instance, kind string) {
	if !in.aborting.CompareAndSwap(false, true) {
		return
	}
	h.clearReady(in)
	timeout := h.cfg.Timeouts.Abort
	ok := in.spawn(func() {
		defer in.aborting.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, err := in.conn.Call(ctx, &messages.Body{RuntimeAbortRequest: &messages.RuntimeAbortRequest{}})
		if err != nil {
			in.fail(fmt.Errorf("%w: %s: the runtime did not answer the abort request within %v (%w); killing it",
				ErrCallTimeout, kind, timeout, err))
			return
		}
		h.logger.Warn("runtime aborted a call that exceeded its deadline", "call", kind)
		h.restoreReady(in)
	})
	if !ok {
		in.aborting.Store(false)
	}
}

// watchdog pings in every PingInterval and fails it when a ping goes unanswered.
func (h *Host) watchdog(in *instance) {
	t := time.NewTicker(h.cfg.Timeouts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-in.failed:
			return
		case <-in.conn.Done():
			return
		case <-t.C:
		}
		if in.aborting.Load() {
			continue // the abort decides this instance's fate
		}
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.Timeouts.Ping)
		_, err := in.conn.Call(ctx, &messages.Body{RuntimePingRequest: &messages.RuntimePingRequest{}})
		cancel()
		if err != nil && in.conn.Err() == nil {
			in.fail(fmt.Errorf("%w: watchdog: no answer to a ping within %v: %w", ErrRuntimeFailed, h.cfg.Timeouts.Ping, err))
			return
		}
	}
}
