package network

import "syscall"

// procAttr puts a node in a process group of its own (so that stopping it reaches whatever it
// spawns) and has the kernel kill it should the runner's process die first, so that not even
// a crashed or timed-out test leaves nodes behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
