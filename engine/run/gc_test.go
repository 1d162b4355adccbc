package run

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestGCTunerPercent checks the GOGC the tuner picks for a live heap.
func TestGCTunerPercent(t *testing.T) {
	tu := &gcTuner{floor: 64 << 20}
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, maxGCPercent}, {1 << 20, maxGCPercent}, {8 << 20, 800}, {32 << 20, 200}, {64 << 20, 100}, {512 << 20, 100},
	} {
		if got := tu.percent(tc.live); got != tc.want {
			t.Errorf("percent(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}

// TestGCTunerFollowsCollections checks that the tuner sets GOGC after a
// collection, from the live heap, and keeps doing so.
func TestGCTunerFollowsCollections(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	tu := &gcTuner{floor: 1 << 40, sample: sampleLive()}
	tu.watch()
	for round := range 3 {
		debug.SetGCPercent(100)
		runtime.GC()
		deadline := time.Now().Add(5 * time.Second)
		for debug.SetGCPercent(100) != maxGCPercent {
			// SetGCPercent just read it back: put the tuner's value back
			// and wait for the finalizer.
			if time.Now().After(deadline) {
				t.Fatalf("round %d: GOGC not set after a collection", round)
			}
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
	}
}
