package objectstore

import (
	"bufio"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/file"
)

// TestParquetMemoryBounded streams about 1 GiB of generated JSON events
// (32 MiB under the race detector; SLUICE_TEST_PARQUET_BYTES overrides)
// into ONE Parquet object in a file:// bucket, through the sink's own
// object writer, row group after row group, and checks that the Go heap
// and the process's resident set stay bounded: memory follows the row
// group, not the object. It samples runtime.ReadMemStats every 20ms and
// reads VmHWM from /proc/self/status at the end. Skipped with -short.
func TestParquetMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy: streams 1 GiB; skipped with -short")
	}
	total := int64(1 << 30)
	if raceEnabled {
		total = 32 << 20
	}
	if v := os.Getenv("SLUICE_TEST_PARQUET_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("SLUICE_TEST_PARQUET_BYTES: %v", err)
		}
		total = n
	}
	const limit = 256 << 20

	dir := t.TempDir()
	cfg := Defaults()
	cfg.URL = "file://" + dir
	cfg.Schema = mustSchema(t, eventSchema)
	s := openSink(t, cfg)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peakHeap, peakSys uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peakHeap = max(peakHeap, m.HeapAlloc)
			peakSys = max(peakSys, m.HeapSys)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	start := time.Now()
	const key = "memtest/one.parquet"
	o, err := createObject(t.Context(), s.bucket, key, s.declared, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	var buf []byte
	var written, records int64
	for written < total {
		// A chunk at a time, as a sequence of Writes would hand them over;
		// nothing of a chunk is kept once its rows are in the builders.
		for range 10000 {
			buf = event(buf[:0], r, records, at.Add(time.Duration(records)*time.Millisecond))
			v, err := jsonCodec.Decode(buf)
			if err != nil {
				t.Fatal(err)
			}
			row := v.(map[string]any)
			if err := checkRow(s.declared, row); err != nil {
				t.Fatal(err)
			}
			if err := o.addRow(row); err != nil {
				t.Fatal(err)
			}
			written += int64(len(buf)) + 1
			records++
		}
	}
	size, err := o.commit()
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	hwm := vmHWM(t)

	pf, err := file.OpenParquetFile(filepath.Join(dir, key), false)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if pf.NumRows() != records {
		t.Fatalf("object holds %d rows, wrote %d", pf.NumRows(), records)
	}
	if ks := keys(t, s.bucket); len(ks) != 1 {
		t.Fatalf("objects %s, want one", fmtKeys(ks))
	}
	t.Logf("streamed %d records, %.0f MiB of JSON, into one %.1f MiB Parquet object of %d row groups in %s (%.0f records/s, %.1f MiB/s of JSON)",
		records, float64(written)/(1<<20), float64(size)/(1<<20), pf.NumRowGroups(), elapsed.Round(time.Millisecond),
		float64(records)/elapsed.Seconds(), float64(written)/(1<<20)/elapsed.Seconds())
	t.Logf("peak Go heap %.1f MiB (%.1f MiB before), heap reserved %.1f MiB, process VmHWM %.1f MiB",
		float64(peakHeap)/(1<<20), float64(base)/(1<<20), float64(peakSys)/(1<<20), float64(hwm)/(1<<20))
	if peakHeap > limit {
		t.Errorf("peak Go heap %d MiB, want under %d MiB", peakHeap>>20, limit>>20)
	}
	if hwm > 0 && !raceEnabled && hwm > limit {
		t.Errorf("VmHWM %d MiB, want under %d MiB", hwm>>20, limit>>20)
	}
}

// vmHWM returns the process's peak resident set size from
// /proc/self/status, 0 where there is none.
func vmHWM(t *testing.T) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Logf("VmHWM: %v", err)
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
