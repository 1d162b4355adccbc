package objectstore

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
)

// BenchmarkJSONLToParquet writes batches of 100k generated JSON events
// (about 320 bytes each) through Write into a mem:// bucket: one object
// per batch. It measures what the sink adds to a pipeline: decoding the
// records, checking and building the Arrow columns, Parquet encoding with
// zstd, hashing the contents, and the upload. MB/s is JSON input;
// records/s is reported too.
func BenchmarkJSONLToParquet(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"parquet_declared", Config{Format: FormatParquet, Schema: mustSchema(b, eventSchema)}},
		{"parquet_inferred", Config{Format: FormatParquet}},
		{"jsonl_zstd", Config{Format: FormatJSONL, Compression: "zstd"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const n = 100000
			cfg := bc.cfg
			cfg.URL, cfg.RowGroupSize, cfg.Roll = "mem://", DefaultRowGroupSize, Defaults().Roll
			s := openSink(b, cfg)
			src, size := eventBatch(n, "game-events/0", 0, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
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
				}
				return engine.Batch{Records: recs}
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				batch := fresh()
				b.StartTimer()
				if err := s.Write(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
