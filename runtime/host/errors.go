package host

import "errors"

var (
	// ErrInvalidConfig is returned by New and NewMulti for a configuration that cannot work.
	ErrInvalidConfig = errors.New("host: invalid config")
	// ErrBundleRefused fails a start whose bundle does not verify against the expected
	// checksum (a tampered or replaced file, a missing directory); the runtime is not started.
	// The bundle package's error is wrapped alongside.
	ErrBundleRefused = errors.New("host: runtime bundle refused")
	// ErrRuntimeIDMismatch fails a start whose bundle or runtime is not the configured runtime.
	ErrRuntimeIDMismatch = errors.New("host: runtime ID mismatch")
	// ErrVersionMismatch fails a start whose runtime reports another version than its bundle
	// manifest names.
	ErrVersionMismatch = errors.New("host: runtime version differs from its bundle manifest")
	// ErrStartFailed fails a start in which the runtime never connected: it exited first, or
	// did not connect within Timeouts.Connect.
	ErrStartFailed = errors.New("host: runtime did not start")
	// ErrHandshakeFailed fails a start whose handshake (or TEE attestation) did not complete;
	// protocol.ErrIncompatibleVersion is wrapped alongside for a runtime speaking another
	// protocol major.
	ErrHandshakeFailed = errors.New("host: runtime handshake failed")
	// ErrRuntimeFailed is the cause when a running runtime fails: its process exits, its
	// connection breaks (for example because it sent garbage), or it misses a watchdog ping.
	// Calls that were in flight on it fail with it.
	ErrRuntimeFailed = errors.New("host: runtime failed")
	// ErrCallTimeout is returned by a call that exceeded its deadline; the runtime is then
	// asked to abort, and killed and restarted if it does not answer in time.
	ErrCallTimeout = errors.New("host: call exceeded its deadline")
	// ErrNotReady is returned by a call whose deadline passed (or whose context ended) while it
	// waited for the runtime to become ready; the last start failure, if any, is wrapped
	// alongside.
	ErrNotReady = errors.New("host: runtime not ready")
	// ErrStopped is returned by calls once Run has returned.
	ErrStopped = errors.New("host: stopped")
	// ErrAlreadyRunning is returned by a second Run.
	ErrAlreadyRunning = errors.New("host: Run called twice")
	// ErrUnknownVersion is returned by Multi for a version it does not hold.
	ErrUnknownVersion = errors.New("host: unknown runtime version")
	// ErrActiveVersion is returned by Multi.Remove for the active version.
	ErrActiveVersion = errors.New("host: cannot remove the active runtime version")
	// ErrLocalStorageLimit is returned by LocalStorage.Set for a key, value or store over
	// its size caps.
	ErrLocalStorageLimit = errors.New("host: local storage limit exceeded")
)
