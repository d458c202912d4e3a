package network

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// tailBytes is how much of a node's log an error carries.
const tailBytes = 6 << 10

// process is one run of a node: started once, waited for by its own goroutine.
type process struct {
	cmd *exec.Cmd
	// done is closed when the process has exited; err is then its exit status.
	done chan struct{}
	err  error
	// expected is set (under Network.mu) before the runner signals the process, so that its
	// exit is not reported as a failure.
	expected bool
}

// startProcess starts `binary node --config cfgPath` in dir, in a process group of its own,
// appending its output to logPath after a line that marks the start.
func startProcess(binary, dir, cfgPath, logPath, marker string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("network: opening the log: %w", err)
	}
	fmt.Fprintf(logFile, "=== %s %s ===\n", time.Now().UTC().Format(time.RFC3339Nano), marker)
	cmd := exec.Command(binary, "node", "--config", cfgPath)
	cmd.Dir = dir
	// An *os.File is handed to the child as is: no copying goroutine, nothing lost when the
	// runner's process is busy.
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("network: starting %s: %w", binary, err)
	}
	// The child has its own copy of the descriptor.
	_ = logFile.Close()
	return &process{cmd: cmd, done: make(chan struct{})}, nil
}

// wait waits for the process, then kills whatever is left of its process group.
func (p *process) wait() {
	p.err = p.cmd.Wait()
	p.signalGroup(syscall.SIGKILL)
	close(p.done)
}

// signalGroup signals the process's whole group; a group that is already gone is no error.
func (p *process) signalGroup(sig syscall.Signal) {
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig to the process group and waits for the exit; after timeout it kills the
// group and reports that the process ignored sig.
func (p *process) stop(sig syscall.Signal, timeout time.Duration) error {
	p.signalGroup(sig)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
		p.signalGroup(syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("did not exit within %s of %s and was killed", timeout, sig)
	}
}

// exitDescription describes how a process ended.
func exitDescription(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by " + ws.Signal().String()
		}
		return fmt.Sprintf("exit status %d", ee.ExitCode())
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// logTail returns the last lines of the log at path (at most tailBytes), for error messages.
func logTail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	off := max(0, fi.Size()-tailBytes)
	data, err := io.ReadAll(io.NewSectionReader(f, off, fi.Size()-off))
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	if off > 0 {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return string(data)
}
