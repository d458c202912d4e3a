// Package seccomp assembles the seccomp-BPF program every sandboxed runtime runs under.
//
// The program is an allow-list. It first checks seccomp_data.arch and kills the process on any
// architecture other than the one the filter was built for (on x86-64 it also kills any call
// with the x32 bit set in its number, since x32 calls reuse the x86-64 audit arch). It then
// applies the rules, in this order:
//
//   - clone3 fails with ENOSYS: its flags live in memory BPF cannot read, and glibc and Go fall
//     back to clone on ENOSYS (and only on ENOSYS);
//   - clone is allowed only when its flags carry none of the CLONE_NEW* bits;
//   - socket and socketpair are allowed only for AF_UNIX;
//   - the calls of the allow-list (see policy.go) are allowed with any arguments;
//   - everything else fails with EPERM.
//
// A Filter is immutable and safe for concurrent use. Its MarshalBinary form is the array of
// struct sock_filter that `bwrap --seccomp FD` reads from FD; bwrap installs it (with
// PR_SET_NO_NEW_PRIVS) right before it executes the sandboxed program.
//
// Supported architectures are x86-64 and aarch64; NewFilter refuses any other with
// ErrUnsupportedArch.
package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// ErrUnsupportedArch is returned for an architecture this package has no syscall table for.
var ErrUnsupportedArch = errors.New("seccomp: unsupported architecture")

// Arch is a CPU architecture a filter can be built for.
type Arch int

// Architectures with a syscall table.
const (
	X86_64 Arch = iota + 1
	AArch64
)

func (a Arch) String() string {
	switch a {
	case X86_64:
		return "x86_64"
	case AArch64:
		return "aarch64"
	default:
		return fmt.Sprintf("arch(%d)", int(a))
	}
}

// AuditArch is the AUDIT_ARCH_* value the kernel puts in seccomp_data.arch for a on a
// little-endian 64-bit kernel.
func (a Arch) AuditArch() (uint32, error) {
	switch a {
	case X86_64:
		return auditArchX86_64, nil
	case AArch64:
		return auditArchAArch64, nil
	default:
		return 0, fmt.Errorf("%w: %v", ErrUnsupportedArch, a)
	}
}

// syscalls returns a's table of system call numbers by name.
func (a Arch) syscalls() (map[string]uint32, error) {
	switch a {
	case X86_64:
		return x86_64Syscalls(), nil
	case AArch64:
		return aarch64Syscalls(), nil
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedArch, a)
	}
}

// NativeArch returns the architecture this program was compiled for.
func NativeArch() (Arch, error) {
	switch runtime.GOARCH {
	case "amd64":
		return X86_64, nil
	case "arm64":
		return AArch64, nil
	default:
		return 0, fmt.Errorf("%w: GOARCH %s (supported: amd64, arm64)", ErrUnsupportedArch, runtime.GOARCH)
	}
}

// Kernel ABI values, spelled out so the program's meaning does not depend on build tags.
const (
	auditArchX86_64  = unix.AUDIT_ARCH_X86_64  // 0xc000003e
	auditArchAArch64 = unix.AUDIT_ARCH_AARCH64 // 0xc00000b7

	// x32Bit marks an x32 system call number on x86-64 (__X32_SYSCALL_BIT).
	x32Bit = 0x40000000

	// RetKillProcess, RetAllow and RetErrno are the seccomp actions the program returns.
	// RetErrno is or-ed with the errno value.
	RetKillProcess = unix.SECCOMP_RET_KILL_PROCESS // 0x80000000
	RetAllow       = unix.SECCOMP_RET_ALLOW        // 0x7fff0000
	RetErrno       = unix.SECCOMP_RET_ERRNO        // 0x00050000

	// cloneNewMask holds every namespace flag clone can take: CLONE_NEWNS, CLONE_NEWCGROUP,
	// CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET and CLONE_NEWTIME.
	// (CLONE_NEWTIME, 0x80, shares the exit-signal byte in clone's flags; no valid signal
	// number sets it, so denying it costs nothing.)
	cloneNewMask = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS |
		unix.CLONE_NEWIPC | unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET |
		unix.CLONE_NEWTIME

	afUnix = unix.AF_UNIX

	// maxInstructions is the kernel's BPF_MAXINSNS.
	maxInstructions = 4096
)

// Offsets into struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer;
// __u64 args[6]; }. Loads are 32-bit and in the kernel's byte order; both supported
// architectures are little-endian, so an argument's low half is at its offset and its high
// half four bytes further.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

func argLow(i int) uint32  { return uint32(offArgs + 8*i) }
func argHigh(i int) uint32 { return uint32(offArgs + 8*i + 4) }

// Filter is an assembled seccomp program for one architecture.
type Filter struct {
	arch  Arch
	insns []bpf.Instruction
	raw   []bpf.RawInstruction
}

// NewFilter assembles the sandbox policy for arch.
func NewFilter(arch Arch) (*Filter, error) {
	audit, err := arch.AuditArch()
	if err != nil {
		return nil, err
	}
	table, err := arch.syscalls()
	if err != nil {
		return nil, err
	}
	nr := func(name string) (uint32, error) {
		n, ok := table[name]
		if !ok {
			return 0, fmt.Errorf("seccomp: %v has no system call %q", arch, name)
		}
		return n, nil
	}
	var special [4]uint32
	for i, name := range []string{sysClone3, sysClone, sysSocket, sysSocketpair} {
		if special[i], err = nr(name); err != nil {
			return nil, err
		}
	}
	clone3, clone, socket, socketpair := special[0], special[1], special[2], special[3]

	var allowed []uint32
	for _, name := range allowedSyscalls() {
		if n, ok := table[name]; ok {
			allowed = append(allowed, n)
		}
	}

	p := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: audit, SkipTrue: 1},
		bpf.RetConstant{Val: RetKillProcess},
		bpf.LoadAbsolute{Off: offNr, Size: 4},
	}
	if arch == X86_64 {
		p = append(p,
			bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: x32Bit, SkipFalse: 1},
			bpf.RetConstant{Val: RetKillProcess},
		)
	}
	p = append(p,
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: clone3, SkipTrue: 1},
		bpf.RetConstant{Val: RetErrno | uint32(unix.ENOSYS)},
	)
	p = appendRule(p, clone, argHasNoBits(0, cloneNewMask))
	p = appendRule(p, socket, argEquals(0, afUnix))
	p = appendRule(p, socketpair, argEquals(0, afUnix))
	p = appendAllowList(p, allowed)
	p = append(p, bpf.RetConstant{Val: RetErrno | uint32(unix.EPERM)})

	if len(p) > maxInstructions {
		return nil, fmt.Errorf("seccomp: program has %d instructions, the kernel takes at most %d", len(p), maxInstructions)
	}
	raw, err := bpf.Assemble(p)
	if err != nil {
		return nil, fmt.Errorf("seccomp: assembling: %w", err)
	}
	return &Filter{arch: arch, insns: p, raw: raw}, nil
}

// NewNativeFilter assembles the sandbox policy for the architecture this program runs on.
func NewNativeFilter() (*Filter, error) {
	arch, err := NativeArch()
	if err != nil {
		return nil, err
	}
	return NewFilter(arch)
}

// Arch returns the architecture f was built for.
func (f *Filter) Arch() Arch { return f.arch }

// Instructions returns a copy of the program, for example to run it in a bpf.VM.
func (f *Filter) Instructions() []bpf.Instruction { return slices.Clone(f.insns) }

// SockFilters returns the program as the kernel's struct sock_filter array.
func (f *Filter) SockFilters() []unix.SockFilter {
	out := make([]unix.SockFilter, len(f.raw))
	for i, r := range f.raw {
		out[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return out
}

// MarshalBinary returns the program as bwrap's --seccomp FD expects it: the struct
// sock_filter array in native byte order (8 bytes per instruction), without a length prefix.
func (f *Filter) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 8*len(f.raw))
	for _, r := range f.raw {
		b = binary.NativeEndian.AppendUint16(b, r.Op)
		b = append(b, r.Jt, r.Jf)
		b = binary.NativeEndian.AppendUint32(b, r.K)
	}
	return b, nil
}

// appendRule appends "if nr == n, run body" where body always returns.
func appendRule(p []bpf.Instruction, n uint32, body []bpf.Instruction) []bpf.Instruction {
	p = append(p, bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: n, SkipTrue: uint8(len(body))})
	return append(p, body...)
}

// argHasNoBits returns a block that allows the call when argument i (64 bits, read as two
// halves) has none of mask's bits set, and fails it with EPERM otherwise. A half whose mask is
// zero cannot match and is not loaded. For clone the namespace bits are all in the low half,
// which is also the only half the kernel reads (it takes lower_32_bits of clone's flags).
func argHasNoBits(i int, mask uint64) []bpf.Instruction {
	var b []bpf.Instruction
	for _, half := range []struct {
		off  uint32
		mask uint32
	}{{argLow(i), uint32(mask)}, {argHigh(i), uint32(mask >> 32)}} {
		if half.mask == 0 {
			continue
		}
		b = append(b,
			bpf.LoadAbsolute{Off: half.off, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: half.mask, SkipFalse: 1},
			bpf.RetConstant{Val: RetErrno | uint32(unix.EPERM)},
		)
	}
	return append(b, bpf.RetConstant{Val: RetAllow})
}

// argEquals returns a block that allows the call when argument i equals v in all 64 bits and
// fails it with EPERM otherwise.
func argEquals(i int, v uint64) []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadAbsolute{Off: argHigh(i), Size: 4},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(v >> 32), SkipTrue: 2},
		bpf.LoadAbsolute{Off: argLow(i), Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(v), SkipTrue: 1},
		bpf.RetConstant{Val: RetErrno | uint32(unix.EPERM)},
		bpf.RetConstant{Val: RetAllow},
	}
}

// appendAllowList appends checks that allow every number in nrs (the accumulator holds the
// call number), merging consecutive numbers into ranges to keep the program short.
func appendAllowList(p []bpf.Instruction, nrs []uint32) []bpf.Instruction {
	nrs = slices.Clone(nrs)
	slices.Sort(nrs)
	nrs = slices.Compact(nrs)
	for i := 0; i < len(nrs); {
		j := i
		for j+1 < len(nrs) && nrs[j+1] == nrs[j]+1 {
			j++
		}
		lo, hi := nrs[i], nrs[j]
		if lo == hi {
			p = append(p,
				bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: lo, SkipTrue: 1},
				bpf.RetConstant{Val: RetAllow},
			)
		} else {
			p = append(p,
				bpf.JumpIf{Cond: bpf.JumpLessThan, Val: lo, SkipTrue: 2},
				bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: hi, SkipTrue: 1},
				bpf.RetConstant{Val: RetAllow},
			)
		}
		i = j + 1
	}
	return p
}
