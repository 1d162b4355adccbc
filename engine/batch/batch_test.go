package batch

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// strlen sizes a string item by its length.
func strlen(s string) int { return len(s) }

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		want []string // substrings the error must contain; none means valid
	}{
		{name: "zero", p: Policy{}},
		{name: "all set", p: Policy{Count: 10, Bytes: 1 << 20, Period: time.Second}},
		{name: "negative count", p: Policy{Count: -1}, want: []string{"count: must not be negative, got -1"}},
		{
			name: "every field negative",
			p:    Policy{Count: -1, Bytes: -2, Period: -time.Second},
			want: []string{"count:", "bytes: must not be negative, got -2", "period: must not be negative, got -1s"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestNewPanicsOnMisuse(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		size func(string) int
	}{
		{name: "invalid policy", p: Policy{Count: -1}},
		{name: "bytes without size", p: Policy{Bytes: 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("New did not panic")
				}
			}()
			New(tc.p, tc.size)
		})
	}
}

// step is one Add and what it must return and leave pending.
type step struct {
	add     string
	want    []string // batch Add returns; nil for none
	len     int      // Len afterwards
	size    int64    // Size afterwards
	timerOn bool     // whether Timer is non-nil afterwards
}

func TestAdd(t *testing.T) {
	tests := []struct {
		name  string
		p     Policy
		steps []step
	}{
		{
			name: "count",
			p:    Policy{Count: 3},
			steps: []step{
				{add: "a", len: 1, size: 1},
				{add: "b", len: 2, size: 2},
				{add: "c", want: []string{"a", "b", "c"}},
				{add: "d", len: 1, size: 1},
			},
		},
		{
			name: "bytes reached exactly",
			p:    Policy{Bytes: 4},
			steps: []step{
				{add: "ab", len: 1, size: 2},
				{add: "cd", want: []string{"ab", "cd"}},
			},
		},
		{
			name: "bytes never exceeded",
			p:    Policy{Bytes: 4},
			steps: []step{
				{add: "abc", len: 1, size: 3},
				{add: "de", want: []string{"abc"}, len: 1, size: 2},
				{add: "f", len: 2, size: 3},
			},
		},
		{
			name: "oversize item alone",
			p:    Policy{Bytes: 4},
			steps: []step{
				{add: "abcdefgh", want: []string{"abcdefgh"}},
				{add: "a", len: 1, size: 1},
			},
		},
		{
			name: "oversize item after pending",
			p:    Policy{Bytes: 4},
			steps: []step{
				{add: "ab", len: 1, size: 2},
				{add: "abcdefgh", want: []string{"ab"}, len: 1, size: 8, timerOn: true},
				{add: "c", want: []string{"abcdefgh"}, len: 1, size: 1},
			},
		},
		{
			name: "count before bytes",
			p:    Policy{Count: 2, Bytes: 100},
			steps: []step{
				{add: "a", len: 1, size: 1},
				{add: "b", want: []string{"a", "b"}},
			},
		},
		{
			name: "zero policy flushes every item",
			p:    Policy{},
			steps: []step{
				{add: "a", want: []string{"a"}},
				{add: "b", want: []string{"b"}},
			},
		},
		{
			name: "period arms the timer on the first item",
			p:    Policy{Count: 2, Period: time.Hour},
			steps: []step{
				{add: "a", len: 1, size: 1, timerOn: true},
				{add: "b", want: []string{"a", "b"}},
				{add: "c", len: 1, size: 1, timerOn: true},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := New(tc.p, strlen)
			for i, s := range tc.steps {
				got := b.Add(s.add)
				if !slices.Equal(got, s.want) || (got == nil) != (s.want == nil) {
					t.Fatalf("step %d: Add(%q) = %q, want %q", i, s.add, got, s.want)
				}
				if b.Len() != s.len || b.Size() != s.size {
					t.Fatalf("step %d: Len, Size = %d, %d, want %d, %d", i, b.Len(), b.Size(), s.len, s.size)
				}
				if on := b.Timer() != nil; on != s.timerOn {
					t.Fatalf("step %d: Timer() != nil is %t, want %t", i, on, s.timerOn)
				}
			}
		})
	}
}

func TestFlush(t *testing.T) {
	b := New(Policy{Count: 10, Period: time.Hour}, strlen)
	if got := b.Flush(); got != nil {
		t.Fatalf("Flush() on an empty Batcher = %q, want nil", got)
	}
	b.Add("a")
	b.Add("bc")
	if got, want := b.Flush(), []string{"a", "bc"}; !slices.Equal(got, want) {
		t.Fatalf("Flush() = %q, want %q", got, want)
	}
	if b.Len() != 0 || b.Size() != 0 || b.Timer() != nil {
		t.Fatalf("after Flush: Len %d, Size %d, Timer %v; want 0, 0, nil", b.Len(), b.Size(), b.Timer())
	}
	if got := b.Flush(); got != nil {
		t.Fatalf("second Flush() = %q, want nil", got)
	}
}

func TestReturnedBatchIsNotReused(t *testing.T) {
	b := New[string](Policy{Count: 2}, nil)
	b.Add("a")
	first := b.Add("b")
	b.Add("c")
	second := b.Add("d")
	if !slices.Equal(first, []string{"a", "b"}) || !slices.Equal(second, []string{"c", "d"}) {
		t.Fatalf("batches = %q, %q; want [a b], [c d]", first, second)
	}
}

func TestTimerFiresAfterPeriod(t *testing.T) {
	const period = 10 * time.Millisecond
	b := New[string](Policy{Count: 100, Period: period}, nil)
	if b.Timer() != nil {
		t.Fatal("Timer() is not nil on an empty Batcher")
	}
	start := time.Now()
	b.Add("a")
	b.Add("b")
	select {
	case <-b.Timer():
	case <-time.After(time.Second):
		t.Fatal("Timer did not fire")
	}
	if elapsed := time.Since(start); elapsed < period {
		t.Fatalf("Timer fired after %s, before the period of %s", elapsed, period)
	}
	if got, want := b.Flush(), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("Flush() = %q, want %q", got, want)
	}

	// A flush before the period ends stops the timer: the next batch gets a
	// full period of its own and no stale tick.
	b.Add("c")
	b.Flush()
	b.Add("d")
	select {
	case <-b.Timer():
		t.Fatal("Timer fired at once for a new batch")
	case <-time.After(period / 2):
	}
}

func TestTimerFiresAtOnceForPendingOversizeItem(t *testing.T) {
	b := New(Policy{Bytes: 4}, strlen) // no Period: only the oversize case arms it
	b.Add("ab")
	if got := b.Add("abcdefgh"); !slices.Equal(got, []string{"ab"}) {
		t.Fatalf("Add = %q, want [ab]", got)
	}
	select {
	case <-b.Timer():
	case <-time.After(time.Second):
		t.Fatal("Timer did not fire for a full pending batch")
	}
	if got := b.Flush(); !slices.Equal(got, []string{"abcdefgh"}) {
		t.Fatalf("Flush() = %q, want [abcdefgh]", got)
	}
}

// runResult is what a Run goroutine reports back.
type runResult struct {
	batches [][]string
	err     error
}

// startRun runs Run in a goroutine, recording the batches it flushes.
func startRun(ctx context.Context, b *Batcher[string], in <-chan string, failOn int) <-chan runResult {
	done := make(chan runResult, 1)
	go func() {
		var r runResult
		r.err = Run(ctx, b, in, func(_ context.Context, batch []string) error {
			r.batches = append(r.batches, batch)
			if len(r.batches) == failOn {
				return errSink
			}
			return nil
		})
		done <- r
	}()
	return done
}

var errSink = errors.New("sink down")

func TestRun(t *testing.T) {
	tests := []struct {
		name   string
		p      Policy
		items  []string
		failOn int // the flush call, counting from 1, that fails; 0 for none
		want   [][]string
		err    error
	}{
		{
			name:  "close flushes the rest",
			p:     Policy{Count: 2},
			items: []string{"a", "b", "c"},
			want:  [][]string{{"a", "b"}, {"c"}},
		},
		{
			name:  "close with nothing pending",
			p:     Policy{Count: 2},
			items: []string{"a", "b"},
			want:  [][]string{{"a", "b"}},
		},
		{
			name: "no items",
			p:    Policy{Count: 2},
		},
		{
			name:   "first flush error stops it",
			p:      Policy{Count: 1},
			items:  []string{"a", "b", "c"},
			failOn: 1,
			want:   [][]string{{"a"}},
			err:    errSink,
		},
		{
			name:   "error from the final flush",
			p:      Policy{Count: 5},
			items:  []string{"a", "b"},
			failOn: 1,
			want:   [][]string{{"a", "b"}},
			err:    errSink,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := make(chan string, len(tc.items))
			for _, it := range tc.items {
				in <- it
			}
			close(in)
			r := <-startRun(t.Context(), New(tc.p, strlen), in, tc.failOn)
			if !errors.Is(r.err, tc.err) {
				t.Fatalf("Run() = %v, want %v", r.err, tc.err)
			}
			if !slices.EqualFunc(r.batches, tc.want, slices.Equal) {
				t.Fatalf("flushed %q, want %q", r.batches, tc.want)
			}
		})
	}
}

func TestRunFlushesOnTimer(t *testing.T) {
	b := New[string](Policy{Count: 100, Period: 5 * time.Millisecond}, nil)
	in := make(chan string)
	flushed := make(chan []string)
	done := make(chan error, 1)
	go func() {
		done <- Run(t.Context(), b, in, func(_ context.Context, batch []string) error {
			flushed <- batch
			return nil
		})
	}()
	in <- "a"
	in <- "b"
	select {
	case got := <-flushed:
		if !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("flushed %q, want [a b]", got)
		}
	case <-time.After(time.Second):
		t.Fatal("Run did not flush on the timer")
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
}

func TestRunContextEndsLeavesPending(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	b := New[string](Policy{Count: 100}, nil)
	in := make(chan string)
	res := startRun(ctx, b, in, 0)
	in <- "a"
	in <- "b" // unbuffered: once sent, "a" has been added
	cancel()
	r := <-res
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Run() = %v, want context.Canceled", r.err)
	}
	if len(r.batches) != 0 {
		t.Fatalf("flushed %q after ctx ended, want nothing", r.batches)
	}
	if got := b.Flush(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("pending after Run = %q, want [a b]", got)
	}
}

func BenchmarkBatcherAdd(b *testing.B) {
	type item struct{ payload []byte }
	payload := make([]byte, 100)
	for _, p := range []Policy{
		{Count: 500},
		{Count: 500, Bytes: 1 << 20, Period: time.Second},
	} {
		b.Run(fmtPolicy(p), func(b *testing.B) {
			bt := New(p, func(it item) int { return len(it.payload) })
			it := item{payload: payload}
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				bt.Add(it)
			}
		})
	}
}

// fmtPolicy names a benchmark after the limits p sets.
func fmtPolicy(p Policy) string {
	var parts []string
	if p.Count > 0 {
		parts = append(parts, "count")
	}
	if p.Bytes > 0 {
		parts = append(parts, "bytes")
	}
	if p.Period > 0 {
		parts = append(parts, "period")
	}
	return strings.Join(parts, "+")
}
