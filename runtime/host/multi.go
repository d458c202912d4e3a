package host

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/atoll-project/atoll/common/namespace"
	"github.com/atoll-project/atoll/common/version"
	"github.com/atoll-project/atoll/runtime/bundle"
	"github.com/atoll-project/atoll/runtime/host/protocol/messages"
)

// VersionKey names one binary of a runtime: a version and the bundle checksum that ties it to
// one binary (DESIGN.md §4).
type VersionKey struct {
	Version  version.Version
	Checksum bundle.Digest
}

func (k VersionKey) String() string { return k.Version.String() + "/" + k.Checksum.String() }

// MultiConfig configures a Multi.
type MultiConfig struct {
	// RuntimeID is the runtime all versions belong to.
	RuntimeID namespace.Namespace
	// Logger receives the records of Multi itself; each version's Host has its own logger.
	Logger *slog.Logger
	// OnEvent, when set, receives every event of every version, tagged with its key, from
	// that version's Run goroutine (so events of different versions may interleave); it must
	// return quickly.
	OnEvent func(VersionKey, Event)
}

// Multi hosts several versions of one runtime side by side, one Host per (version, checksum),
// and routes calls to the active one. A compute node Adds the next version ahead of its
// valid_from (so it is started and ready: pre-warming), switches with Activate at the epoch
// boundary, and Removes the old one once no call needs it: an upgrade costs no failed call
// (DESIGN.md §4). It is safe for concurrent use; versions may be added and removed before and
// while Run runs.
type Multi struct {
	cfg    MultiConfig
	logger *slog.Logger

	mu       sync.Mutex
	hosts    map[VersionKey]*multiEntry
	pending  []*multiEntry // added, not yet started by Run
	active   *multiEntry
	activeCh chan struct{} // closed when a version is first activated
	wake     chan struct{} // tells Run to start pending hosts
	running  bool
	stopped  chan struct{} // closed when Run returns
}

type multiEntry struct {
	key    VersionKey
	host   *Host
	cancel context.CancelFunc // set when Run starts the host
	done   chan struct{}      // closed when the host's Run has returned (or it never ran)
}

// NewMulti returns an empty Multi.
func NewMulti(cfg MultiConfig) (*Multi, error) {
	if cfg.RuntimeID.IsZero() {
		return nil, fmt.Errorf("%w: zero runtime ID", ErrInvalidConfig)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Multi{
		cfg:      cfg,
		logger:   logger.With("module", "runtime/host", "runtime_id", cfg.RuntimeID),
		hosts:    make(map[VersionKey]*multiEntry),
		activeCh: make(chan struct{}),
		wake:     make(chan struct{}, 1),
		stopped:  make(chan struct{}),
	}, nil
}

// Add creates the Host of cfg's bundle and starts it (at once while Run runs, else when Run
// starts). The key is the bundle manifest's version and the bundle checksum; adding a key
// twice fails. cfg.OnEvent, if set, is called besides Multi's own OnEvent.
func (m *Multi) Add(cfg Config) (VersionKey, error) {
	if cfg.RuntimeID != m.cfg.RuntimeID {
		return VersionKey{}, fmt.Errorf("%w: %w: a host for runtime %s added to the versions of %s",
			ErrInvalidConfig, ErrRuntimeIDMismatch, cfg.RuntimeID, m.cfg.RuntimeID)
	}
	if cfg.Bundle == nil {
		return VersionKey{}, fmt.Errorf("%w: no bundle", ErrInvalidConfig)
	}
	key := VersionKey{Version: cfg.Bundle.Manifest.Version, Checksum: cfg.Bundle.Checksum}
	if own, all := cfg.OnEvent, m.cfg.OnEvent; all != nil {
		cfg.OnEvent = func(e Event) {
			if own != nil {
				own(e)
			}
			all(key, e)
		}
	}
	h, err := New(cfg)
	if err != nil {
		return VersionKey{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.hosts[key]; ok {
		return VersionKey{}, fmt.Errorf("%w: version %s is already hosted", ErrInvalidConfig, key)
	}
	select {
	case <-m.stopped:
		return VersionKey{}, ErrStopped
	default:
	}
	e := &multiEntry{key: key, host: h, done: make(chan struct{})}
	m.hosts[key] = e
	m.pending = append(m.pending, e)
	select {
	case m.wake <- struct{}{}:
	default:
	}
	m.logger.Info("runtime version added", "version", key.Version, "checksum", key.Checksum)
	return key, nil
}

// Activate makes key the version that Call uses. Calls already sent to the previous version
// finish there.
func (m *Multi) Activate(key VersionKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.hosts[key]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownVersion, key)
	}
	if m.active == e {
		return nil
	}
	if m.active == nil {
		close(m.activeCh) // the first activation; a version stays active from then on
	}
	m.active = e
	m.logger.Info("runtime version activated", "version", key.Version, "checksum", key.Checksum)
	return nil
}

// Active returns the active version, if any.
func (m *Multi) Active() (VersionKey, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.active == nil {
		return VersionKey{}, false
	}
	return m.active.key, true
}

// Host returns the host of key.
func (m *Multi) Host(key VersionKey) (*Host, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.hosts[key]
	if !ok {
		return nil, false
	}
	return e.host, true
}

// Versions returns the hosted versions, in no particular order.
func (m *Multi) Versions() []VersionKey {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]VersionKey, 0, len(m.hosts))
	for k := range m.hosts {
		keys = append(keys, k)
	}
	return keys
}

// Remove stops the host of key and forgets it; it waits (until ctx ends) for the host to stop.
// The active version cannot be removed (ErrActiveVersion).
func (m *Multi) Remove(ctx context.Context, key VersionKey) error {
	m.mu.Lock()
	e, ok := m.hosts[key]
	switch {
	case !ok:
		m.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrUnknownVersion, key)
	case m.active == e:
		m.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrActiveVersion, key)
	}
	delete(m.hosts, key)
	for i, p := range m.pending {
		if p == e {
			m.pending = append(m.pending[:i], m.pending[i+1:]...)
			close(e.done) // never started
			break
		}
	}
	if e.cancel != nil {
		e.cancel()
	}
	m.mu.Unlock()
	m.logger.Info("runtime version removed", "version", key.Version, "checksum", key.Checksum)
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("host: removing version %s: %w", key, ctx.Err())
	}
}

// Call sends a request to the active version's runtime, as Host.Call does; while no version
// is active it waits for one until the call's deadline (ErrNotReady).
func (m *Multi) Call(ctx context.Context, body *messages.Body) (*messages.Body, error) {
	for {
		m.mu.Lock()
		e, ch := m.active, m.activeCh
		m.mu.Unlock()
		if e != nil {
			return e.host.Call(ctx, body)
		}
		select {
		case <-ch:
		case <-m.stopped:
			return nil, fmt.Errorf("host: %s: %w", body.Kind(), ErrStopped)
		case <-ctx.Done():
			return nil, fmt.Errorf("host: %s: %w: no active version: %w", body.Kind(), ErrNotReady, ctx.Err())
		}
	}
}

// Run runs every added host until ctx ends, then waits for all of them to stop and returns
// nil. It returns ErrAlreadyRunning when called a second time.
func (m *Multi) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.running {
		m.mu.Unlock()
		return ErrAlreadyRunning
	}
	m.running = true
	m.mu.Unlock()

	var wg sync.WaitGroup
	defer func() {
		m.mu.Lock()
		close(m.stopped)
		for _, e := range m.pending {
			close(e.done)
		}
		m.pending = nil
		m.mu.Unlock()
		wg.Wait()
	}()
	for {
		m.mu.Lock()
		for _, e := range m.pending {
			hctx, cancel := context.WithCancel(ctx)
			e.cancel = cancel
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(e.done)
				defer cancel()
				if err := e.host.Run(hctx); err != nil {
					m.logger.Error("runtime version host failed", "version", e.key.Version, "err", err)
				}
			}()
		}
		m.pending = nil
		m.mu.Unlock()
		select {
		case <-m.wake:
		case <-ctx.Done():
			return nil
		}
	}
}
