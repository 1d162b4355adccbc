//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
)

// peakRSS returns the maximum resident set of an exited process, in bytes,
// from its rusage. On Linux this is at least the peak of the harness itself
// (see vmHWM), so the child's own figure is used where there is one.
func peakRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss) // bytes
	}
	return int64(ru.Maxrss) * 1024 // KiB on Linux and the BSDs
}
