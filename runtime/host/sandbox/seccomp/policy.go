package seccomp

// allowedSyscalls are the system calls a runtime may make with any arguments: what the Go
// runtime and a C program on glibc or musl need for files, memory, threads, signals, time,
// polling and Unix sockets. Names missing from an architecture's table (the legacy calls
// aarch64 never had, such as open or fork) are skipped for that architecture.
//
// Compared with the reference policy this leaves out: extended attribute writes, System V
// message queues and POSIX message queues, asynchronous I/O, sync and syncfs, vmsplice,
// remap_file_pages, modify_ldt and the thread-area calls, fanotify, adjtimex, seccomp and
// personality. It adds what current libcs call and only fall back from on ENOSYS (statx,
// faccessat2, rseq, close_range, openat2, epoll_pwait2, fchmodat2), and pidfd_open and
// pidfd_send_signal, which Go's os package probes.
func allowedSyscalls() []string {
	return []string{
		// Files and directories.
		"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
		"preadv2", "pwritev2", "open", "openat", "openat2", "creat", "close", "close_range",
		"lseek", "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs",
		"access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents",
		"getdents64", "getcwd", "chdir", "fchdir", "mkdir", "mkdirat", "rmdir", "unlink",
		"unlinkat", "rename", "renameat", "renameat2", "link", "linkat", "symlink",
		"symlinkat", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown",
		"fchownat", "lchown", "umask", "truncate", "ftruncate", "fallocate", "fsync",
		"fdatasync", "sync_file_range", "flock", "fcntl", "utime", "utimes", "utimensat",
		"futimesat", "dup", "dup2", "dup3", "pipe", "pipe2", "sendfile", "splice", "tee",
		"copy_file_range", "readahead", "fadvise64", "getxattr", "lgetxattr", "fgetxattr",
		"listxattr", "llistxattr", "flistxattr", "ioctl", "inotify_init", "inotify_init1",
		"inotify_add_watch", "inotify_rm_watch",

		// Memory.
		"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
		"mlock", "mlock2", "munlock", "mlockall", "munlockall", "memfd_create", "membarrier",
		"map_shadow_stack",

		// Processes and threads (clone and clone3 have rules of their own).
		"fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
		"kill", "tkill", "tgkill", "getpid", "getppid", "gettid", "getpgid", "getpgrp",
		"setpgid", "getsid", "setsid", "set_tid_address", "set_robust_list",
		"get_robust_list", "rseq", "arch_prctl", "prctl", "prlimit64", "getrlimit",
		"setrlimit", "getrusage", "getpriority", "setpriority", "sched_yield",
		"sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_setparam",
		"sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
		"sched_get_priority_min", "sched_rr_get_interval", "sched_getattr", "sched_setattr",
		"getcpu", "pidfd_open", "pidfd_send_signal", "ioprio_get", "ioprio_set",

		// Credentials (the sandbox holds no capabilities, so these cannot raise privileges).
		"getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
		"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
		"setfsuid", "setfsgid", "capget", "capset",

		// Signals.
		"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend",
		"rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "signalfd",
		"signalfd4", "pause", "alarm", "restart_syscall",

		// Time.
		"nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday",
		"time", "times", "getitimer", "setitimer", "timer_create", "timer_settime",
		"timer_gettime", "timer_getoverrun", "timer_delete", "timerfd_create",
		"timerfd_settime", "timerfd_gettime",

		// Waiting and events.
		"futex", "futex_waitv", "eventfd", "eventfd2", "epoll_create", "epoll_create1",
		"epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll", "select",
		"pselect6",

		// Sockets (socket and socketpair have rules of their own).
		"connect", "accept", "accept4", "bind", "listen", "shutdown", "getsockname",
		"getpeername", "getsockopt", "setsockopt", "sendto", "recvfrom", "sendmsg",
		"recvmsg", "sendmmsg", "recvmmsg",

		// System V shared memory and semaphores (private: the IPC namespace is new).
		"shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",

		// System information.
		"uname", "sysinfo", "getrandom",
	}
}

// deniedSyscalls are calls the policy must never allow, whatever else changes: namespace,
// mount, tracing, kernel-keyring, BPF, module, kexec and similar escape or attack-surface
// calls. They are denied by the default action like every unlisted call; the list exists so
// that a test can hold the allow-list to it.
func deniedSyscalls() []string {
	return []string{
		"unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "ptrace",
		"process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "bpf", "keyctl",
		"add_key", "request_key", "kexec_load", "kexec_file_load", "init_module",
		"finit_module", "delete_module", "reboot", "swapon", "swapoff", "perf_event_open",
		"userfaultfd", "open_by_handle_at", "name_to_handle_at", "fsopen", "fsconfig",
		"fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "io_uring_setup",
		"io_uring_enter", "io_uring_register", "mknod", "mknodat", "acct", "syslog",
		"quotactl", "iopl", "ioperm", "settimeofday", "clock_settime", "adjtimex",
		"clock_adjtime", "sethostname", "setdomainname", "personality", "seccomp",
		"modify_ldt", "vmsplice", "fanotify_init", "fanotify_mark", "lookup_dcookie",
	}
}

// Calls with rules of their own.
const (
	sysClone      = "clone"
	sysClone3     = "clone3"
	sysSocket     = "socket"
	sysSocketpair = "socketpair"
)
