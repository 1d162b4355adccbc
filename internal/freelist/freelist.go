// Package freelist keeps slices that are done with for reuse, a bounded
// number of them, so that code which makes one large slice per batch at a
// high rate (record slices, arrays of picked values) makes little garbage.
package freelist

// List is a bounded list of free slices of E. It is safe for concurrent
// use: typically the goroutine that reads batches gets, and the ones that
// finish them put. A nil List keeps nothing.
type List[E any] struct{ free chan []E }

// New returns a list that keeps at most n slices.
func New[E any](n int) *List[E] {
	return &List[E]{free: make(chan []E, n)}
}

// Get returns a free slice of length 0 and capacity at least n, all zero,
// or nil when the list has none that large: the caller makes one then, if
// it needs one at all.
func (l *List[E]) Get(n int) []E {
	if l != nil {
		select {
		case s := <-l.free:
			if cap(s) >= n {
				return s[:0]
			}
		default:
		}
	}
	return nil
}

// Put takes back s, which nothing uses any more. It is cleared, so that
// what its elements point to can be collected, and kept if there is room.
func (l *List[E]) Put(s []E) {
	if l == nil || s == nil {
		return
	}
	s = s[:cap(s)]
	clear(s)
	select {
	case l.free <- s:
	default:
	}
}
