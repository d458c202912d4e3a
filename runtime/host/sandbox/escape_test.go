package sandbox

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSandboxedProgramCannotConnectToAHostTCPListener(t *testing.T) {
	b := newTestBubblewrap(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	r := probe(t, b, Config{}, "tcp", ln.Addr().String())
	if r.OK {
		t.Fatalf("the sandboxed program connected to %s", ln.Addr())
	}
	if r.Errno != "EPERM" {
		t.Errorf("dialing TCP failed with %q (%s), want EPERM from seccomp", r.Errno, r.Err)
	}
	// The program has exited; a connection it made would be waiting in the backlog already.
	if err := ln.(*net.TCPListener).SetDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if c, err := ln.Accept(); err == nil {
		c.Close()
		t.Fatalf("the host listener accepted a connection from %s", c.RemoteAddr())
	} else if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Accept: %v", err)
	}
}

func TestSandboxedProgramSeesNoNetworkInterfaceButLoopback(t *testing.T) {
	b := newTestBubblewrap(t)
	r := probe(t, b, Config{}, "ifaces")
	if r.Out != "lo" {
		t.Errorf("/proc/net/dev lists %q, want only lo", r.Out)
	}
	if r.Errno != "EPERM" {
		t.Errorf("net.Interfaces (a netlink socket) failed with %q (%s), want EPERM", r.Errno, r.Err)
	}
}

func TestSandboxedProgramCannotReadHostFiles(t *testing.T) {
	b := newTestBubblewrap(t)
	dataDir := t.TempDir()
	secret := filepath.Join(dataDir, "node.key")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	nextToExecutable := filepath.Join(filepath.Dir(escapeBin), "neighbour")
	if err := os.WriteFile(nextToExecutable, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(nextToExecutable)

	for _, path := range []string{"/etc/shadow", "/etc/passwd", secret, dataDir, nextToExecutable, "/root", "/var/lib"} {
		t.Run(path, func(t *testing.T) {
			if r := probe(t, b, Config{}, "read", path); r.OK || r.Errno != "ENOENT" {
				t.Errorf("reading %s: %+v, want ENOENT", path, r)
			}
		})
	}
}

func TestSandboxedProgramCanWriteOnlyToItsTmpfs(t *testing.T) {
	b := newTestBubblewrap(t)
	exeDir := filepath.Dir(escapeBin)
	for _, c := range []struct {
		probe, path, errno string
	}{
		{"write", "/escaped", "EROFS"},
		{"mkdir", "/escaped", "EROFS"},
		{"write", escapeBin, "EROFS"},
		{"write", filepath.Join(exeDir, "escaped"), "EROFS"}, // a directory bubblewrap created
		{"write", "/dev/escaped", "EROFS"},
		{"write", "/proc/sys/vm/swappiness", "EROFS"}, // root-owned sysctls are owner-writable
		{"write", "/proc/self/comm", "EROFS"},
		{"write", "/run/atoll/escaped", "ENOENT"},
	} {
		t.Run(c.probe+" "+c.path, func(t *testing.T) {
			if strings.HasPrefix(c.path, "/tmp/") {
				t.Skip("the executable lives below /tmp, which is the sandbox's own writable tmpfs")
			}
			if r := probe(t, b, Config{}, c.probe, c.path); r.OK || r.Errno != c.errno {
				t.Errorf("%s %s: %+v, want %s", c.probe, c.path, r, c.errno)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(exeDir, "escaped")); err == nil {
		t.Errorf("a file appeared next to the executable on the host")
	}
	for _, path := range []string{"/tmp/ok", "relative-to-workdir", "/dev/shm/ok"} {
		if r := probe(t, b, Config{}, "write", path); !r.OK {
			t.Errorf("writing %s: %+v, want success", path, r)
		}
	}
}

func TestSandboxedProgramCannotSeeHostProcesses(t *testing.T) {
	b := newTestBubblewrap(t)
	r := probe(t, b, Config{}, "procs")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	procs := strings.Split(r.Out, "\n")
	// PID 1 is bubblewrap's reaper, PID 2 the program itself.
	if len(procs) > 2 {
		t.Errorf("the sandbox sees %d processes, want at most 2:\n%s", len(procs), r.Out)
	}
	for _, p := range procs {
		if strings.Contains(p, self) || strings.HasPrefix(p, strconv.Itoa(os.Getpid())+"=") && strings.Contains(p, filepath.Base(self)) {
			t.Errorf("the sandbox sees the test process: %s", p)
		}
	}
}

func TestSeccompRefusesEscapeSyscallsAndAllowsThreadsAndForks(t *testing.T) {
	b := newTestBubblewrap(t)
	for _, c := range []struct {
		call  string
		errno string // "" means the call succeeds
	}{
		{"ptrace", "EPERM"},
		{"mount", "EPERM"},
		{"umount", "EPERM"},
		{"unshare_user", "EPERM"},
		{"unshare_net", "EPERM"},
		{"setns", "EPERM"},
		{"bpf", "EPERM"},
		{"keyctl", "EPERM"},
		{"kexec_load", "EPERM"},
		{"userfaultfd", "EPERM"},
		{"clone_newuser", "EPERM"},
		{"clone_newnet", "EPERM"},
		{"socket_inet", "EPERM"},
		{"socket_inet6", "EPERM"},
		{"socket_netlink", "EPERM"},
		{"clone3", "ENOSYS"},
		{"clone_fork", ""},
		{"socket_unix", ""},
	} {
		t.Run(c.call, func(t *testing.T) {
			r := probe(t, b, Config{}, "syscall", c.call)
			if c.errno == "" && !r.OK {
				t.Errorf("%s failed: %+v", c.call, r)
			}
			if c.errno != "" && (r.OK || r.Errno != c.errno) {
				t.Errorf("%s: %+v, want %s", c.call, r, c.errno)
			}
		})
	}
}

func TestSandboxedProgramRunsOnManyThreads(t *testing.T) {
	b := newTestBubblewrap(t)
	const n = 32
	r := probe(t, b, Config{}, "threads", strconv.Itoa(n))
	got, err := strconv.Atoi(r.Out)
	if !r.OK || err != nil || got < n {
		t.Fatalf("threads: %+v, want at least %d threads", r, n)
	}
}

func TestSandboxedProgramRunsUnderSeccompWithoutCapabilities(t *testing.T) {
	b := newTestBubblewrap(t)
	r := probe(t, b, Config{}, "status")
	for _, want := range []string{"Seccomp: 2", "NoNewPrivs: 1", "CapEff: 0000000000000000", "CapPrm: 0000000000000000", "CapBnd: 0000000000000000"} {
		if !strings.Contains(r.Out, want) {
			t.Errorf("/proc/self/status lacks %q:\n%s", want, r.Out)
		}
	}
}

func TestSandboxedProgramGetsOnlyItsEnvironmentAndDescriptors(t *testing.T) {
	b := newTestBubblewrap(t)
	t.Setenv("ATOLL_TEST_LEAK", "leaked")
	r := probe(t, b, Config{Env: []string{"A=1", "B=two words"}}, "env")
	// bubblewrap sets PWD after --chdir.
	if got, want := r.Out, "A=1\nB=two words\nPWD=/tmp"; got != want {
		t.Errorf("environment %q, want %q", got, want)
	}
	r = probe(t, b, Config{}, "fds")
	// 0, 1 and 2, and 3 being the directory the helper lists.
	fds := strings.Split(r.Out, ",")
	if len(fds) != 4 || !strings.HasPrefix(fds[3], "3=") {
		t.Errorf("open descriptors %q, want only 0, 1, 2 and the helper's own 3", r.Out)
	}
}

func TestSandboxedProgramReachesTheBoundHostSocket(t *testing.T) {
	b := newTestBubblewrap(t)
	sock := filepath.Join(t.TempDir(), "host.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		got <- string(buf[:n])
	}()

	r := probe(t, b, Config{Socket: sock}, "unix", SocketPath, "hello host")
	if !r.OK {
		t.Fatalf("connecting to %s: %+v", SocketPath, r)
	}
	select {
	case msg := <-got:
		if msg != "hello host" {
			t.Fatalf("the host received %q", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the host listener received nothing")
	}
	if r := probe(t, b, Config{Socket: sock}, "env"); !strings.Contains(r.Out, SocketEnv+"="+SocketPath) {
		t.Errorf("environment %q lacks %s=%s", r.Out, SocketEnv, SocketPath)
	}
	if r := probe(t, b, Config{Socket: sock}, "read", filepath.Dir(sock)); r.Errno != "ENOENT" {
		t.Errorf("the socket's host directory is visible: %+v", r)
	}
}
