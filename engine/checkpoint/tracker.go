package checkpoint

import (
	"context"
	"sync"
)

// Tracker turns acks that arrive out of order into a position that is safe
// to commit, and bounds how many positions are in flight.
//
// Positions are tracked in read order. A position is committable once it
// and every position tracked before it are settled; the Tracker never
// compares positions, so P may be any type: a Kafka offset, an object name
// and line, a resume token.
//
// A Tracker is safe for concurrent use. Every operation is O(1), amortized
// over the growth of its queue.
type Tracker[P any] struct {
	max int // most unresolved positions; 0 for no bound

	mu      sync.Mutex
	queue   []entry[P] // ring buffer of pending entries; queue[head] is the oldest
	head, n int        // index of the oldest entry, number of entries
	base    uint64     // sequence number of queue[head]; sequence numbers never repeat
	last    P          // highest committable position, valid when hasLast
	hasLast bool
	changed chan struct{} // closed when base grows; nil while nobody waits
	waiting int           // calls of Track blocked at the bound
}

// entry is a tracked position and whether its batch has settled.
type entry[P any] struct {
	pos     P
	settled bool
}

// NewTracker returns an empty Tracker that lets at most maxPending positions
// be pending at once; maxPending <= 0 sets no bound.
func NewTracker[P any](maxPending int) *Tracker[P] {
	return &Tracker[P]{max: max(maxPending, 0)}
}

// Track records pos as the next position in read order. While maxPending
// positions are pending it blocks until one becomes committable or Reset is
// called; if ctx ends first, it returns ctx.Err() and tracks nothing. When
// there is room Track does not block, and succeeds even if ctx has ended. Calls to Track must be made in read order, so normally from the
// one goroutine that reads the source.
//
// Call done once the batch at pos has settled, whether written or
// dead-lettered. If that makes the committable position advance, done
// returns the new committable position (the highest one that, with every
// position tracked before it, is settled) and true; otherwise it returns the
// zero P and false. Calling done again, or after Reset, does nothing and
// returns the zero P and false. done is safe to call from any goroutine.
func (t *Tracker[P]) Track(ctx context.Context, pos P) (done func() (P, bool), err error) {
	t.mu.Lock()
	for t.max > 0 && t.n >= t.max {
		if err := t.wait(ctx); err != nil {
			return nil, err
		}
	}
	if t.n == len(t.queue) {
		t.grow()
	}
	t.queue[t.index(t.n)] = entry[P]{pos: pos}
	seq := t.base + uint64(t.n)
	t.n++
	t.mu.Unlock()
	return func() (P, bool) { return t.settle(seq) }, nil
}

// Committable returns the highest position that, with every position
// tracked before it, is settled, and false if there is none yet.
func (t *Tracker[P]) Committable() (P, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last, t.hasLast
}

// Waiting reports whether a call of Track is blocked at the bound, waiting
// for a batch to settle.
func (t *Tracker[P]) Waiting() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.waiting > 0
}

// Pending returns how many tracked positions are not yet committable: those
// not settled and those settled behind one that is not.
func (t *Tracker[P]) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// Wait blocks until every position tracked before the call is committable
// or dropped by Reset, and then returns nil; if ctx ends first it returns
// ctx.Err(). Positions tracked during the call are not waited for, so
// without those Wait returns once Pending is 0. A source that loses a
// partition stops reading it and calls Wait with a deadline to drain the
// batches in flight before its last commit.
func (t *Tracker[P]) Wait(ctx context.Context) error {
	t.mu.Lock()
	end := t.base + uint64(t.n) // sequence number of the next position tracked
	for t.base < end {
		if err := t.wait(ctx); err != nil {
			return err
		}
	}
	t.mu.Unlock()
	return nil
}

// Reset drops every tracked position and the committable one, as when a
// partition is assigned afresh. Calls blocked in Track go on to track their
// positions in the emptied Tracker, calls blocked in Wait return, and the
// done functions of positions tracked before Reset become no-ops.
func (t *Tracker[P]) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.queue) // let go of the positions
	t.base += uint64(t.n)
	t.head, t.n = 0, 0
	var zero P
	t.last, t.hasLast = zero, false
	t.broadcast()
}

// settle marks the entry with sequence number seq as settled and pops every
// settled entry from the head of the queue.
func (t *Tracker[P]) settle(seq uint64) (P, bool) {
	var zero P
	t.mu.Lock()
	defer t.mu.Unlock()
	if seq < t.base { // popped already, or dropped by Reset
		return zero, false
	}
	e := &t.queue[t.index(int(seq-t.base))]
	if e.settled {
		return zero, false
	}
	e.settled = true
	if seq != t.base {
		return zero, false
	}
	for t.n > 0 && t.queue[t.head].settled {
		t.last = t.queue[t.head].pos
		t.queue[t.head] = entry[P]{}
		t.head = t.index(1)
		t.n--
		t.base++
	}
	t.hasLast = true
	t.broadcast()
	return t.last, true
}

// wait releases t.mu until entries leave the queue or ctx ends, and takes it back
// unless it returns ctx.Err(). The caller must hold t.mu.
func (t *Tracker[P]) wait(ctx context.Context) error {
	if t.changed == nil {
		t.changed = make(chan struct{})
	}
	changed := t.changed
	t.waiting++
	t.mu.Unlock()
	select {
	case <-ctx.Done():
		t.mu.Lock()
		t.waiting--
		t.mu.Unlock()
		return ctx.Err()
	case <-changed:
		t.mu.Lock()
		t.waiting--
		return nil
	}
}

// broadcast wakes every goroutine in wait. The caller must hold t.mu.
func (t *Tracker[P]) broadcast() {
	if t.changed != nil {
		close(t.changed)
		t.changed = nil
	}
}

// index returns the queue index of the entry i places after the head.
func (t *Tracker[P]) index(i int) int {
	i += t.head
	if i >= len(t.queue) {
		i -= len(t.queue)
	}
	return i
}

// grow doubles the queue, up to max when there is one, keeping the order of
// its entries and moving the head to index 0.
func (t *Tracker[P]) grow() {
	size := max(2*len(t.queue), 16)
	if t.max > 0 {
		size = min(size, t.max)
	}
	q := make([]entry[P], size)
	n := copy(q, t.queue[t.head:])
	copy(q[n:], t.queue[:t.head])
	t.queue, t.head = q, 0
}
