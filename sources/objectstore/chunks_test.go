package objectstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/engine"
)

// TestRecycledChunks reads objects of many chunks with batches in flight,
// as the runtime holds them, acknowledging the oldest as new ones come: a
// batch's values must be whole and unchanged up to its ack, although the
// chunks and record slices of acknowledged batches are read into again,
// and the source must reuse them rather than make new ones for every
// chunk's worth of lines.
func TestRecycledChunks(t *testing.T) {
	u, b := testBucket(t)
	rng := rand.New(rand.NewPCG(1, 2))
	line := func(obj, seq int) string {
		// Lengths vary so that lines are cut by the ends of chunks at
		// every offset.
		return fmt.Sprintf(`{"obj":%d,"seq":%d,"pad":"%s"}`, obj, seq, strings.Repeat("x", (seq*7919)%400))
	}
	const objects, lines = 3, 20000 // about 4.5 MB an object: 17 chunks
	for o := range objects {
		var sb strings.Builder
		for i := range lines {
			sb.WriteString(line(o, i) + "\n")
		}
		put(t, b, fmt.Sprintf("o%d.jsonl", o), []byte(sb.String()))
	}
	c := config(u)
	c.BatchSize = 500
	s := open(t, c, engine.TestEnv())
	defer s.Close(t.Context())

	type flight struct {
		recs []engine.Record
		ack  engine.Ack
	}
	var inFlight []flight
	next := [objects]int{}
	check := func(f flight) {
		t.Helper()
		for i := range f.recs {
			var ev struct{ Obj, Seq int }
			if err := json.Unmarshal(f.recs[i].Value, &ev); err != nil {
				t.Fatalf("record %v: %v: %q", f.recs[i].Source, err, f.recs[i].Value)
			}
			if string(f.recs[i].Value) != line(ev.Obj, ev.Seq) || ev.Seq != next[ev.Obj] {
				t.Fatalf("record %v: %q, want line %d of object %d", f.recs[i].Source, f.recs[i].Value, next[ev.Obj], ev.Obj)
			}
			next[ev.Obj]++
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
	for o := range objects {
		if next[o] != lines {
			t.Errorf("object %d: read %d lines, want %d", o, next[o], lines)
		}
	}
	// 51 chunks' worth of lines; at most 8 batches of 500 lines, about
	// 115 KB each, hold chunks at a time, with the decoder's own.
	if made := s.recycle.made.Load(); made > 12 {
		t.Errorf("made %d chunks for %d objects of %d lines; want them reused", made, objects, lines)
	}
}
