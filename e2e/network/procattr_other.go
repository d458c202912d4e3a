//go:build unix && !linux

package network

import "syscall"

// procAttr puts a node in a process group of its own, so that stopping it reaches whatever it
// spawns. (Only Linux can also tie the node's life to the runner's.)
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
