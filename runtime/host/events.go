package host

import (
	"fmt"
	"time"

	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/runtime/bundle"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
	"github.com/atoll-project/atoll/runtime/host/tee"
)

// Event is something that happened to a hosted runtime; exactly one field is set.
type Event struct {
	Started *StartedEvent
	Failed  *FailedEvent
	Stopped *StoppedEvent
}

func (e Event) String() string {
	switch {
	case e.Started != nil:
		return fmt.Sprintf("started version %s", e.Started.Version)
	case e.Failed != nil:
		return fmt.Sprintf("failed (restart in %v): %v", e.Failed.RestartIn, e.Failed.Err)
	case e.Stopped != nil:
		return "stopped"
	default:
		return "(no event)"
	}
}

// StartedEvent: a runtime instance completed its handshake (and attestation) and takes calls.
type StartedEvent struct {
	// Version is the version the runtime reported (equal to its bundle manifest's).
	Version version.Version
	// Checksum is the bundle checksum of the running binary.
	Checksum bundle.Digest
	// Features are what the runtime announced in the handshake.
	Features messages.Features
	// Attestation is the verified RAK attestation when a TEE provider is configured.
	Attestation *tee.Attestation
	// PID is the host process ID of the instance's sandbox.
	PID int
}

// FailedEvent: a start failed, or a running instance failed; the host restarts it after
// RestartIn.
type FailedEvent struct {
	// Err says why; it wraps one of this package's sentinels (ErrBundleRefused,
	// ErrStartFailed, ErrHandshakeFailed, ErrRuntimeFailed, ...).
	Err error
	// RestartIn is the backoff delay before the next start.
	RestartIn time.Duration
	// Consecutive counts the failures since the runtime was last healthy.
	Consecutive int
}

// StoppedEvent: Run has stopped the runtime and is returning.
type StoppedEvent struct{}
