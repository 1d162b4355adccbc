package run

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
)

// HeapFloor is the least heap that SetGCDefaults lets the garbage
// collector plan for: 64 MiB.
const HeapFloor = 64 << 20

// maxGCPercent bounds the GOGC that SetGCDefaults sets, for a live heap
// of almost nothing.
const maxGCPercent = 1000

// gcOnce makes SetGCDefaults start the tuning once.
var gcOnce sync.Once

// SetGCDefaults tunes the Go garbage collector for running pipelines. A
// pipeline allocates a few hundred bytes per record that die within one
// batch, over a live heap that runtime.max_in_flight bounds and that is
// often only a few MiB: with Go's default (GOGC=100, a collection once the
// heap has doubled) the collector then runs every few MiB of allocation,
// and its work is a large part of the CPU per record. SetGCDefaults gives
// the heap a floor: after each collection it sets GOGC so that the next
// one comes when the heap reaches the larger of twice the live heap (Go's
// default pacing, for large heaps) and the live heap plus HeapFloor. GOGC
// in the environment turns this off; SLUICE_HEAP_FLOOR sets the floor in
// bytes (0 for none). A soft memory limit (GOMEMLIMIT, which sluice sets
// from a container's memory limit) still makes the collector run sooner
// when memory is short. Programs that run pipelines (sluice itself, the
// benchmark harness) call it at start; it changes the whole process.
func SetGCDefaults() {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	floor := uint64(HeapFloor)
	if v, ok := os.LookupEnv("SLUICE_HEAP_FLOOR"); ok {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			floor = n
		}
	}
	if floor == 0 {
		return
	}
	gcOnce.Do(func() {
		t := &gcTuner{floor: floor, sample: sampleLive()}
		// Before the first collection, the heap Go starts with (4 MiB) is
		// taken as live.
		debug.SetGCPercent(t.percent(4 << 20))
		t.watch()
	})
}

// sampleLive returns the runtime metric of the live heap.
func sampleLive() []metrics.Sample { return []metrics.Sample{{Name: "/gc/heap/live:bytes"}} }

// gcTuner sets GOGC after each collection from the live heap.
type gcTuner struct {
	floor  uint64
	sample []metrics.Sample // used by tune only, on the finalizer goroutine
}

// percent returns the GOGC that makes the next collection come at the
// larger of twice live and live plus the floor.
func (t *gcTuner) percent(live uint64) int {
	if live == 0 {
		return maxGCPercent
	}
	return int(min(max(t.floor*100/live, 100), maxGCPercent))
}

// gcSentinel is an object that watch lets go of at once. It holds a
// pointer, so that the allocator does not batch it with other tiny
// objects, whose finalizers may never run.
type gcSentinel struct{ t *gcTuner }

// watch arranges for tune to run after the next collection: a finalizer
// runs once the collection that finds its object unreachable is done.
func (t *gcTuner) watch() {
	runtime.SetFinalizer(&gcSentinel{t: t}, func(s *gcSentinel) { s.t.tune() })
}

func (t *gcTuner) tune() {
	metrics.Read(t.sample)
	if s := t.sample[0]; s.Value.Kind() == metrics.KindUint64 {
		debug.SetGCPercent(t.percent(s.Value.Uint64()))
	}
	t.watch()
}
