//go:build unix

package sql

import (
	"syscall"
	"time"
)

// selfCPU returns the user and system CPU time this process has used, for
// benchmarks that report CPU per row: on a busy machine it varies less
// than the wall time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
