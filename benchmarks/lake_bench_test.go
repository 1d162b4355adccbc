package benchmarks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/run"
	"github.com/sluicehq/sluice/sources/generate"
)

const lakeRecords = 200000

// writeJSONL fills dir/jsonl with n generated events in objects of 20000
// and returns their size in bytes.
func writeJSONL(b testing.TB, dir string, n int) int64 {
	b.Helper()
	c := generate.Defaults()
	c.Count, c.BatchSize, c.Start, c.Step = int64(n), 20000, "2026-11-24T00:00:00Z", 2*time.Second
	src, err := generate.New(c, engine.TestEnv())
	if err != nil {
		b.Fatal(err)
	}
	src.Open(context.Background())
	if err := os.MkdirAll(filepath.Join(dir, "jsonl"), 0o755); err != nil {
		b.Fatal(err)
	}
	var total int64
	for i := 0; ; i++ {
		bt, _, err := src.Read(context.Background())
		if err != nil {
			return total
		}
		var buf []byte
		for _, r := range bt.Records {
			buf = append(append(buf, r.Value...), '\n')
		}
		total += int64(len(buf))
		if err := os.WriteFile(filepath.Join(dir, "jsonl", fmt.Sprintf("part-%04d.jsonl", i)), buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// runLake runs the scenario's pipeline over the bucket in dir once.
func runLake(b testing.TB, scenario, dir string) run.Summary {
	b.Helper()
	src, err := os.ReadFile(filepath.Join(scenario, "pipeline.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	lookup := func(k string) (string, bool) {
		if k == "BENCH_LAKE" {
			return "file://" + dir, true
		}
		return "", false
	}
	p, err := engine.Load(scenario, src, engine.LoadOptions{Registry: registry(b), Lookup: lookup})
	if err != nil {
		b.Fatal(err)
	}
	sum, err := run.New(p).Run(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return sum
}

func BenchmarkJSONLToParquet(b *testing.B) {
	dir := b.TempDir()
	bytes := writeJSONL(b, dir, lakeRecords)
	b.SetBytes(bytes)
	b.ReportAllocs()
	var records int64
	for b.Loop() {
		os.RemoveAll(filepath.Join(dir, "parquet"))
		sum := runLake(b, "jsonl-to-parquet", dir)
		if sum.Read != lakeRecords {
			b.Fatalf("read %d", sum.Read)
		}
		records += sum.Read
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkParquetToDrop(b *testing.B) {
	dir := b.TempDir()
	writeJSONL(b, dir, lakeRecords)
	runLake(b, "jsonl-to-parquet", dir)
	b.ReportAllocs()
	var records int64
	for b.Loop() {
		sum := runLake(b, "parquet-drop", dir)
		if sum.Read != lakeRecords {
			b.Fatalf("read %d", sum.Read)
		}
		records += sum.Read
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}
