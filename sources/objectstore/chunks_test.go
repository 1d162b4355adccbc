package objectstore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/engine"
)

// TestRecycledChunks reads objects of many chunks, JSON lines and Parquet,
// with batches in flight as the runtime holds them, acknowledging the
// oldest as new ones come: a batch's values must be whole and unchanged up
// to its ack, although the chunks and record slices of acknowledged
// batches are read into again, and the source must reuse them rather than
// make new ones for every chunk's worth of records.
func TestRecycledChunks(t *testing.T) {
	line := func(obj, seq int) string {
		// Lengths vary so that lines are cut by the ends of chunks at
		// every offset.
		return fmt.Sprintf(`{"obj":%d,"seq":%d,"pad":"%s"}`, obj, seq, strings.Repeat("x", (seq*7919)%400))
	}
	t.Run("jsonl", func(t *testing.T) {
		u, b := testBucket(t)
		const objects, lines = 3, 20000 // about 4.5 MB an object: 17 chunks
		want := map[string][]string{}
		for o := range objects {
			var sb strings.Builder
			key := fmt.Sprintf("o%d.jsonl", o)
			for i := range lines {
				want[key] = append(want[key], line(o, i))
				sb.WriteString(line(o, i) + "\n")
			}
			put(t, b, key, []byte(sb.String()))
		}
		// 51 chunks' worth of lines; at most 8 batches of 500 lines, about
		// 115 KB each, hold chunks at a time, with the decoder's own.
		readInFlight(t, u, want, 12)
	})
	t.Run("parquet", func(t *testing.T) {
		u, b := testBucket(t)
		data, rows := parquetFileGroups(t, 30000, 7000) // about 3.3 MB of JSON: 13 chunks
		put(t, b, "p.parquet", data)
		readInFlight(t, u, map[string][]string{"p.parquet": rows}, 10)
	})
}

// readInFlight reads the objects of the bucket at u, whose records must be
// want[key] in order, holding up to 8 batches in flight, and checks that
// the source made at most maxChunks chunks.
func readInFlight(t *testing.T, u string, want map[string][]string, maxChunks int64) {
	t.Helper()
	c := config(u)
	c.BatchSize = 500
	s := open(t, c, engine.TestEnv())
	defer s.Close(t.Context())
	rng := rand.New(rand.NewPCG(1, 2))
	type flight struct {
		recs []engine.Record
		ack  engine.Ack
	}
	var inFlight []flight
	next := map[string]int64{}
	check := func(f flight) {
		t.Helper()
		for i := range f.recs {
			r := &f.recs[i]
			key, n := r.Source.Stream, next[r.Source.Stream]
			if r.Source.Offset != n || n >= int64(len(want[key])) || string(r.Value) != want[key][n] {
				t.Fatalf("record %v: %.80q; want record %d of %s", r.Source, r.Value, n, key)
			}
			next[key]++
		}
	}
	for {
		bt, ack, err := s.Read(t.Context())
		if errors.Is(err, engine.ErrEndOfInput) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		inFlight = append(inFlight, flight{bt.Records, ack})
		// Between 1 and 8 batches in flight; acknowledge the oldest.
		for len(inFlight) > 1+rng.IntN(8) {
			check(inFlight[0])
			inFlight[0].ack(t.Context(), nil)
			inFlight = inFlight[1:]
		}
	}
	for _, f := range inFlight {
		check(f)
		f.ack(t.Context(), nil)
	}
	for key, w := range want {
		if next[key] != int64(len(w)) {
			t.Errorf("%s: read %d records, want %d", key, next[key], len(w))
		}
	}
	if made := s.recycle.made.Load(); made > maxChunks {
		t.Errorf("made %d chunks; want them reused", made)
	}
}
