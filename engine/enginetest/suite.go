package enginetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/codec"
)

// SinkHarness connects SinkSuite to a sink and to what the sink's
// destination holds.
type SinkHarness struct {
	// New returns a new, unopened sink writing to the same destination
	// each time it is called within one subtest; each subtest starts with
	// an empty destination (Reset).
	New func(t *testing.T) engine.Sink
	// Read returns the values that are durable in the destination, in any
	// order.
	Read func(t *testing.T) [][]byte
	// Reset empties the destination; nil when New already starts empty.
	Reset func(t *testing.T)
	// Value returns the value of test record i; nil means a small JSON
	// object {"id":i,"name":"record-i"}.
	Value func(i int) []byte
	// Idempotent says that writing the same records twice (a replay)
	// leaves them once in the destination.
	Idempotent bool
	// Codec is set on the test records; nil means json.
	Codec codec.Codec
}

func (h SinkHarness) value(i int) []byte {
	if h.Value != nil {
		return h.Value(i)
	}
	return fmt.Appendf(nil, `{"id":%d,"name":"record-%d"}`, i, i)
}

func (h SinkHarness) batch(from, n int) engine.Batch {
	c := h.Codec
	if c == nil {
		c, _ = codec.Lookup("json")
	}
	recs := make([]engine.Record, n)
	for i := range recs {
		recs[i] = engine.Record{
			Value:  h.value(from + i),
			Key:    fmt.Appendf(nil, "k%d", from+i),
			Time:   time.Unix(1700000000, 0).Add(time.Duration(from+i) * time.Millisecond).UTC(),
			Source: engine.Position{Stream: "conformance", Offset: int64(from + i)},
		}
		recs[i].SetCodec(c)
	}
	return engine.Batch{Records: recs}
}

// SinkSuite checks that a sink honours the engine.Sink contract: it opens
// and closes, every record of a successful Write is durable, concurrent
// writes lose nothing, an empty batch is fine, a cancelled context fails a
// Write rather than reporting it durable, and (when Idempotent) a replay does
// not duplicate.
func SinkSuite(t *testing.T, h SinkHarness) {
	t.Helper()
	fresh := func(t *testing.T) engine.Sink {
		if h.Reset != nil {
			h.Reset(t)
		}
		s := h.New(t)
		if err := s.Open(t.Context()); err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	}
	closeSink := func(t *testing.T, s engine.Sink) {
		if err := s.Close(context.Background()); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	t.Run("open_close", func(t *testing.T) {
		s := fresh(t)
		closeSink(t, s)
	})
	t.Run("round_trip", func(t *testing.T) {
		s := fresh(t)
		for b := 0; b < 3; b++ {
			if err := s.Write(t.Context(), h.batch(b*50, 50)); err != nil {
				t.Fatalf("Write batch %d: %v", b, err)
			}
		}
		closeSink(t, s)
		want := make([][]byte, 150)
		for i := range want {
			want[i] = h.value(i)
		}
		assertSameValues(t, h.Read(t), want)
	})
	t.Run("empty_batch", func(t *testing.T) {
		s := fresh(t)
		if err := s.Write(t.Context(), engine.Batch{}); err != nil {
			t.Fatalf("Write of an empty batch: %v", err)
		}
		closeSink(t, s)
		if got := h.Read(t); len(got) != 0 {
			t.Fatalf("empty batch wrote %d records", len(got))
		}
	})
	t.Run("concurrent_writes", func(t *testing.T) {
		s := fresh(t)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.Write(t.Context(), h.batch(w*25, 25))
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent Write: %v", err)
			}
		}
		closeSink(t, s)
		want := make([][]byte, 100)
		for i := range want {
			want[i] = h.value(i)
		}
		assertSameValues(t, h.Read(t), want)
	})
	t.Run("cancelled_context", func(t *testing.T) {
		s := fresh(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := s.Write(ctx, h.batch(0, 10))
		closeSink(t, s)
		if err == nil {
			// A sink may have finished before looking at ctx; then every
			// record must be durable.
			assertSameValues(t, h.Read(t), valuesOf(h, 0, 10))
		}
	})
	if h.Idempotent {
		t.Run("replay_is_idempotent", func(t *testing.T) {
			s := fresh(t)
			for range 2 {
				if err := s.Write(t.Context(), h.batch(0, 40)); err != nil {
					t.Fatalf("Write: %v", err)
				}
			}
			closeSink(t, s)
			assertSameValues(t, h.Read(t), valuesOf(h, 0, 40))
		})
	}
}

func valuesOf(h SinkHarness, from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = h.value(from + i)
	}
	return out
}

func assertSameValues(t *testing.T, got, want [][]byte) {
	t.Helper()
	g := sortedCopy(got)
	w := sortedCopy(want)
	if len(g) != len(w) {
		t.Fatalf("destination holds %d records, want %d", len(g), len(w))
	}
	for i := range g {
		if !bytes.Equal(g[i], w[i]) {
			t.Fatalf("records differ: got %q, want %q (sorted position %d)", g[i], w[i], i)
		}
	}
}

func sortedCopy(v [][]byte) [][]byte {
	out := slices.Clone(v)
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i], out[j]) < 0 })
	return out
}

// SourceHarness connects SourceSuite to a source and to the system it reads.
type SourceHarness struct {
	// Produce adds records with these values to the system the source
	// reads; it is called at most once per subtest, before New.
	Produce func(t *testing.T, values [][]byte)
	// New returns a new, unopened source reading the produced records and
	// resuming from what earlier sources of the same subtest committed.
	New func(t *testing.T) engine.Source
	// Reset starts a subtest on an empty system with no committed state.
	Reset func(t *testing.T)
	// Timeout bounds how long a subtest waits for records; 0 means 30s.
	Timeout time.Duration
}

// SourceSuite checks that a source honours the engine.Source contract: it
// opens and closes, reads every produced record with its value, keeps the
// records of a batch that was acknowledged with an error for a later source
// (redelivery), and resumes after a restart from what it committed, losing
// nothing (at least once).
func SourceSuite(t *testing.T, h SourceHarness) {
	t.Helper()
	timeout := h.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	values := func(n int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = fmt.Appendf(nil, `{"id":%d}`, i)
		}
		return out
	}
	setup := func(t *testing.T, n int) [][]byte {
		if h.Reset != nil {
			h.Reset(t)
		}
		v := values(n)
		h.Produce(t, v)
		return v
	}
	open := func(t *testing.T) engine.Source {
		s := h.New(t)
		if err := s.Open(t.Context()); err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	}
	t.Run("open_close", func(t *testing.T) {
		setup(t, 0)
		s := open(t)
		if err := s.Close(context.Background()); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
	t.Run("round_trip", func(t *testing.T) {
		want := setup(t, 500)
		s := open(t)
		got := readN(t, s, len(want), timeout, func(engine.Ack) error { return nil })
		if err := s.Close(context.Background()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		assertSameValues(t, got, want)
	})
	t.Run("nack_redelivers", func(t *testing.T) {
		want := setup(t, 300)
		s := open(t)
		nacked := errors.New("conformance: nack")
		// Acknowledge every batch with an error: nothing may be committed.
		readN(t, s, len(want), timeout, func(engine.Ack) error { return nacked })
		if err := s.Close(context.Background()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		s2 := open(t)
		got := readN(t, s2, len(want), timeout, func(engine.Ack) error { return nil })
		if err := s2.Close(context.Background()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		assertCovers(t, got, want)
	})
	t.Run("restart_at_least_once", func(t *testing.T) {
		want := setup(t, 1000)
		s := open(t)
		first := readN(t, s, len(want)/2, timeout, func(engine.Ack) error { return nil })
		if err := s.Close(context.Background()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		s2 := open(t)
		rest := readUntilIdle(t, s2, len(want)-len(first), timeout)
		if err := s2.Close(context.Background()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		assertCovers(t, append(first, rest...), want)
	})
}

// readN reads batches until it has at least n records, acknowledging each
// batch with result(ack).
func readN(t *testing.T, s engine.Source, n int, timeout time.Duration, result func(engine.Ack) error) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	var got [][]byte
	for len(got) < n {
		b, ack, err := s.Read(ctx)
		if errors.Is(err, engine.ErrEndOfInput) {
			break
		}
		if err != nil {
			t.Fatalf("Read after %d of %d records: %v", len(got), n, err)
		}
		for i := range b.Records {
			got = append(got, bytes.Clone(b.Records[i].Value)) // the source may reuse it after the ack
		}
		if ack != nil {
			ack(ctx, result(ack))
		}
	}
	if len(got) < n {
		t.Fatalf("read %d records, want at least %d", len(got), n)
	}
	return got
}

// readUntilIdle reads at least min records, acknowledging them, then stops
// at end of input or when no batch comes for a short while.
func readUntilIdle(t *testing.T, s engine.Source, atLeast int, timeout time.Duration) [][]byte {
	t.Helper()
	got := readN(t, s, atLeast, timeout, func(engine.Ack) error { return nil })
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		b, ack, err := s.Read(ctx)
		cancel()
		if err != nil {
			return got
		}
		for i := range b.Records {
			got = append(got, bytes.Clone(b.Records[i].Value)) // the source may reuse it after the ack
		}
		if ack != nil {
			ack(t.Context(), nil)
		}
	}
}

func assertCovers(t *testing.T, got, want [][]byte) {
	t.Helper()
	seen := make(map[string]bool, len(got))
	for _, g := range got {
		seen[string(g)] = true
	}
	missing := 0
	for _, w := range want {
		if !seen[string(w)] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d records never delivered", missing, len(want))
	}
}
