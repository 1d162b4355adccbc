package run

import (
	"os"
	"runtime/debug"
	"strconv"
)

// HeapFloor is the least heap that SetGCDefaults lets the garbage
// collector plan for (32 MiB).
const HeapFloor = 32 << 20

// ballast holds the heap floor; see SetGCDefaults.
var ballast []byte

// SetGCDefaults tunes the Go garbage collector for running pipelines. A
// pipeline allocates a few hundred bytes per record that die within one
// batch, over a live heap that runtime.max_in_flight bounds and that is
// often only a few MiB: with Go's defaults the collector then runs every
// few MiB of allocation and its work is a large part of the CPU per record.
// SetGCDefaults gives the heap a floor of HeapFloor: a never-touched
// allocation of that size counts as live for the collector's pacing but
// takes no physical memory, so that small heaps are collected when they
// reach about twice the floor while large heaps keep Go's pacing
// (GOGC=100: collected at twice what is live). GOGC in the environment
// replaces it (the floor is then not set), and SLUICE_HEAP_FLOOR sets the
// floor in bytes (0 for none). A soft memory limit (GOMEMLIMIT, which
// sluice sets from a container's memory limit) makes the collector run
// sooner when memory is short. Programs that run pipelines (sluice itself,
// the benchmark harness) call it once at start; it changes the whole
// process.
func SetGCDefaults() {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	floor := HeapFloor
	if v, ok := os.LookupEnv("SLUICE_HEAP_FLOOR"); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			floor = n
		}
	}
	if floor > 0 && ballast == nil {
		ballast = make([]byte, floor)
	}
	debug.SetGCPercent(100)
}
