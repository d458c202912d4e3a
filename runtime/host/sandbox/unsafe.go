package sandbox

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
)

// unsafeProcess runs programs as plain child processes.
type unsafeProcess struct {
	logger *slog.Logger
}

// NewUnsafeProcessProvisioner returns a Provisioner that runs programs as plain child
// processes with NO SANDBOX AT ALL: they see the whole file system, the network, every host
// process, and run with this process's user and capabilities. It exists to debug runtimes on
// machines without bubblewrap and must never be used for runtimes whose code is not trusted
// completely; nothing selects it by default.
//
// The program gets exactly Config.Env (plus SocketEnv set to Config.Socket's host path),
// Config.WorkDir as a host directory, and its standard streams; Config.BindRO and TmpSize
// mean nothing here. Kill kills the program's process group. A warning is logged when the
// provisioner is made and at every start; logger must not be nil.
func NewUnsafeProcessProvisioner(logger *slog.Logger) Provisioner {
	logger = logger.With("module", "sandbox")
	logger.Warn("UNSAFE: runtimes will run WITHOUT A SANDBOX (plain processes with full host access); use only for debugging trusted code")
	return &unsafeProcess{logger: logger}
}

// Preflight has nothing to check: a plain process can always be started.
func (u *unsafeProcess) Preflight(context.Context) error { return nil }

// Start starts cfg.Executable as a plain process.
func (u *unsafeProcess) Start(ctx context.Context, cfg Config) (Process, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u.logger.Warn("UNSAFE: starting a program WITHOUT A SANDBOX", "executable", cfg.Executable)
	cmd := exec.Command(cfg.Executable, cfg.Args...)
	cmd.Env = cfg.env(cfg.Socket)
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = cfg.WorkDir
	cmd.Stdin = cfg.Stdin
	cmd.Stdout = cfg.Stdout
	cmd.Stderr = cfg.Stderr
	p, err := startProcess(ctx, cmd, func(state *os.ProcessState, waitErr error) (ExitStatus, error) {
		return statusOf(state), waitError(waitErr)
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox: starting %s: %w", cfg.Executable, err)
	}
	return p, nil
}
