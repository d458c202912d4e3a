package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestExitCodesPassThroughTheSandbox(t *testing.T) {
	b := newTestBubblewrap(t)
	for _, code := range []int{0, 1, 3, 42, 255} {
		_, _, status := run(t, b, Config{Executable: escapeBin, Args: []string{"exit", fmt.Sprint(code)}})
		if status.Code != code || status.Signal != 0 {
			t.Errorf("exit %d: got %v", code, status)
		}
	}
}

// lineWaiter is an io.Writer that reports when a given line has been written.
type lineWaiter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func newLineWaiter(want string) *lineWaiter {
	return &lineWaiter{want: want, seen: make(chan struct{})}
}

func (w *lineWaiter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want+"\n") {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// hostProcessesWith returns the host PIDs whose command line contains token.
func hostProcessesWith(token string) []string {
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(token)) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// startSleeper starts the helper's sleep probe, tagged with a token unique to the test, and
// waits until it runs.
func startSleeper(t *testing.T, ctx context.Context, p Provisioner) (Process, string) {
	t.Helper()
	token := fmt.Sprintf("atoll-sleeper-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))
	ready := newLineWaiter("ready")
	proc, err := p.Start(ctx, Config{Executable: escapeBin, Args: []string{"sleep", token}, Stdout: ready})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	select {
	case <-ready.seen:
	case <-proc.Done():
		status, err := proc.Wait()
		t.Fatalf("the sleeper exited early: %v, %v", status, err)
	case <-time.After(30 * time.Second):
		_ = proc.Kill()
		t.Fatal("the sleeper did not start")
	}
	if len(hostProcessesWith(token)) == 0 {
		t.Fatal("the sleeper is not visible on the host")
	}
	return proc, token
}

// waitGone waits until no host process carries token.
func waitGone(t *testing.T, token string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := hostProcessesWith(token)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %v still run after the sandbox was killed", pids)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKillKillsEveryProcessOfTheSandbox(t *testing.T) {
	for _, c := range []struct {
		name string
		p    func(*testing.T) Provisioner
	}{
		{"bubblewrap", func(t *testing.T) Provisioner { return newTestBubblewrap(t) }},
		{"unsafe", func(*testing.T) Provisioner { return NewUnsafeProcessProvisioner(slog.New(slog.DiscardHandler)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			proc, token := startSleeper(t, context.Background(), c.p(t))
			if err := proc.Kill(); err != nil {
				t.Fatalf("Kill: %v", err)
			}
			status, err := proc.Wait()
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if status.Signal != syscall.SIGKILL || status.Code != 128+int(syscall.SIGKILL) {
				t.Errorf("status %+v, want killed by SIGKILL", status)
			}
			waitGone(t, token)
			if err := proc.Kill(); err != nil {
				t.Errorf("Kill after exit: %v", err)
			}
		})
	}
}

func TestCancellingTheContextKillsTheSandbox(t *testing.T) {
	b := newTestBubblewrap(t)
	ctx, cancel := context.WithCancel(context.Background())
	proc, token := startSleeper(t, ctx, b)
	cancel()
	if status, err := proc.Wait(); err != nil || status.Signal != syscall.SIGKILL {
		t.Fatalf("Wait: %v, %v; want killed by SIGKILL", status, err)
	}
	waitGone(t, token)
}

func TestDynamicallyLinkedProgramsRunWithTheirLibraries(t *testing.T) {
	b := newTestBubblewrap(t)
	sh := "/bin/sh"
	if _, err := os.Stat(sh); err != nil {
		t.Skipf("no %s: %v", sh, err)
	}
	out, errOut, status := run(t, b, Config{Executable: sh, Args: []string{"-c",
		"echo hello; (exit 7); echo subshell=$?; echo x > /escaped || echo write-refused; " +
			"if read line < /etc/shadow; then echo shadow-read; fi; exit 5"}})
	if status.Code != 5 {
		t.Errorf("sh exited with %v, want 5 (stderr %q)", status, errOut)
	}
	for _, want := range []string{"hello\n", "subshell=7\n", "write-refused\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("sh printed %q, want it to contain %q (stderr %q)", out, want, errOut)
		}
	}
	if strings.Contains(out, "shadow-read") {
		t.Errorf("sh read /etc/shadow")
	}

	cat := "/usr/bin/cat"
	if _, err := os.Stat(cat); err != nil {
		t.Skipf("no %s: %v", cat, err)
	}
	out, errOut, status = run(t, b, Config{Executable: cat, Args: []string{"/proc/self/status"}})
	if !status.Success() || !strings.Contains(out, "Seccomp:\t2") || !strings.Contains(out, "NoNewPrivs:\t1") {
		t.Errorf("cat /proc/self/status: %v, stdout %q, stderr %q", status, out, errOut)
	}
	_, errOut, status = run(t, b, Config{Executable: cat, Args: []string{"/etc/shadow"}})
	if status.Success() || !strings.Contains(errOut, "No such file") {
		t.Errorf("cat /etc/shadow: %v, stderr %q; want a failure", status, errOut)
	}
}

func TestPreflightPassesWhereTheSandboxWorks(t *testing.T) {
	b := newTestBubblewrap(t)
	if err := b.Preflight(context.Background()); err != nil {
		t.Fatalf("Preflight: %v", err)
	}
}

func TestPreflightReportsAMissingBubblewrap(t *testing.T) {
	b, err := NewBubblewrap(BubblewrapOptions{Path: filepath.Join(t.TempDir(), "no-bwrap")})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Preflight(context.Background())
	if !errors.Is(err, ErrBubblewrapMissing) || !strings.Contains(err.Error(), "apt-get install -y bubblewrap") {
		t.Fatalf("Preflight: %v, want ErrBubblewrapMissing naming the fix", err)
	}
}

func TestSetupFailureIsAnErrorNotAnExitCode(t *testing.T) {
	b := newTestBubblewrap(t)
	for _, cfg := range []Config{
		{BindRO: []string{filepath.Join(t.TempDir(), "missing")}},
		{WorkDir: "/missing"},
	} {
		cfg.Executable, cfg.Args = escapeBin, []string{"exit", "1"}
		proc, err := b.Start(context.Background(), cfg)
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		if _, err := proc.Wait(); !errors.Is(err, ErrSetupFailed) || !strings.Contains(err.Error(), "missing") {
			t.Errorf("Wait: %v, want ErrSetupFailed quoting bubblewrap", err)
		}
	}
}

func TestStartRejectsAnInvalidConfig(t *testing.T) {
	b, err := NewBubblewrap(BubblewrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []Config{
		{Executable: "relative/prog"},
		{Executable: "/bin/../bin/sh"},
		{Executable: "/bin/sh", Env: []string{"NOEQUALS"}},
		{Executable: "/bin/sh", Env: []string{"=value"}},
		{Executable: "/bin/sh", BindRO: []string{"data"}},
		{Executable: "/bin/sh", Socket: "host.sock"},
		{Executable: "/bin/sh", WorkDir: "tmp"},
		{Executable: "/bin/sh", TmpSize: -1},
		{Executable: "/bin/sh", Args: []string{"a\x00b"}},
	} {
		if _, err := b.Start(context.Background(), cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("Start(%+v): %v, want ErrInvalidConfig", cfg, err)
		}
	}
}

func TestUnsafeProvisionerRunsAPlainProcessAndSaysSoLoudly(t *testing.T) {
	var logs bytes.Buffer
	p := NewUnsafeProcessProvisioner(slog.New(slog.NewTextHandler(&logs, nil)))
	if err := p.Preflight(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, _, status := run(t, p, Config{Executable: escapeBin, Args: []string{"exit", "3"}})
	if status.Code != 3 {
		t.Errorf("exit code %v, want 3", status)
	}
	r := probe(t, p, Config{Env: []string{"A=1"}, Socket: "/run/x.sock"}, "env")
	if r.Out != "A=1\n"+SocketEnv+"=/run/x.sock" {
		t.Errorf("environment %q", r.Out)
	}
	if got := strings.Count(logs.String(), "UNSAFE"); got < 3 {
		t.Errorf("%d UNSAFE warnings logged, want one at construction and one per start:\n%s", got, logs.String())
	}
}

func TestBubblewrapArgumentsCarryTheDesignFlags(t *testing.T) {
	cfg := &Config{
		Executable: "/opt/rt/bin/runtime",
		Args:       []string{"--flag"},
		Env:        []string{"K=V"},
		BindRO:     []string{"/opt/rt", "/usr/share/zoneinfo"},
		Socket:     "/var/lib/atoll/rt.sock",
	}
	args := bwrapArgs(cfg, []string{"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6"}, ldSoCache)
	joined := strings.Join(args, " ")
	for _, want := range []string{
		"--unshare-all --unshare-user --disable-userns --assert-userns-disabled --cap-drop ALL --die-with-parent --new-session --clearenv",
		"--setenv K V --setenv " + SocketEnv + " " + SocketPath,
		"--dev /dev", "--proc /proc", "--tmpfs /tmp",
		"--ro-bind /etc/ld.so.cache /etc/ld.so.cache --ro-bind /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libc.so.6 --ro-bind /lib64/ld-linux-x86-64.so.2 /lib64/ld-linux-x86-64.so.2 --ro-bind /opt/rt /opt/rt --ro-bind /opt/rt/bin/runtime /opt/rt/bin/runtime --ro-bind /usr/share/zoneinfo /usr/share/zoneinfo",
		"--ro-bind /var/lib/atoll/rt.sock " + SocketPath,
		"--remount-ro /dev --remount-ro /proc --remount-ro /",
		"--chdir /tmp --seccomp 3 --json-status-fd 4 -- /opt/rt/bin/runtime --flag",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("arguments lack %q:\n%s", want, joined)
		}
	}
	// The tmpfs mounts come before the binds, so a bind below /tmp stays visible.
	if slices.Index(args, "/tmp") > slices.Index(args, "--ro-bind") {
		t.Errorf("/tmp is mounted after the binds:\n%s", joined)
	}
	if !strings.HasSuffix(joined, "-- /opt/rt/bin/runtime --flag") {
		t.Errorf("arguments do not end with the program:\n%s", joined)
	}
}
