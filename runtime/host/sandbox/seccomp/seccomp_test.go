package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// seccompData encodes struct seccomp_data for golang.org/x/net/bpf's VM. The VM reads 32-bit
// words big-endian while the kernel reads them in host order, so each 32-bit field (and each
// half of every 64-bit argument, low half first as on a little-endian kernel) is written
// big-endian: the VM then loads the same values the kernel would.
func seccompData(nr, arch uint32, args ...uint64) []byte {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[offNr:], nr)
	binary.BigEndian.PutUint32(b[offArch:], arch)
	for i, a := range args {
		binary.BigEndian.PutUint32(b[argLow(i):], uint32(a))
		binary.BigEndian.PutUint32(b[argHigh(i):], uint32(a>>32))
	}
	return b
}

const (
	allow = RetAllow
	kill  = RetKillProcess
	eperm = RetErrno | uint32(unix.EPERM)
	enosy = RetErrno | uint32(unix.ENOSYS)
)

func actionName(a uint32) string {
	switch a {
	case allow:
		return "ALLOW"
	case kill:
		return "KILL_PROCESS"
	case eperm:
		return "ERRNO(EPERM)"
	case enosy:
		return "ERRNO(ENOSYS)"
	default:
		return fmt.Sprintf("%#x", a)
	}
}

func run(t *testing.T, f *Filter, data []byte) uint32 {
	t.Helper()
	vm, err := bpf.NewVM(f.Instructions())
	if err != nil {
		t.Fatalf("bpf.NewVM: %v", err)
	}
	out, err := vm.Run(data)
	if err != nil {
		t.Fatalf("vm.Run: %v", err)
	}
	return uint32(out)
}

type vmCase struct {
	name string
	data []byte
	want uint32
}

// Thread flags as Go's runtime (newosproc) and glibc's pthread_create pass them.
const threadFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_SYSVSEM | unix.CLONE_THREAD | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID |
	unix.CLONE_CHILD_CLEARTID

func TestFilterDecidesEachCallAsThePolicySays(t *testing.T) {
	for _, arch := range []Arch{X86_64, AArch64} {
		f, err := NewFilter(arch)
		if err != nil {
			t.Fatalf("NewFilter(%v): %v", arch, err)
		}
		audit, _ := arch.AuditArch()
		table, _ := arch.syscalls()
		nr := func(name string) uint32 {
			n, ok := table[name]
			if !ok {
				t.Fatalf("%v: no syscall %q", arch, name)
			}
			return n
		}
		cases := []vmCase{
			{"read is allowed", seccompData(nr("read"), audit), allow},
			{"write is allowed", seccompData(nr("write"), audit), allow},
			{"futex is allowed", seccompData(nr("futex"), audit), allow},
			{"mmap is allowed", seccompData(nr("mmap"), audit), allow},
			{"epoll_pwait is allowed", seccompData(nr("epoll_pwait"), audit), allow},
			{"exit_group is allowed", seccompData(nr("exit_group"), audit), allow},
			{"execve is allowed", seccompData(nr("execve"), audit), allow},
			{"ptrace fails with EPERM", seccompData(nr("ptrace"), audit), eperm},
			{"mount fails with EPERM", seccompData(nr("mount"), audit), eperm},
			{"unshare fails with EPERM", seccompData(nr("unshare"), audit, unix.CLONE_NEWUSER), eperm},
			{"setns fails with EPERM", seccompData(nr("setns"), audit), eperm},
			{"bpf fails with EPERM", seccompData(nr("bpf"), audit), eperm},
			{"keyctl fails with EPERM", seccompData(nr("keyctl"), audit), eperm},
			{"kexec_load fails with EPERM", seccompData(nr("kexec_load"), audit), eperm},
			{"an unknown call number fails with EPERM", seccompData(999, audit), eperm},
			{"a foreign arch kills", seccompData(nr("read"), unix.AUDIT_ARCH_I386), kill},
			{"a big-endian arch (the LE bit cleared) kills", seccompData(nr("read"), unix.AUDIT_ARCH_AARCH64&^0x40000000), kill},
			{"a thread clone is allowed", seccompData(nr("clone"), audit, threadFlags), allow},
			{"a fork-like clone is allowed", seccompData(nr("clone"), audit, unix.CLONE_CHILD_SETTID|unix.CLONE_CHILD_CLEARTID|uint64(unix.SIGCHLD)), allow},
			{"clone with CLONE_NEWUSER fails with EPERM", seccompData(nr("clone"), audit, unix.CLONE_NEWUSER|uint64(unix.SIGCHLD)), eperm},
			{"clone with CLONE_NEWNET fails with EPERM", seccompData(nr("clone"), audit, threadFlags|unix.CLONE_NEWNET), eperm},
			{"clone with CLONE_NEWNS fails with EPERM", seccompData(nr("clone"), audit, unix.CLONE_NEWNS), eperm},
			{"clone with CLONE_NEWCGROUP fails with EPERM", seccompData(nr("clone"), audit, unix.CLONE_NEWCGROUP), eperm},
			{"clone with CLONE_NEWPID fails with EPERM", seccompData(nr("clone"), audit, unix.CLONE_NEWPID), eperm},
			{"clone with CLONE_NEWIPC fails with EPERM", seccompData(nr("clone"), audit, unix.CLONE_NEWIPC), eperm},
			{"clone with CLONE_NEWUTS fails with EPERM", seccompData(nr("clone"), audit, unix.CLONE_NEWUTS), eperm},
			{"clone with CLONE_NEWTIME fails with EPERM", seccompData(nr("clone"), audit, unix.CLONE_NEWTIME), eperm},
			{"clone with namespace bits only in the ignored high half is allowed", seccompData(nr("clone"), audit, threadFlags|uint64(unix.CLONE_NEWUSER)<<32), allow},
			{"clone3 fails with ENOSYS", seccompData(nr("clone3"), audit), enosy},
			{"socket(AF_UNIX) is allowed", seccompData(nr("socket"), audit, unix.AF_UNIX, unix.SOCK_STREAM), allow},
			{"socket(AF_INET) fails with EPERM", seccompData(nr("socket"), audit, unix.AF_INET, unix.SOCK_STREAM), eperm},
			{"socket(AF_INET6) fails with EPERM", seccompData(nr("socket"), audit, unix.AF_INET6, unix.SOCK_DGRAM), eperm},
			{"socket(AF_NETLINK) fails with EPERM", seccompData(nr("socket"), audit, unix.AF_NETLINK, unix.SOCK_RAW), eperm},
			{"socket with AF_UNIX in the low half only fails with EPERM", seccompData(nr("socket"), audit, 1<<32|unix.AF_UNIX), eperm},
			{"socketpair(AF_UNIX) is allowed", seccompData(nr("socketpair"), audit, unix.AF_UNIX), allow},
			{"socketpair(AF_INET) fails with EPERM", seccompData(nr("socketpair"), audit, unix.AF_INET), eperm},
		}
		if arch == X86_64 {
			cases = append(cases,
				vmCase{"an x32 call number kills", seccompData(x32Bit|nr("read"), audit), kill},
				vmCase{"an x32 call number that is otherwise denied kills", seccompData(x32Bit|nr("ptrace"), audit), kill},
			)
		}
		for _, c := range cases {
			t.Run(arch.String()+"/"+c.name, func(t *testing.T) {
				if got := run(t, f, c.data); got != c.want {
					t.Errorf("got %s, want %s", actionName(got), actionName(c.want))
				}
			})
		}
	}
}

func TestEveryAllowListedCallIsAllowedAndEveryDeniedCallIsNot(t *testing.T) {
	for _, arch := range []Arch{X86_64, AArch64} {
		f, err := NewFilter(arch)
		if err != nil {
			t.Fatal(err)
		}
		audit, _ := arch.AuditArch()
		table, _ := arch.syscalls()
		for _, name := range allowedSyscalls() {
			n, ok := table[name]
			if !ok {
				continue
			}
			if got := run(t, f, seccompData(n, audit)); got != allow {
				t.Errorf("%v %s (%d): got %s, want ALLOW", arch, name, n, actionName(got))
			}
		}
		for _, name := range deniedSyscalls() {
			n, ok := table[name]
			if !ok {
				continue
			}
			if got := run(t, f, seccompData(n, audit)); got != eperm {
				t.Errorf("%v %s (%d): got %s, want ERRNO(EPERM)", arch, name, n, actionName(got))
			}
		}
	}
}

func TestAllowAndDenyListsAreDisjoint(t *testing.T) {
	denied := make(map[string]bool)
	for _, n := range deniedSyscalls() {
		denied[n] = true
	}
	for _, n := range []string{sysClone, sysClone3, sysSocket, sysSocketpair} {
		if denied[n] {
			t.Errorf("%s is both denied and has a rule of its own", n)
		}
	}
	seen := make(map[string]bool)
	for _, n := range allowedSyscalls() {
		if denied[n] {
			t.Errorf("%s is both allowed and denied", n)
		}
		if seen[n] {
			t.Errorf("%s is listed twice", n)
		}
		seen[n] = true
		switch n {
		case sysClone, sysClone3, sysSocket, sysSocketpair:
			t.Errorf("%s has a rule of its own and must not be allow-listed", n)
		}
	}
}

func TestUnsupportedArchitectureIsRefused(t *testing.T) {
	if _, err := NewFilter(Arch(99)); !errors.Is(err, ErrUnsupportedArch) {
		t.Fatalf("NewFilter(99): got %v, want ErrUnsupportedArch", err)
	}
}

func TestMarshalBinaryIsTheSockFilterArray(t *testing.T) {
	f, err := NewNativeFilter()
	if err != nil {
		t.Skipf("no native filter: %v", err)
	}
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	sf := f.SockFilters()
	if len(b) != 8*len(sf) {
		t.Fatalf("got %d bytes for %d instructions", len(b), len(sf))
	}
	for i, s := range sf {
		w := b[8*i:]
		if binary.NativeEndian.Uint16(w) != s.Code || w[2] != s.Jt || w[3] != s.Jf || binary.NativeEndian.Uint32(w[4:]) != s.K {
			t.Fatalf("instruction %d: bytes %x do not encode %+v", i, w[:8], s)
		}
	}
	if len(sf) > maxInstructions {
		t.Fatalf("program too long: %d", len(sf))
	}
}
