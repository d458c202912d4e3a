// Package sandbox starts runtime executables and hands back a handle to the running process.
//
// The default Provisioner is Bubblewrap: every runtime runs under bubblewrap in fresh user,
// mount, PID, network, IPC, UTS and cgroup namespaces, with no capabilities, no way to create
// further user namespaces, a new session, and the seccomp allow-list of package seccomp. Its
// file system is an empty read-only tmpfs holding only: the executable and the libraries it
// needs (read-only), the extra read-only binds of Config.BindRO, a private size-capped tmpfs at
// /tmp (the only writable place besides /dev/shm), a minimal read-only /dev, a read-only /proc
// of its own PID namespace, and the host socket at SocketPath: the runtime's only channel to
// the world. The network namespace holds nothing but a loopback interface, and the seccomp
// policy refuses every socket family but AF_UNIX anyway.
//
// Users: bubblewrap maps the sandbox's user to the node's user. Run as an unprivileged user
// (the recommended set-up), bubblewrap needs unprivileged user namespaces, which some kernels
// disable (Debian's kernel.unprivileged_userns_clone, Ubuntu's AppArmor restriction, a
// user.max_user_namespaces of 0); Preflight detects that and names the sysctl to set. Run as
// root, it needs no such setting, but the sandbox's user is then the host's root: it has no
// capabilities, yet the kernel's owner checks see root, which is why /proc is mounted
// read-only (its sysctl files are root-owned and owner-writable) and why nothing is bound that
// is not listed above. Needs bubblewrap 0.8 or newer (--assert-userns-disabled).
//
// Only the standard streams reach a started program: Start marks every descriptor of this
// process above 2 close-on-exec first (Go opens its own that way, but inherited ones are not,
// and would otherwise pass into every sandbox).
//
// NewUnsafeProcessProvisioner runs executables without any sandbox, for debugging only.
//
// Concurrency: Provisioners and Processes are safe for concurrent use. A Process's Wait may be
// called any number of times from any goroutine; Kill may be called at any time, also after
// the process has exited.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"syscall"
)

// SocketPath is where Config.Socket appears inside the sandbox.
const SocketPath = "/run/atoll/host.sock"

// SocketEnv is the environment variable through which a started program learns where its host
// socket is (SocketPath inside the sandbox; the host path under the unsafe provisioner). It is
// set only when Config.Socket is.
const SocketEnv = "ATOLL_HOST_SOCKET"

// DefaultTmpSize is the size cap of the sandbox's /tmp and /dev/shm when Config.TmpSize is 0.
const DefaultTmpSize = 256 << 20

var (
	// ErrInvalidConfig is returned by Start for a Config that fails Validate.
	ErrInvalidConfig = errors.New("sandbox: invalid config")
	// ErrNotExecutable is returned when the executable (or a script's interpreter) is not an
	// ELF file or cannot be read.
	ErrNotExecutable = errors.New("sandbox: not an executable")
	// ErrLibraryNotFound is returned when a shared library an executable needs is nowhere on
	// the loader's search path.
	ErrLibraryNotFound = errors.New("sandbox: shared library not found")
	// ErrBubblewrapMissing is returned when bwrap is not installed.
	ErrBubblewrapMissing = errors.New("sandbox: bubblewrap (bwrap) is not installed; install bubblewrap: apt-get install -y bubblewrap")
	// ErrUserNamespaces is returned by Preflight when the kernel refuses the user namespace
	// the sandbox needs; the wrapping error names the setting to change.
	ErrUserNamespaces = errors.New("sandbox: the kernel refuses to create user namespaces")
	// ErrUnavailable is returned by Preflight when the sandbox cannot start for another
	// reason; the wrapping error carries bubblewrap's own message.
	ErrUnavailable = errors.New("sandbox: the sandbox cannot start")
	// ErrSetupFailed is returned by Wait when bubblewrap exited before it started the
	// program (a bind source that does not exist, a kernel that refuses a namespace, ...).
	ErrSetupFailed = errors.New("sandbox: bubblewrap failed before starting the program")
)

// Config describes one program to start.
type Config struct {
	// Executable is the absolute host path of the program. Under Bubblewrap it is bound
	// read-only at the same path, with the ELF interpreter and shared libraries it needs.
	Executable string
	// Args are the program's arguments, without argv[0] (which is Executable).
	Args []string
	// Env is the program's whole environment as KEY=VALUE pairs; nothing is inherited.
	Env []string
	// BindRO lists extra absolute host paths (files or directories) bound read-only at the
	// same path, for example a runtime bundle's directory.
	BindRO []string
	// Socket is the absolute host path of a Unix socket to make reachable at SocketPath.
	// Empty means none.
	Socket string
	// WorkDir is the working directory, a path inside the sandbox; empty means /tmp. Under the
	// unsafe provisioner it is a host path and empty means the host process's directory.
	WorkDir string
	// TmpSize caps /tmp and /dev/shm in bytes; 0 means DefaultTmpSize.
	TmpSize int64
	// Stdin, Stdout and Stderr are the program's standard streams; nil means /dev/null. A
	// writer that is not an *os.File is fed by a goroutine until the program exits.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Validate checks the parts of c that do not touch the file system.
func (c *Config) Validate() error {
	if !isCleanAbs(c.Executable) {
		return fmt.Errorf("%w: executable %q is not a clean absolute path", ErrInvalidConfig, c.Executable)
	}
	for _, kv := range c.Env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.ContainsRune(kv, 0) {
			return fmt.Errorf("%w: environment entry %q is not KEY=VALUE", ErrInvalidConfig, kv)
		}
	}
	for _, arg := range c.Args {
		if strings.ContainsRune(arg, 0) {
			return fmt.Errorf("%w: argument %q contains NUL", ErrInvalidConfig, arg)
		}
	}
	for _, p := range c.BindRO {
		if !isCleanAbs(p) {
			return fmt.Errorf("%w: bind %q is not a clean absolute path", ErrInvalidConfig, p)
		}
	}
	if c.Socket != "" && !isCleanAbs(c.Socket) {
		return fmt.Errorf("%w: socket %q is not a clean absolute path", ErrInvalidConfig, c.Socket)
	}
	if c.WorkDir != "" && !isCleanAbs(c.WorkDir) {
		return fmt.Errorf("%w: work dir %q is not a clean absolute path", ErrInvalidConfig, c.WorkDir)
	}
	if c.TmpSize < 0 {
		return fmt.Errorf("%w: negative tmp size %d", ErrInvalidConfig, c.TmpSize)
	}
	return nil
}

func isCleanAbs(p string) bool {
	return p != "" && filepath.IsAbs(p) && filepath.Clean(p) == p && !strings.ContainsRune(p, 0)
}

// env returns c.Env with SocketEnv set to socketPath when a socket is configured (replacing
// any SocketEnv entry of c.Env).
func (c *Config) env(socketPath string) []string {
	var env []string
	for _, kv := range c.Env {
		if c.Socket != "" && strings.HasPrefix(kv, SocketEnv+"=") {
			continue
		}
		env = append(env, kv)
	}
	if c.Socket != "" {
		env = append(env, SocketEnv+"="+socketPath)
	}
	return env
}

// Provisioner starts programs.
type Provisioner interface {
	// Preflight checks that programs can be started at all and returns an error that says
	// how to fix the host when they cannot. Call it once at start-up.
	Preflight(ctx context.Context) error
	// Start starts the program cfg describes. The process is killed when ctx is done; it
	// also dies when this process dies.
	Start(ctx context.Context, cfg Config) (Process, error)
}

// Process is a started program.
type Process interface {
	// PID is the host process ID of the outermost process started (bubblewrap itself under
	// the Bubblewrap provisioner).
	PID() int
	// Wait blocks until the program has exited and its output has been copied. The error is
	// non-nil only when the program could not be run or waited for; a program that ran and
	// failed is reported in ExitStatus alone.
	Wait() (ExitStatus, error)
	// Done is closed when the program has exited and Wait would not block.
	Done() <-chan struct{}
	// Kill kills the program and everything it started. It returns before the program is
	// reaped; call Wait for that. Killing an exited program does nothing.
	Kill() error
}

// ExitStatus is how a program ended.
type ExitStatus struct {
	// Code is the exit code; a program killed by a signal has 128 + the signal number, as
	// shells report it.
	Code int
	// Signal is the signal that killed the started process, or 0. Under Bubblewrap that is
	// the sandbox itself (for example after Kill); a program killed by a signal inside the
	// sandbox is reported by bubblewrap as Code 128 + n only.
	Signal syscall.Signal
}

// Success reports whether the program exited with code 0.
func (s ExitStatus) Success() bool { return s.Code == 0 && s.Signal == 0 }

func (s ExitStatus) String() string {
	if s.Signal != 0 {
		return fmt.Sprintf("killed by signal %d (%v)", int(s.Signal), s.Signal)
	}
	return fmt.Sprintf("exit status %d", s.Code)
}
