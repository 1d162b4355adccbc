package benchmarks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/run"
	"github.com/sluicehq/sluice/sinks"
	"github.com/sluicehq/sluice/sources"
	"github.com/sluicehq/sluice/transforms"
)

func registry(b testing.TB) *engine.Registry {
	r := engine.NewRegistry()
	for _, reg := range []func(*engine.Registry) error{sources.Register, transforms.Register, sinks.Register} {
		if err := reg(r); err != nil {
			b.Fatal(err)
		}
	}
	return r
}

// runScenario runs the scenario's pipeline with count records b.N times.
func runScenario(b *testing.B, dir string, count int) {
	src, err := os.ReadFile(filepath.Join(dir, "pipeline.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	reg := registry(b)
	lookup := func(k string) (string, bool) {
		if k == "BENCH_COUNT" {
			return fmt.Sprint(count), true
		}
		return os.LookupEnv(k)
	}
	var records, bytes int64
	var ms0, ms1 runtime.MemStats
	b.ReportAllocs()
	b.ResetTimer()
	runtime.ReadMemStats(&ms0)
	for b.Loop() {
		p, err := engine.Load(dir, src, engine.LoadOptions{Registry: reg, Lookup: lookup})
		if err != nil {
			b.Fatal(err)
		}
		sum, err := run.New(p).Run(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if sum.Read != int64(count) {
			b.Fatalf("read %d, want %d", sum.Read, count)
		}
		records += sum.Read
		bytes += sum.Bytes
	}
	runtime.ReadMemStats(&ms1)
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(records)/sec, "records/s")
	b.ReportMetric(float64(bytes)/sec/1e6, "MB/s")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(records), "allocs/record")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkGenerateFilterSetDrop(b *testing.B) {
	runScenario(b, "generate-filter-set-drop", 200000)
}
