package codec_test

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/codec"
	"github.com/sluicehq/sluice/engine/field"
	"github.com/sluicehq/sluice/sources/generate"
)

// BenchmarkPickEvents picks the fields scenario (a) of the benchmarks
// reads from 20,000 different events of the generate source, the input of
// that scenario, in turn, with one key cache, as a worker of the runtime
// does: unlike BenchmarkPick's one event, their values vary in length and
// do not stay in the first level of cache.
func BenchmarkPickEvents(b *testing.B) {
	c := generate.Defaults()
	c.Count, c.BatchSize, c.Start, c.Step = 20000, 20000, "2026-11-24T00:00:00Z", 100*time.Millisecond
	src, err := generate.New(c, engine.TestEnv())
	if err != nil {
		b.Fatal(err)
	}
	batch, _, err := src.Read(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	for _, r := range batch.Records {
		size += int64(len(r.Value))
	}
	json, err := codec.Lookup("json")
	if err != nil {
		b.Fatal(err)
	}
	p := json.(codec.Picker)
	l := field.NewLayout("day", "event", "latency_ms", "region", "ts")
	dst := make([]field.Value, l.Len())
	var keys codec.KeyCache
	b.SetBytes(size / int64(len(batch.Records)))
	i := 0
	for b.Loop() {
		clear(dst)
		if err := p.PickValues(batch.Records[i].Value, l, 1<<l.Len()-1, dst, &keys); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(batch.Records) {
			i = 0
		}
	}
}
