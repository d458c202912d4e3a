package host

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/atoll-project/atoll/common/cbor"
	"github.com/atoll-project/atoll/common/hash"
	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/runtime/bundle"
	"github.com/atoll-project/atoll/runtime/host/protocol"
	"github.com/atoll-project/atoll/runtime/host/sandbox"
	"github.com/atoll-project/atoll/runtime/host/tee"
)

// maxSocketPath is the longest Unix socket path the kernel accepts (sun_path minus the NUL).
const maxSocketPath = 107

// socketNameLength is the length of a socket's file name in SocketDir: "rt-" + 16 hex
// digits + ".sock".
const socketNameLength = 3 + 16 + 5

// Config configures a Host.
type Config struct {
	// RuntimeID is the runtime the node hosts; the bundle's manifest must name it.
	RuntimeID namespace.Namespace
	// ChainContext is the consensus chain's context, sent in the handshake.
	ChainContext hash.Hash
	// Bundle is the extracted bundle to run: its directory and the checksum the registry
	// expects (the manifest is re-read and every file re-verified before each start).
	Bundle *bundle.Extracted
	// Sandbox says how and where the runtime is started.
	Sandbox SandboxConfig
	// Handler serves the runtime's requests to the host (storage sync, local storage);
	// RequestRouter is the usual one. Nil refuses them all.
	Handler protocol.Handler
	// LocalConfig is the operator's configuration for this runtime, passed in the handshake.
	LocalConfig cbor.RawMessage
	// TEE, when set, attests the runtime's RAK after every handshake; a runtime that does not
	// announce the TEE capability is then refused.
	TEE tee.Provider
	// Timeouts bound each phase; zero fields take the defaults.
	Timeouts Timeouts
	// Backoff paces restarts; zero fields take the defaults.
	Backoff Backoff
	// Logger receives the host's records; nil discards them.
	Logger *slog.Logger
	// OnEvent, when set, is called with every event, in order, from Run's goroutine: it must
	// return quickly and must not call Run. Workers typically forward events to a channel.
	OnEvent func(Event)
}

// SandboxConfig says how the runtime's process is started.
type SandboxConfig struct {
	// Provisioner starts the runtime (sandbox.NewBubblewrap in production).
	Provisioner sandbox.Provisioner
	// SocketDir is the directory, in the node's data dir, that holds the host sockets. New
	// creates it with mode 0700; an existing one must not be accessible by group or others.
	// Several hosts may share it.
	SocketDir string
	// Output receives the runtime's standard output and error; nil logs them line by line
	// (at Info, key "runtime_output", lines capped at 1 KiB).
	Output io.Writer
	// MaxFrameSize caps the protocol's frames (protocol.DefaultMaxFrameSize when 0).
	MaxFrameSize int
}

// Timeouts bound the phases of a runtime's life. The defaults follow the reference system
// (REFERENCE.md §1 "Runtime host"): a 1 s handshake, a watchdog ping every 15 s, 5 s for an
// abort; starting the sandbox itself gets a budget of its own.
type Timeouts struct {
	// Connect bounds the time from starting the sandbox to the runtime's connection
	// (default 10 s).
	Connect time.Duration
	// Init bounds the handshake, TEE attestation included (default 1 s).
	Init time.Duration
	// PingInterval is the watchdog's period (default 15 s).
	PingInterval time.Duration
	// Ping bounds one watchdog ping (default 5 s); a runtime that misses it is restarted.
	Ping time.Duration
	// Abort bounds the abort request sent after a call's deadline (default 5 s); a runtime
	// that does not answer it is killed and restarted.
	Abort time.Duration
	// Shutdown bounds a graceful stop: the shutdown request and the exit (default 5 s).
	Shutdown time.Duration
	// Call is the deadline given to calls whose context has none (default 30 s), so that no
	// call waits forever.
	Call time.Duration
}

// Backoff paces restarts: the n-th consecutive failure waits Initial·2ⁿ⁻¹, capped at Max. A
// runtime that stayed ready for ResetAfter before it failed starts the count afresh.
type Backoff struct {
	// Initial is the first delay (default 500 ms).
	Initial time.Duration
	// Max caps the delay (default 30 s).
	Max time.Duration
	// ResetAfter is the healthy period that resets the count (default 1 min).
	ResetAfter time.Duration
}

// Default values of Timeouts and Backoff.
const (
	DefaultConnectTimeout    = 10 * time.Second
	DefaultInitTimeout       = time.Second
	DefaultPingInterval      = 15 * time.Second
	DefaultPingTimeout       = 5 * time.Second
	DefaultAbortTimeout      = 5 * time.Second
	DefaultShutdownTimeout   = 5 * time.Second
	DefaultCallTimeout       = 30 * time.Second
	DefaultBackoffInitial    = 500 * time.Millisecond
	DefaultBackoffMax        = 30 * time.Second
	DefaultBackoffResetAfter = time.Minute
)

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (t Timeouts) withDefaults() Timeouts {
	t.Connect = orDefault(t.Connect, DefaultConnectTimeout)
	t.Init = orDefault(t.Init, DefaultInitTimeout)
	t.PingInterval = orDefault(t.PingInterval, DefaultPingInterval)
	t.Ping = orDefault(t.Ping, DefaultPingTimeout)
	t.Abort = orDefault(t.Abort, DefaultAbortTimeout)
	t.Shutdown = orDefault(t.Shutdown, DefaultShutdownTimeout)
	t.Call = orDefault(t.Call, DefaultCallTimeout)
	return t
}

func (b Backoff) withDefaults() Backoff {
	b.Initial = orDefault(b.Initial, DefaultBackoffInitial)
	b.Max = max(orDefault(b.Max, DefaultBackoffMax), b.Initial)
	b.ResetAfter = orDefault(b.ResetAfter, DefaultBackoffResetAfter)
	return b
}

// delay returns the wait before the restart that follows the n-th consecutive failure (n ≥ 1).
func (b Backoff) delay(n int) time.Duration {
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// validate checks c and prepares its socket directory.
func (c *Config) validate() error {
	switch {
	case c.RuntimeID.IsZero():
		return fmt.Errorf("%w: zero runtime ID", ErrInvalidConfig)
	case c.ChainContext.IsZero():
		return fmt.Errorf("%w: zero chain context", ErrInvalidConfig)
	case c.Bundle == nil || c.Bundle.Dir == "":
		return fmt.Errorf("%w: no bundle", ErrInvalidConfig)
	case c.Bundle.Manifest.ID != c.RuntimeID:
		return fmt.Errorf("%w: %w: bundle %s is for runtime %s, the host runs %s",
			ErrInvalidConfig, ErrRuntimeIDMismatch, c.Bundle.Dir, c.Bundle.Manifest.ID, c.RuntimeID)
	case c.Sandbox.Provisioner == nil:
		return fmt.Errorf("%w: no provisioner", ErrInvalidConfig)
	case !filepath.IsAbs(c.Sandbox.SocketDir):
		return fmt.Errorf("%w: socket dir %q is not an absolute path", ErrInvalidConfig, c.Sandbox.SocketDir)
	case len(c.Sandbox.SocketDir)+1+socketNameLength > maxSocketPath:
		return fmt.Errorf("%w: socket dir %q is too long for Unix socket paths (at most %d bytes)",
			ErrInvalidConfig, c.Sandbox.SocketDir, maxSocketPath-1-socketNameLength)
	}
	return prepareSocketDir(c.Sandbox.SocketDir)
}

// prepareSocketDir creates dir with mode 0700, or checks that an existing one is a directory
// closed to group and others.
func prepareSocketDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%w: socket dir: %w", ErrInvalidConfig, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("%w: socket dir: %w", ErrInvalidConfig, err)
	}
	if !st.IsDir() || st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: socket dir %s has mode %v, want a directory with mode 0700 (fix: chmod 0700 %s)",
			ErrInvalidConfig, dir, st.Mode(), dir)
	}
	return nil
}
