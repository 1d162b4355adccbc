package generate

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
)

func readAll(t *testing.T, c Config) []engine.Record {
	t.Helper()
	s, err := New(c, engine.TestEnv())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	var out []engine.Record
	for {
		b, ack, err := s.Read(t.Context())
		if errors.Is(err, engine.ErrEndOfInput) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b.Records...)
		ack(t.Context(), nil)
	}
}

func TestDeterministic(t *testing.T) {
	c := Defaults()
	c.Count, c.BatchSize, c.Start = 1234, 100, "2026-11-25T00:00:00Z"
	a, b := readAll(t, c), readAll(t, c)
	if len(a) != 1234 || len(b) != 1234 {
		t.Fatalf("got %d and %d events, want 1234", len(a), len(b))
	}
	for i := range a {
		if string(a[i].Value) != string(b[i].Value) || !a[i].Time.Equal(b[i].Time) || a[i].Source != b[i].Source {
			t.Fatalf("event %d differs between runs:\n%s\n%s", i, a[i].Value, b[i].Value)
		}
		var m map[string]any
		if err := json.Unmarshal(a[i].Value, &m); err != nil {
			t.Fatalf("event %d is not JSON: %v: %s", i, err, a[i].Value)
		}
		if m["ts"] != a[i].Time.Format("2006-01-02T15:04:05.000Z07:00") || a[i].Source.Offset != int64(i) {
			t.Fatalf("event %d: ts %v, time %v, position %v", i, m["ts"], a[i].Time, a[i].Source)
		}
	}
	c.Seed = 2
	if other := readAll(t, c); string(other[0].Value) == string(a[0].Value) {
		t.Error("another seed gave the same events")
	}
}

func TestBadEvery(t *testing.T) {
	c := Defaults()
	c.Count, c.BadEvery = 100, 10
	bad := 0
	for _, r := range readAll(t, c) {
		if !json.Valid(r.Value) {
			bad++
		}
	}
	if bad != 10 {
		t.Fatalf("%d invalid events, want 10", bad)
	}
}

func TestRateLimit(t *testing.T) {
	c := Defaults()
	c.Count, c.Rate, c.BatchSize = 300, 1000, 50
	start := time.Now()
	readAll(t, c)
	if el := time.Since(start); el < 250*time.Millisecond {
		t.Fatalf("300 events at 1000/s took %v", el)
	}
}

func TestReadHonoursContext(t *testing.T) {
	c := Defaults()
	c.Rate = 0.001
	s, _ := New(c, engine.TestEnv())
	s.Open(t.Context())
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := s.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func BenchmarkRead(b *testing.B) {
	c := Defaults()
	c.BatchSize = 1000
	s, _ := New(c, engine.TestEnv())
	s.Open(context.Background())
	b.ReportAllocs()
	var n int
	for b.Loop() {
		bt, _, _ := s.Read(context.Background())
		n += len(bt.Records)
		b.SetBytes(int64(bt.Bytes()))
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
