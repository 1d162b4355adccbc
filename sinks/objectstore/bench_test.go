package objectstore

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sluicehq/sluice/engine"
)

// BenchmarkJSONLToParquet writes batches of 100k generated JSON events
// (about 320 bytes each) through Write into a mem:// bucket. It measures
// what the sink adds to a pipeline: reading the records' fields, checking
// them and building the Arrow columns, Parquet encoding with zstd,
// hashing the contents, and the upload. MB/s is JSON input; records/s is
// reported too, and cpu-ns/record, the process's CPU time per record
// (garbage collection included), which other processes on the machine
// disturb less than the elapsed time.
//
// The cases: a declared schema; an inferred one; an inferred one
// partitioned by day with a path template (two objects per batch, as in a
// backfill); records that a transform changed (a field set to a string,
// another to a time: the sink reads those from the record, the rest from
// its bytes), partitioned by the set field; and JSON lines with zstd.
func BenchmarkJSONLToParquet(b *testing.B) {
	for _, bc := range []struct {
		name   string
		cfg    Config
		change bool
	}{
		{"parquet_declared", Config{Format: FormatParquet, Schema: mustSchema(b, eventSchema)}, false},
		{"parquet_inferred", Config{Format: FormatParquet}, false},
		{"parquet_inferred_by_day", Config{Format: FormatParquet, Path: `dt={{ format_time(ts, "2006-01-02") }}/`}, false},
		{"parquet_changed_by_day", Config{Format: FormatParquet, Path: `dt={{ day }}/`}, true},
		{"jsonl_zstd", Config{Format: FormatJSONL, Compression: "zstd"}, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const n = 100000
			cfg := bc.cfg
			cfg.URL, cfg.RowGroupSize, cfg.Roll = "mem://", DefaultRowGroupSize, Defaults().Roll
			s := openSink(b, cfg)
			// Two days: the by-day cases write two objects per batch.
			base := time.Date(2024, 5, 1, 23, 59, 0, 0, time.UTC).Add(-n / 2 * time.Millisecond)
			src, size := eventBatch(n, "game-events/0", 0, base)
			recs := make([]engine.Record, n)
			iter := int64(0)
			fresh := func() engine.Batch {
				// New records each time, since a decoded record keeps its
				// fields, at new positions, since the sink writes nothing
				// for records already in the bucket.
				iter++
				for i := range recs {
					recs[i] = engine.NewRecord(src.Records[i].Value, jsonCodec)
					recs[i].Source = engine.Position{Stream: "game-events/0", Offset: iter*n + int64(i)}
					recs[i].Time = src.Records[i].Time
					if bc.change {
						// As the set transform does.
						r := &recs[i]
						if err := setFields(r, map[string]any{"day": r.Time.UTC().Format(time.DateOnly), "seen": r.Time}); err != nil {
							b.Fatal(err)
						}
					}
				}
				return engine.Batch{Records: recs}
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			var cpu time.Duration
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				batch := fresh()
				b.StartTimer()
				c := cpuTime()
				if err := s.Write(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*b.N), "cpu-ns/record")
		})
	}
}

// BenchmarkReadFields compares the ways the sink reads the fields of a
// generated JSON event (about 320 bytes): parsing it into the reused tree,
// as the sink does, against decoding it into a map with the json codec, as
// it did; and the two walks of the first pass over a parsed record,
// inferring a schema and checking the record against it, and the
// appending of the second pass to Arrow builders.
func BenchmarkReadFields(b *testing.B) {
	src, size := eventBatch(1000, "s", 0, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	values := make([][]byte, len(src.Records))
	for i := range values {
		values[i] = src.Records[i].Value
	}
	run := func(b *testing.B, f func(v []byte)) {
		b.SetBytes(int64(size / len(values)))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			f(values[i%len(values)])
			i++
		}
	}
	b.Run("tree", func(b *testing.B) {
		var w treeWalker
		run(b, func(v []byte) {
			if !w.tree.parse(v) {
				b.Fatal("not parsed")
			}
		})
	})
	b.Run("decode", func(b *testing.B) {
		run(b, func(v []byte) {
			if _, err := jsonCodec.Decode(v); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("tree_observe_check", func(b *testing.B) {
		var w treeWalker
		root := &colType{kind: kindStruct}
		run(b, func(v []byte) {
			w.tree.parse(v)
			w.observeRow(root)
			if w.checkRow(root) != fits {
				b.Fatal("does not fit")
			}
		})
	})
	b.Run("tree_append", func(b *testing.B) {
		var w treeWalker
		root := fromSchema(mustSchema(b, eventSchema)).clone()
		rb := array.NewRecordBuilder(memory.DefaultAllocator, arrowSchema(root))
		defer rb.Release()
		n := 0
		run(b, func(v []byte) {
			w.tree.parse(v)
			w.appendRow(root, rb)
			if n++; n%DefaultRowGroupSize == 0 {
				rb.NewRecordBatch().Release()
			}
		})
	})
}
