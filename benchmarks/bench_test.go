package main

import (
	"context"
	"os"
	"testing"

	"github.com/sluicehq/sluice/engine/run"
)

// TestMain lets the test binary be a measuring child, as the harness
// binary is, so that TestHarnessSmoke runs the harness in-process.
func TestMain(m *testing.M) {
	if isChild(os.Args[1:]) {
		os.Exit(childMain(context.Background(), os.Stdin, os.Stdout))
	}
	run.SetGCDefaults() // the testing.B scenarios run as sluice would
	os.Exit(m.Run())
}

// benchRecords is how many records each testing.B scenario reads per run.
const benchRecords = 200000

// benchFixture is a fixture in a temporary directory, removed (with its
// Kafka topic) when b ends.
func benchFixture(b testing.TB) *fixture {
	f := newFixture(b.TempDir(), benchRecords, benchRecords, "gotest")
	b.Cleanup(func() { f.tearDown() })
	return f
}

// benchScenario runs scenario name in this process b.N times over f's
// inputs, made beforehand, as a child of the harness does, and reports
// records/s and MB/s of the runs' own wall time and allocations per record.
func benchScenario(b *testing.B, f *fixture, name string) {
	s := scenarioByName(name)
	if err := f.setUp(b.Context(), s.input); err != nil {
		b.Fatal(err)
	}
	var records, bytes int64
	var seconds float64
	var mallocs uint64
	b.ReportAllocs()
	for b.Loop() {
		vars, cleanup, err := s.prepare(b.Context(), f, f.nextID())
		if err != nil {
			b.Fatal(err)
		}
		res, err := runJob(b.Context(), childJob{Scenario: s.name, Kind: s.kind, Vars: vars,
			Records: f.recordsOf(s), Drain: s.input == inputKafka})
		cleanup()
		if err != nil {
			b.Fatal(err)
		}
		records, bytes, seconds, mallocs = records+res.Records, bytes+res.Bytes, seconds+res.Seconds, mallocs+res.Mallocs
	}
	b.ReportMetric(float64(records)/seconds, "records/s")
	b.ReportMetric(float64(bytes)/seconds/1e6, "MB/s")
	b.ReportMetric(float64(mallocs)/float64(records), "allocs/record")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkGenerateFilterSetDrop(b *testing.B) {
	benchScenario(b, benchFixture(b), "generate-filter-set-drop")
}

func BenchmarkJSONLFilterSetDrop(b *testing.B) {
	benchScenario(b, benchFixture(b), "jsonl-filter-set-drop")
}

func BenchmarkJSONLFilterSetJSONL(b *testing.B) {
	benchScenario(b, benchFixture(b), "jsonl-filter-set-jsonl")
}

func BenchmarkJSONLToParquet(b *testing.B) {
	benchScenario(b, benchFixture(b), "jsonl-to-parquet")
}

func BenchmarkParquetToDrop(b *testing.B) {
	benchScenario(b, benchFixture(b), "parquet-drop")
}

func BenchmarkReferenceHandwritten(b *testing.B) {
	benchScenario(b, benchFixture(b), "reference-handwritten")
}
