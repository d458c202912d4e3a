package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/atoll-project/atoll/runtime/host/sandbox/seccomp"
)

// Descriptor numbers of the files bubblewrap gets through exec.Cmd.ExtraFiles.
const (
	seccompFD    = 3
	jsonStatusFD = 4
)

// stderrTail is how much of bubblewrap's standard error a setup failure quotes.
const stderrTail = 4 << 10

// BubblewrapOptions configure NewBubblewrap.
type BubblewrapOptions struct {
	// Path is the bwrap executable; empty means "bwrap" looked up in PATH at each start.
	Path string
	// Logger receives a debug record per start; nil discards.
	Logger *slog.Logger
}

// Bubblewrap is the sandboxing Provisioner (see the package documentation for what a sandboxed
// program can see and do).
type Bubblewrap struct {
	path   string
	filter []byte
	logger *slog.Logger
	libs   *libraryResolver
}

// NewBubblewrap returns the bubblewrap provisioner with the seccomp policy for this machine's
// architecture. It fails only when the architecture has no seccomp policy; whether bubblewrap
// works here is Preflight's question.
func NewBubblewrap(opts BubblewrapOptions) (*Bubblewrap, error) {
	f, err := seccomp.NewNativeFilter()
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	filter, err := f.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Bubblewrap{
		path:   opts.Path,
		filter: filter,
		logger: logger.With("module", "sandbox"),
		libs:   newLibraryResolver(),
	}, nil
}

func (b *Bubblewrap) bwrapPath() (string, error) {
	name := b.path
	if name == "" {
		name = "bwrap"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w (%v)", ErrBubblewrapMissing, err)
	}
	return p, nil
}

// Start starts cfg.Executable in a new sandbox.
func (b *Bubblewrap) Start(ctx context.Context, cfg Config) (Process, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	bwrap, err := b.bwrapPath()
	if err != nil {
		return nil, err
	}
	libs, err := b.libs.resolve(cfg.Executable)
	if err != nil {
		return nil, err
	}
	args := bwrapArgs(&cfg, libs, ldSoCacheIfPresent(libs))

	filterFile, err := sealedMemfd("atoll-seccomp", b.filter)
	if err != nil {
		return nil, err
	}
	defer filterFile.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("sandbox: status pipe: %w", err)
	}
	defer statusW.Close()

	stderr := &tailWriter{w: cfg.Stderr, max: stderrTail}
	cmd := exec.Command(bwrap, args...)
	cmd.Env = []string{}
	cmd.Dir = "/"
	cmd.Stdin = cfg.Stdin
	cmd.Stdout = cfg.Stdout
	cmd.Stderr = stderr
	cmd.ExtraFiles = []*os.File{filterFile, statusW} // fds 3 and 4

	status := newStatusReader(statusR)
	p, err := startProcess(ctx, cmd, func(state *os.ProcessState, waitErr error) (ExitStatus, error) {
		exit := status.exitCode()
		st := statusOf(state)
		if exit != nil {
			// The program's own status; bubblewrap reports a signal n as 128 + n.
			st = ExitStatus{Code: *exit}
		}
		if err := waitError(waitErr); err != nil {
			return st, err
		}
		// Bubblewrap reports an exit code only for a program it started; it exits with
		// status 1 and no report when setting up the sandbox failed.
		if exit == nil && st.Signal == 0 {
			return st, fmt.Errorf("%w (%v): %s", ErrSetupFailed, st, strings.TrimSpace(stderr.String()))
		}
		return st, nil
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox: starting bubblewrap: %w", err)
	}
	b.logger.Debug("sandbox started", "pid", p.PID(), "executable", cfg.Executable, "binds", len(libs)+len(cfg.BindRO))
	return p, nil
}

// bwrapArgs returns bubblewrap's arguments for cfg, where libs are the files the executable
// needs and ldCache the loader cache to bind ("" for none). The seccomp program is read from
// seccompFD and the status written to jsonStatusFD.
func bwrapArgs(cfg *Config, libs []string, ldCache string) []string {
	args := []string{
		"--unshare-all",
		"--unshare-user",
		"--disable-userns",
		"--assert-userns-disabled",
		"--cap-drop", "ALL",
		"--die-with-parent",
		"--new-session",
		"--clearenv",
	}
	for _, kv := range cfg.env(SocketPath) {
		k, v, _ := strings.Cut(kv, "=")
		args = append(args, "--setenv", k, v)
	}

	// The sandbox's own file systems first, so that no bind below them is hidden.
	size := strconv.FormatInt(cfg.tmpSize(), 10)
	args = append(args,
		"--dev", "/dev",
		"--size", size, "--tmpfs", "/dev/shm",
		"--proc", "/proc",
		"--size", size, "--tmpfs", "/tmp",
	)

	// Read-only binds, parents before children so none hides another.
	ro := append(slices.Clone(libs), cfg.Executable)
	if ldCache != "" {
		ro = append(ro, ldCache)
	}
	ro = append(ro, cfg.BindRO...)
	slices.Sort(ro)
	for _, p := range slices.Compact(ro) {
		args = append(args, "--ro-bind", p, p)
	}
	if cfg.Socket != "" {
		args = append(args, "--ro-bind", cfg.Socket, SocketPath)
	}

	// Then everything but /tmp and /dev/shm becomes read-only.
	args = append(args,
		"--remount-ro", "/dev",
		"--remount-ro", "/proc",
		"--remount-ro", "/",
	)
	workDir := cfg.WorkDir
	if workDir == "" {
		workDir = "/tmp"
	}
	args = append(args,
		"--chdir", workDir,
		"--seccomp", strconv.Itoa(seccompFD),
		"--json-status-fd", strconv.Itoa(jsonStatusFD),
		"--",
		cfg.Executable,
	)
	return append(args, cfg.Args...)
}

func (c *Config) tmpSize() int64 {
	if c.TmpSize == 0 {
		return DefaultTmpSize
	}
	return c.TmpSize
}

// ldSoCacheIfPresent returns the loader cache's path when the program needs libraries and the
// host has a cache.
func ldSoCacheIfPresent(libs []string) string {
	if len(libs) == 0 {
		return ""
	}
	if _, err := os.Stat(ldSoCache); err != nil {
		return ""
	}
	return ldSoCache
}

// sealedMemfd returns a read-only, sealed in-memory file holding data, positioned at 0.
func sealedMemfd(name string, data []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("sandbox: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("sandbox: writing %s: %w", name, err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE); err != nil {
		f.Close()
		return nil, fmt.Errorf("sandbox: sealing %s: %w", name, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return f, nil
}

// statusReader collects the exit code from bubblewrap's --json-status-fd documents:
// {"child-pid": N, ...} once the sandbox exists and {"exit-code": N} once the program it
// started has exited.
type statusReader struct {
	done chan struct{}
	code *int
}

func newStatusReader(r *os.File) *statusReader {
	s := &statusReader{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer r.Close()
		dec := json.NewDecoder(io.LimitReader(r, 1<<16))
		for {
			var doc struct {
				ExitCode *int `json:"exit-code"`
			}
			if err := dec.Decode(&doc); err != nil {
				return
			}
			if doc.ExitCode != nil {
				s.code = doc.ExitCode
			}
		}
	}()
	return s
}

// exitCode waits for the status stream to end and returns the program's exit code, or nil
// when bubblewrap reported none.
func (s *statusReader) exitCode() *int {
	<-s.done
	return s.code
}

// tailWriter passes writes on to w (if any) and keeps the last max bytes.
type tailWriter struct {
	w   io.Writer
	max int

	mu   sync.Mutex
	tail []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.tail = append(t.tail, p...)
	if over := len(t.tail) - t.max; over > 0 {
		t.tail = append(t.tail[:0], t.tail[over:]...)
	}
	t.mu.Unlock()
	if t.w == nil {
		return len(p), nil
	}
	return t.w.Write(p)
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.tail)
}

var _ Provisioner = (*Bubblewrap)(nil)
