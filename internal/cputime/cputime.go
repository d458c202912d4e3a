// Package cputime reads the CPU time of the running process. Benchmarks report CPU time per
// operation beside the wall clock: on a machine shared with other work it shows the cost
// apart from the machine's load.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the user and system CPU time this process has used so far (zero if the
// kernel cannot say).
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
