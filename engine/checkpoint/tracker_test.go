package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// settled is what one call of a done function returned.
type settled struct {
	pos int
	ok  bool
}

func TestTrackerSettleOrder(t *testing.T) {
	tests := []struct {
		name  string
		track int       // positions 0..track-1 are tracked
		order []int     // the positions whose done is called, in order
		want  []settled // what each call returns
	}{
		{
			name:  "in order",
			track: 3,
			order: []int{0, 1, 2},
			want:  []settled{{0, true}, {1, true}, {2, true}},
		},
		{
			name:  "reversed",
			track: 3,
			order: []int{2, 1, 0},
			want:  []settled{{0, false}, {0, false}, {2, true}},
		},
		{
			name:  "gaps fill",
			track: 5,
			order: []int{2, 0, 1, 4, 3},
			want:  []settled{{0, false}, {0, true}, {2, true}, {0, false}, {4, true}},
		},
		{
			name:  "second call is a no-op",
			track: 3,
			order: []int{1, 1, 0, 0, 2},
			want:  []settled{{0, false}, {0, false}, {1, true}, {0, false}, {2, true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker[int](0)
			if _, ok := tr.Committable(); ok {
				t.Fatal("Committable() reports a position before any was tracked")
			}
			dones := make([]func() (int, bool), tc.track)
			for i := range dones {
				done, err := tr.Track(t.Context(), i)
				if err != nil {
					t.Fatalf("Track(%d) = %v", i, err)
				}
				dones[i] = done
			}
			for i, pos := range tc.order {
				p, ok := dones[pos]()
				if got := (settled{p, ok}); got != tc.want[i] {
					t.Fatalf("call %d: done of %d = %v, want %v", i, pos, got, tc.want[i])
				}
			}
			if p, ok := tr.Committable(); p != tc.track-1 || !ok {
				t.Fatalf("Committable() = %d, %t; want %d, true", p, ok, tc.track-1)
			}
			if n := tr.Pending(); n != 0 {
				t.Fatalf("Pending() = %d, want 0", n)
			}
		})
	}
}

func TestTrackerPending(t *testing.T) {
	tr := NewTracker[string](0)
	a, _ := tr.Track(t.Context(), "a")
	b, _ := tr.Track(t.Context(), "b")
	tr.Track(t.Context(), "c")
	b() // settled, but behind a
	if n := tr.Pending(); n != 3 {
		t.Fatalf("Pending() = %d, want 3", n)
	}
	if p, ok := a(); p != "b" || !ok {
		t.Fatalf("done of a = %q, %t; want b, true", p, ok)
	}
	if n := tr.Pending(); n != 1 {
		t.Fatalf("Pending() = %d, want 1", n)
	}
}

// TestTrackerRandomSettle settles positions in a random order from several
// goroutines and checks that the committable position never passes one whose
// done has not been called, and ends at the last position.
func TestTrackerRandomSettle(t *testing.T) {
	const (
		n       = 300
		workers = 4
	)
	for seed := range uint64(40) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0))
			tr := NewTracker[int](0)
			dones := make([]func() (int, bool), n)
			for i := range dones {
				dones[i], _ = tr.Track(t.Context(), i)
			}
			var called [n]atomic.Bool // done of i has been called, or is being called
			// check fails the test if a done of a position up to p was not called.
			check := func(who string, p int) {
				for j := 0; j <= p; j++ {
					if !called[j].Load() {
						t.Errorf("%s: committable %d passes %d, which is not settled", who, p, j)
						return
					}
				}
			}

			order := rng.Perm(n)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					last := -1
					for k := w; k < n; k += workers {
						pos := order[k]
						called[pos].Store(true)
						if p, ok := dones[pos](); ok {
							check("done", p)
							if p <= last {
								t.Errorf("done advanced to %d after %d", p, last)
							}
							last = p
						}
					}
				})
			}
			stop := make(chan struct{})
			observed := make(chan struct{})
			go func() {
				defer close(observed)
				for {
					select {
					case <-stop:
						return
					default:
					}
					if p, ok := tr.Committable(); ok {
						check("Committable", p)
					}
				}
			}()
			wg.Wait()
			close(stop)
			<-observed

			if p, ok := tr.Committable(); p != n-1 || !ok {
				t.Fatalf("Committable() = %d, %t; want %d, true", p, ok, n-1)
			}
			if got := tr.Pending(); got != 0 {
				t.Fatalf("Pending() = %d, want 0", got)
			}
		})
	}
}

// TestTrackerBoundedRandomSettle tracks while workers settle in a random
// order, and checks that no more than maxPending positions are ever pending.
func TestTrackerBoundedRandomSettle(t *testing.T) {
	const (
		n          = 500
		maxPending = 16
		workers    = 4
		hold       = 3 // a worker holds at most hold-1 positions while more arrive
	)
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			tr := NewTracker[int](maxPending)
			ch := make(chan func() (int, bool))
			var wg sync.WaitGroup
			for w := range workers {
				rng := rand.New(rand.NewPCG(seed, uint64(w)))
				wg.Go(func() {
					var held []func() (int, bool)
					settleOne := func() {
						i := rng.IntN(len(held))
						held[i]()
						held[i] = held[len(held)-1]
						held = held[:len(held)-1]
					}
					for {
						var done func() (int, bool)
						var ok bool
						select {
						case done, ok = <-ch:
						default:
							// Nothing new: the producer may be blocked on what
							// this worker holds, so settle it.
							if len(held) > 0 {
								settleOne()
								continue
							}
							done, ok = <-ch
						}
						if !ok {
							break
						}
						held = append(held, done)
						if len(held) == hold || rng.IntN(2) == 0 {
							settleOne()
						}
					}
					for len(held) > 0 {
						settleOne()
					}
				})
			}
			for i := range n {
				done, err := tr.Track(t.Context(), i)
				if err != nil {
					t.Fatalf("Track(%d) = %v", i, err)
				}
				if p := tr.Pending(); p > maxPending {
					t.Fatalf("Pending() = %d, more than maxPending %d", p, maxPending)
				}
				ch <- done
			}
			close(ch)
			wg.Wait()
			if p, ok := tr.Committable(); p != n-1 || !ok {
				t.Fatalf("Committable() = %d, %t; want %d, true", p, ok, n-1)
			}
		})
	}
}

// trackAsync calls Track in a goroutine and reports its error.
func trackAsync[P any](ctx context.Context, tr *Tracker[P], pos P) <-chan error {
	res := make(chan error, 1)
	go func() {
		_, err := tr.Track(ctx, pos)
		res <- err
	}()
	return res
}

// blocked fails the test if res delivers within a short while.
func blocked(t *testing.T, res <-chan error, what string) {
	t.Helper()
	select {
	case err := <-res:
		t.Fatalf("%s returned %v, want it to block", what, err)
	case <-time.After(20 * time.Millisecond):
	}
}

// returns fails the test unless res delivers want soon.
func returns(t *testing.T, res <-chan error, want error, what string) {
	t.Helper()
	select {
	case err := <-res:
		if !errors.Is(err, want) {
			t.Fatalf("%s = %v, want %v", what, err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s still blocks", what)
	}
}

func TestTrackBlocksAtMaxPending(t *testing.T) {
	tr := NewTracker[int](2)
	d0, _ := tr.Track(t.Context(), 0)
	d1, _ := tr.Track(t.Context(), 1)

	res := trackAsync(t.Context(), tr, 2)
	blocked(t, res, "Track over maxPending")
	d1() // settled, but still pending behind 0
	blocked(t, res, "Track with a settled position behind an unsettled one")
	d0()
	returns(t, res, nil, "Track after the head settled")
	if n := tr.Pending(); n != 1 {
		t.Fatalf("Pending() = %d, want 1", n)
	}
}

func TestTrackContextEnds(t *testing.T) {
	tests := []struct {
		name string
		ctx  func(context.Context) (context.Context, context.CancelFunc)
		want error
	}{
		{
			name: "canceled",
			ctx: func(parent context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(parent)
				cancel()
				return ctx, cancel
			},
			want: context.Canceled,
		},
		{
			name: "deadline",
			ctx: func(parent context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(parent, 10*time.Millisecond)
			},
			want: context.DeadlineExceeded,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker[int](1)
			tr.Track(t.Context(), 0)
			ctx, cancel := tc.ctx(t.Context())
			defer cancel()
			returns(t, trackAsync(ctx, tr, 1), tc.want, "Track")
			if n := tr.Pending(); n != 1 {
				t.Fatalf("Pending() = %d after a failed Track, want 1", n)
			}
		})
	}
}

func TestTrackerWait(t *testing.T) {
	tr := NewTracker[int](0)
	if err := tr.Wait(t.Context()); err != nil {
		t.Fatalf("Wait() on an empty Tracker = %v", err)
	}
	d0, _ := tr.Track(t.Context(), 0)
	d1, _ := tr.Track(t.Context(), 1)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if err := tr.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait() with pending positions = %v, want context.DeadlineExceeded", err)
	}

	res := make(chan error, 1)
	go func() { res <- tr.Wait(t.Context()) }()
	d0()
	blocked(t, res, "Wait with one position pending")
	d1()
	returns(t, res, nil, "Wait after the last position settled")
}

func TestTrackerReset(t *testing.T) {
	tr := NewTracker[int](2)
	d0, _ := tr.Track(t.Context(), 0)
	d0()
	d1, _ := tr.Track(t.Context(), 1)
	tr.Track(t.Context(), 2)

	blockedTrack := trackAsync(t.Context(), tr, 10)
	blocked(t, blockedTrack, "Track over maxPending")
	waitRes := make(chan error, 1)
	go func() { waitRes <- tr.Wait(t.Context()) }()
	blocked(t, waitRes, "Wait")

	tr.Reset()
	returns(t, blockedTrack, nil, "Track blocked across Reset")
	returns(t, waitRes, nil, "Wait blocked across Reset")

	if p, ok := tr.Committable(); ok {
		t.Fatalf("Committable() after Reset = %d, true; want none", p)
	}
	if n := tr.Pending(); n != 1 { // position 10, tracked after Reset
		t.Fatalf("Pending() after Reset = %d, want 1", n)
	}
	if p, ok := d1(); ok {
		t.Fatalf("done from before Reset = %d, true; want a no-op", p)
	}
	d11, _ := tr.Track(t.Context(), 11)
	if p, ok := d11(); ok {
		t.Fatalf("done of 11 = %d, true; want false behind 10", p)
	}
}

func TestTrackerGrowsAcrossWrap(t *testing.T) {
	// Interleave tracking and settling so that the ring wraps before it grows.
	tr := NewTracker[int](0)
	var dones []func() (int, bool)
	next := 0
	for round := range 10 {
		for range 7 + round*5 {
			d, _ := tr.Track(t.Context(), next)
			dones = append(dones, d)
			next++
		}
		for range 5 {
			dones[0]()
			dones = dones[1:]
		}
	}
	for _, d := range dones[:len(dones)-1] {
		d()
	}
	if p, ok := dones[len(dones)-1](); p != next-1 || !ok {
		t.Fatalf("last done = %d, %t; want %d, true", p, ok, next-1)
	}
}

func BenchmarkTrackDone(b *testing.B) {
	ctx := b.Context()
	b.Run("in_order", func(b *testing.B) {
		tr := NewTracker[int64](1024)
		b.ReportAllocs()
		var pos int64
		for b.Loop() {
			done, _ := tr.Track(ctx, pos)
			done()
			pos++
		}
	})
	b.Run("reversed_by_64", func(b *testing.B) {
		tr := NewTracker[int64](1024)
		dones := make([]func() (int64, bool), 64)
		b.ReportAllocs()
		var pos int64
		for b.Loop() {
			i := int(pos % 64)
			dones[i], _ = tr.Track(ctx, pos)
			if i == 63 {
				for j := 63; j >= 0; j-- {
					dones[j]()
				}
			}
			pos++
		}
	})
}

func TestTrackerWaiting(t *testing.T) {
	tr := NewTracker[int](1)
	done, err := tr.Track(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Waiting() {
		t.Fatal("Waiting with room left")
	}
	tracked := make(chan error, 1)
	go func() { _, err := tr.Track(t.Context(), 2); tracked <- err }()
	deadline := time.Now().Add(5 * time.Second)
	for !tr.Waiting() {
		if time.Now().After(deadline) {
			t.Fatal("a Track blocked at the bound is not reported as waiting")
		}
		time.Sleep(time.Millisecond)
	}
	done()
	if err := <-tracked; err != nil {
		t.Fatal(err)
	}
	if tr.Waiting() {
		t.Error("still Waiting after the blocked Track returned")
	}
	// A Track given up on by its context stops waiting too.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := tr.Track(ctx, 3); err == nil {
		t.Fatal("Track at the bound returned without its context ending")
	}
	if tr.Waiting() {
		t.Error("still Waiting after Track gave up")
	}
}
