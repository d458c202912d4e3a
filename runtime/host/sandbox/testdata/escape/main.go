// Command escape is the sandbox tests' helper: run inside the sandbox, it attempts one escape
// (or one thing a runtime must still be able to do) and prints the outcome as one JSON line
// {"ok": bool, "errno": "...", "err": "...", "out": "..."}. It is built statically by
// TestMain; it is not part of the atoll binary.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

type result struct {
	OK    bool   `json:"ok"`
	Errno string `json:"errno,omitempty"`
	Err   string `json:"err,omitempty"`
	Out   string `json:"out,omitempty"`
}

func report(out string, err error) {
	r := result{OK: err == nil, Out: out}
	if err != nil {
		r.Err = err.Error()
		var errno unix.Errno
		if errors.As(err, &errno) {
			r.Errno = unix.ErrnoName(errno)
		}
	}
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: escape PROBE [ARGS]")
		os.Exit(2)
	}
	arg := func(i int) string {
		if len(os.Args) <= i {
			fmt.Fprintf(os.Stderr, "probe %s needs argument %d\n", os.Args[1], i-1)
			os.Exit(2)
		}
		return os.Args[i]
	}
	switch probe := os.Args[1]; probe {
	case "tcp":
		c, err := net.DialTimeout("tcp", arg(2), 2*time.Second)
		if err == nil {
			c.Close()
		}
		report("", err)
	case "unix":
		c, err := net.Dial("unix", arg(2))
		if err == nil {
			_, err = c.Write([]byte(arg(3)))
			c.Close()
		}
		report("", err)
	case "ifaces":
		data, err := os.ReadFile("/proc/net/dev")
		var names []string
		for _, line := range strings.Split(string(data), "\n") {
			if name, _, ok := strings.Cut(line, ":"); ok {
				names = append(names, strings.TrimSpace(name))
			}
		}
		if err == nil {
			_, err = net.Interfaces()
		}
		report(strings.Join(names, ","), err)
	case "read":
		data, err := os.ReadFile(arg(2))
		report(string(data), err)
	case "write":
		report("", os.WriteFile(arg(2), []byte("escaped"), 0o644))
	case "mkdir":
		report("", os.Mkdir(arg(2), 0o755))
	case "procs":
		entries, err := os.ReadDir("/proc")
		var procs []string
		for _, e := range entries {
			if _, convErr := strconv.Atoi(e.Name()); convErr != nil {
				continue
			}
			cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			procs = append(procs, e.Name()+"="+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
		report(strings.Join(procs, "\n"), err)
	case "status":
		data, err := os.ReadFile("/proc/self/status")
		var keep []string
		for _, line := range strings.Split(string(data), "\n") {
			for _, k := range []string{"Seccomp:", "NoNewPrivs:", "CapEff:", "CapPrm:", "CapBnd:", "Uid:"} {
				if strings.HasPrefix(line, k) {
					keep = append(keep, strings.Join(strings.Fields(line), " "))
				}
			}
		}
		report(strings.Join(keep, "\n"), err)
	case "fds":
		entries, err := os.ReadDir("/proc/self/fd")
		var fds []string
		for _, e := range entries {
			target, _ := os.Readlink("/proc/self/fd/" + e.Name())
			fds = append(fds, e.Name()+"="+target)
		}
		sort.Strings(fds)
		report(strings.Join(fds, ","), err)
	case "env":
		report(strings.Join(os.Environ(), "\n"), nil)
	case "threads":
		n, _ := strconv.Atoi(arg(2))
		report(threads(n))
	case "syscall":
		report("", syscallProbe(arg(2)))
	case "exit":
		code, _ := strconv.Atoi(arg(2))
		os.Exit(code)
	case "sleep":
		fmt.Println("ready")
		for {
			time.Sleep(time.Hour)
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown probe %q\n", probe)
		os.Exit(2)
	}
}

// threads starts n goroutines, each locked to its own OS thread, and returns how many threads
// the process has while they all run.
func threads(n int) (string, error) {
	var started, release sync.WaitGroup
	started.Add(n)
	release.Add(1)
	for range n {
		go func() {
			runtime.LockOSThread()
			started.Done()
			release.Wait()
		}()
	}
	started.Wait()
	tasks, err := os.ReadDir("/proc/self/task")
	release.Done()
	return strconv.Itoa(len(tasks)), err
}

// rawClone calls clone(flags) like fork; a child that is created exits at once.
func rawClone(flags uintptr) error {
	r, _, e := unix.RawSyscall6(unix.SYS_CLONE, flags|uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 {
		return e
	}
	if r == 0 {
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	}
	var ws unix.WaitStatus
	_, _ = unix.Wait4(int(r), &ws, 0, nil)
	return nil
}

func syscallProbe(name string) error {
	switch name {
	case "ptrace":
		_, _, e := unix.Syscall(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0)
		return errnoErr(e)
	case "mount":
		return unix.Mount("none", "/tmp", "tmpfs", 0, "")
	case "umount":
		return unix.Unmount("/tmp", unix.MNT_DETACH)
	case "unshare_user":
		return unix.Unshare(unix.CLONE_NEWUSER)
	case "unshare_net":
		return unix.Unshare(unix.CLONE_NEWNET)
	case "setns":
		fd, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening /proc/self/ns/net: %w", err)
		}
		defer unix.Close(fd)
		return unix.Setns(fd, 0)
	case "bpf":
		_, _, e := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, 0, 0)
		return errnoErr(e)
	case "keyctl":
		_, _, e := unix.Syscall(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, uintptr(0xfffffffd), 0) // KEY_SPEC_SESSION_KEYRING
		return errnoErr(e)
	case "kexec_load":
		_, _, e := unix.Syscall6(unix.SYS_KEXEC_LOAD, 0, 0, 0, 0, 0, 0)
		return errnoErr(e)
	case "userfaultfd":
		_, _, e := unix.Syscall(unix.SYS_USERFAULTFD, 0, 0, 0)
		return errnoErr(e)
	case "clone_newuser":
		return rawClone(unix.CLONE_NEWUSER)
	case "clone_newnet":
		return rawClone(unix.CLONE_NEWNET)
	case "clone_fork":
		return rawClone(0)
	case "clone3":
		_, _, e := unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
		return errnoErr(e)
	case "socket_inet":
		return socketProbe(unix.AF_INET, unix.SOCK_STREAM)
	case "socket_inet6":
		return socketProbe(unix.AF_INET6, unix.SOCK_DGRAM)
	case "socket_netlink":
		return socketProbe(unix.AF_NETLINK, unix.SOCK_RAW)
	case "socket_unix":
		return socketProbe(unix.AF_UNIX, unix.SOCK_STREAM)
	default:
		return fmt.Errorf("unknown syscall probe %q", name)
	}
}

func socketProbe(domain, typ int) error {
	fd, err := unix.Socket(domain, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}
