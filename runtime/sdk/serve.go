package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/atoll-project/atoll/runtime/host/protocol"
)

// SocketEnv is the environment variable through which the host tells a runtime where its
// socket is (the sandbox sets it; it equals sandbox.SocketEnv).
const SocketEnv = "ATOLL_HOST_SOCKET"

// DefaultGCPercent is the Go garbage collector's target percentage (debug.SetGCPercent) that
// Run sets in the runtime's process unless WithGCPercent or $GOGC says otherwise.
//
// Why not Go's 100: a runtime process holds little besides the state nodes it has cached, a few
// MiB for a small state, while one batch allocates more than that (a 1000-insert kvstore batch
// about 10 MiB). At 100 the collector then runs one to two times per batch, and its marking and
// the write barriers it turns on cost the batch more than the whole host protocol does (on a
// 1000-insert batch: 1.6 collections, and a quarter to a third more CPU time than at 400; see
// BenchmarkExecuteTxBatch1000InsertsOverhead in runtime/host/hosttest). At 400 the heap may
// grow to five times the live data before a collection (twice at 100): with the dispatcher's
// node cache full (DefaultVerifiedNodeBytes) and a large batch, a few hundred MiB.
const DefaultGCPercent = 400

// DefaultShutdownGrace is how long Serve waits, after answering a Shutdown request, for the
// host to close the connection before closing it itself.
const DefaultShutdownGrace = time.Second

// Option configures Run and Serve.
type Option func(*options)

type options struct {
	socketPath string
	logger     *slog.Logger
	conn       protocol.Config
	grace      time.Duration
	gcPercent  int
}

// WithSocketPath connects Run to path instead of $ATOLL_HOST_SOCKET.
func WithSocketPath(path string) Option { return func(o *options) { o.socketPath = path } }

// WithLogger sets the logger (Run's default writes text to stderr, Serve's discards).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithConnectionConfig tunes the protocol connection (frame cap, concurrency).
func WithConnectionConfig(c protocol.Config) Option { return func(o *options) { o.conn = c } }

// WithGCPercent sets the garbage collector's target percentage Run gives the process (see
// DefaultGCPercent); a value of 0 or less leaves the collector as Go configures it ($GOGC, or
// 100). Serve ignores it: it may share its process with other work.
func WithGCPercent(p int) Option { return func(o *options) { o.gcPercent = p } }

// WithShutdownGrace sets how long Serve waits for the host to hang up after a Shutdown.
func WithShutdownGrace(d time.Duration) Option { return func(o *options) { o.grace = d } }

func buildOptions(opts []Option) options {
	o := options{grace: DefaultShutdownGrace, gcPercent: DefaultGCPercent}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Run is a runtime's main: it connects to the host's socket ($ATOLL_HOST_SOCKET unless
// WithSocketPath), serves rt on it (Serve) and returns when the host shuts the runtime down or
// hangs up (nil), on SIGINT or SIGTERM (nil), or when the connection breaks (the error).
//
// The process is the runtime's alone, so Run also tunes it for that: it sets the garbage
// collector's target percentage to DefaultGCPercent (or WithGCPercent's), unless $GOGC is set.
func Run(rt Runtime, opts ...Option) error {
	o := buildOptions(opts)
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("module", "sdk")
		opts = append(opts, WithLogger(o.logger))
	}
	path := o.socketPath
	if path == "" {
		path = os.Getenv(SocketEnv)
	}
	if path == "" {
		return ErrNoSocket
	}
	if _, set := os.LookupEnv("GOGC"); !set && o.gcPercent > 0 {
		debug.SetGCPercent(o.gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var dialer net.Dialer
	c, err := dialer.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("sdk: connecting to the host: %w", err)
	}
	return Serve(ctx, c, rt, opts...)
}

// Serve serves rt over rwc, which it owns and closes: the handshake, then every request, until
// the host asks for a shutdown or closes the stream, or ctx ends (all nil), or the connection
// breaks (the error). State is read from the host through HostStorageSync requests on the same
// connection.
func Serve(ctx context.Context, rwc io.ReadWriteCloser, rt Runtime, opts ...Option) error {
	o := buildOptions(opts)
	caller := newLateCaller()
	d := NewDispatcher(rt, NewHostStorage(caller), o.logger)
	conn := protocol.NewConnection(rwc, d.Handler(), o.conn)
	caller.set(conn)

	select {
	case <-conn.Done():
	case <-ctx.Done():
	case <-d.ShutdownRequested():
		// Let the answer reach the host; it normally hangs up first.
		t := time.NewTimer(o.grace)
		select {
		case <-conn.Done():
		case <-t.C:
		}
		t.Stop()
	}
	cause := conn.Err()
	_ = conn.Close()
	if cause == nil || errors.Is(cause, protocol.ErrClosed) {
		return nil
	}
	return fmt.Errorf("sdk: connection to the host: %w", cause)
}
