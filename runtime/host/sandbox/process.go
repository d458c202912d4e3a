package sandbox

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// waitDelay bounds how long Wait keeps copying output after the program has exited, when
// something it started still holds its output pipes.
const waitDelay = 5 * time.Second

// finishFunc turns the result of exec.Cmd.Wait into the Process's exit status and error.
type finishFunc func(state *os.ProcessState, waitErr error) (ExitStatus, error)

// process is a started exec.Cmd whose process group is killed on Kill.
type process struct {
	cmd    *exec.Cmd
	finish finishFunc
	done   chan struct{}

	mu     sync.Mutex
	exited bool // the leader has exited; its PID and process group may be reused once reaped

	status ExitStatus
	err    error
}

// startProcess starts cmd as the leader of a new process group, killed with SIGKILL if this
// process dies, and killed when ctx is done.
func startProcess(ctx context.Context, cmd *exec.Cmd, finish finishFunc) (*process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.WaitDelay = waitDelay
	if err := markInheritedCloseOnExec(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, finish: finish, done: make(chan struct{})}
	go p.wait()
	if ctx.Done() != nil {
		go func() {
			select {
			case <-ctx.Done():
				_ = p.Kill()
			case <-p.done:
			}
		}()
	}
	return p, nil
}

// markInheritedCloseOnExec sets FD_CLOEXEC on every descriptor of this process above 2. Go
// opens its own descriptors close-on-exec, but descriptors this process inherited are not,
// and exec.Cmd passes them on to every child: into the sandbox. Only exec.Cmd's standard
// streams and ExtraFiles reach a child after this.
func markInheritedCloseOnExec() error {
	if err := unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return nil
	}
	// Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("sandbox: listing open descriptors: %w", err)
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil && !errors.Is(err, unix.EBADF) {
			return fmt.Errorf("sandbox: marking descriptor %d close-on-exec: %w", fd, err)
		}
	}
	return nil
}

func (p *process) wait() {
	// Wait for the exit without reaping first, so that Kill never signals a process group
	// whose ID the kernel could already have handed to someone else.
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, p.cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	p.mu.Lock()
	p.exited = true
	p.mu.Unlock()
	waitErr := p.cmd.Wait()
	p.status, p.err = p.finish(p.cmd.ProcessState, waitErr)
	close(p.done)
}

func (p *process) PID() int { return p.cmd.Process.Pid }

func (p *process) Done() <-chan struct{} { return p.done }

func (p *process) Wait() (ExitStatus, error) {
	<-p.done
	return p.status, p.err
}

func (p *process) Kill() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return nil
	}
	pid := p.cmd.Process.Pid
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("sandbox: killing process group %d: %w", pid, err)
	}
	return nil
}

// statusOf converts a process state into an ExitStatus.
func statusOf(state *os.ProcessState) ExitStatus {
	if state == nil {
		return ExitStatus{Code: -1}
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ExitStatus{Code: 128 + int(ws.Signal()), Signal: ws.Signal()}
	}
	return ExitStatus{Code: state.ExitCode()}
}

// waitError keeps the errors of exec.Cmd.Wait that are not a plain non-zero exit.
func waitError(waitErr error) error {
	var exitErr *exec.ExitError
	if waitErr == nil || errors.As(waitErr, &exitErr) {
		return nil
	}
	return fmt.Errorf("sandbox: waiting: %w", waitErr)
}
