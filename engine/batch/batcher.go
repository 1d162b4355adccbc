package batch

import "time"

// Batcher accumulates items of type T until its Policy says the batch is
// full. It keeps items in the order they were added and hands each one out
// in exactly one batch.
//
// A Batcher is not safe for concurrent use: one goroutine owns it, adds
// items, writes the batches it returns and selects on Timer.
type Batcher[T any] struct {
	policy Policy
	size   func(T) int

	items []T   // pending items; nil when there are none
	bytes int64 // sum of the pending items' sizes
	hint  int   // capacity to give the next batch's slice

	timer  *time.Timer      // created on first use, then reset and reused
	timerC <-chan time.Time // timer.C while the timer is armed, else nil
}

// New returns an empty Batcher that flushes by p. The size function reports
// the size of an item in bytes, a number that must not be negative; it may
// be nil when p.Bytes is zero, and then Size always reports zero.
//
// New panics if p is not valid or if p.Bytes is set without a size
// function: both are programming errors, so check a Policy that comes from
// configuration with Validate first.
func New[T any](p Policy, size func(T) int) *Batcher[T] {
	if err := p.Validate(); err != nil {
		panic("batch: invalid policy: " + err.Error())
	}
	if p.Bytes > 0 && size == nil {
		panic("batch: a policy with a Bytes limit needs a size function")
	}
	// Preallocating Count items makes a batch cost one allocation when it
	// fills by count; later batches are sized like the one before them.
	return &Batcher[T]{policy: p, size: size, hint: p.Count}
}

// Add appends item to the pending batch. When that makes the batch full by
// Count or Bytes, Add returns it and starts a new one; otherwise it returns
// nil. The caller owns a returned slice: the Batcher never touches it again.
//
// If item would take the pending items over Bytes, Add returns the pending
// items without it, and item starts the next batch. An item bigger than
// Bytes on its own forms a batch of its own: Add returns it at once when
// nothing was pending, and otherwise arms Timer to fire at once so that it
// is not held back until the next Add.
func (b *Batcher[T]) Add(item T) []T {
	var n int64
	if b.size != nil {
		n = int64(b.size(item))
	}
	var out []T
	if b.policy.Bytes > 0 && b.items != nil && b.bytes+n > b.policy.Bytes {
		out = b.take()
	}
	if b.items == nil {
		b.items = make([]T, 0, b.hint)
	}
	b.items = append(b.items, item)
	b.bytes += n

	switch {
	case !b.full():
		if len(b.items) == 1 && b.policy.Period > 0 {
			b.arm(b.policy.Period)
		}
	case out == nil:
		out = b.take()
	default:
		// The previous batch is already being returned and item fills a
		// batch alone: have Timer fire at once so the owner flushes it.
		b.arm(0)
	}
	return out
}

// Flush returns the pending items, or nil if there are none, and starts a
// new batch. The caller owns the returned slice.
func (b *Batcher[T]) Flush() []T {
	if b.items == nil {
		return nil
	}
	return b.take()
}

// Len returns the number of pending items.
func (b *Batcher[T]) Len() int { return len(b.items) }

// Size returns the sum of the pending items' sizes in bytes.
func (b *Batcher[T]) Size() int64 { return b.bytes }

// Timer returns a channel that receives a value once the pending batch is
// due: Period after its first item was added, or at once when Add left a
// full batch pending. Call Flush when it fires. The channel is nil, so that
// a select on it blocks, when nothing is pending or when no flush is due by
// time; call Timer again after every Add and Flush, since the channel it
// returns changes with them.
func (b *Batcher[T]) Timer() <-chan time.Time { return b.timerC }

// full reports whether the pending batch must be flushed now.
func (b *Batcher[T]) full() bool {
	p := b.policy
	return p.unlimited() ||
		(p.Count > 0 && len(b.items) >= p.Count) ||
		(p.Bytes > 0 && b.bytes >= p.Bytes)
}

// take hands out the pending items and resets the Batcher.
func (b *Batcher[T]) take() []T {
	out := b.items
	b.hint = len(out)
	b.items = nil
	b.bytes = 0
	b.disarm()
	return out
}

// arm makes Timer fire after d. It reuses one time.Timer: since Go 1.23 a
// Reset discards any value that fired and was not received, so no stale
// tick can flush the wrong batch.
func (b *Batcher[T]) arm(d time.Duration) {
	if b.timer == nil {
		b.timer = time.NewTimer(d)
	} else {
		b.timer.Reset(d)
	}
	b.timerC = b.timer.C
}

// disarm stops the timer so that Timer returns nil.
func (b *Batcher[T]) disarm() {
	if b.timerC != nil {
		b.timer.Stop()
		b.timerC = nil
	}
}
