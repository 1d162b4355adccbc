package run

import (
	"time"

	"github.com/sluicehq/sluice/engine/batch"
)

// batcher gathers the chunks routed to a sink into batches by the sink's
// batch.Policy, counting records, not chunks: a batch holds at most Count
// records, and at most Bytes bytes of keys and values unless it is one
// record bigger than that. A chunk that does not fit is cut between
// records, its first part ending one batch and the rest starting the next.
// Period flushes a batch that long after its first record arrived. A
// policy with no limit at all makes every record a batch of its own.
//
// A batcher is owned by one goroutine, which adds chunks, sends the batches
// and selects on timer.
type batcher struct {
	policy batch.Policy
	chunks []chunk // pending; nil when there are none
	n      int     // records pending
	bytes  int64   // bytes pending

	t      *time.Timer
	timerC <-chan time.Time // t.C while armed, else nil
}

func newBatcher(p batch.Policy) *batcher {
	if p.Count == 0 && p.Bytes == 0 && p.Period == 0 {
		p.Count = 1
	}
	return &batcher{policy: p}
}

// add adds the records of c and calls send with every batch that is full
// then. It reports false when send did.
func (b *batcher) add(c chunk, send func([]chunk) bool) bool {
	p := b.policy
	for len(c.recs) > 0 {
		take := len(c.recs)
		if p.Count > 0 {
			take = min(take, p.Count-b.n)
		}
		var size int64
		full := p.Count > 0 && b.n+take >= p.Count
		if p.Bytes > 0 {
			// Cut before the record that would take the batch over Bytes,
			// unless it would be alone in its batch.
			for i := range take {
				r := &c.recs[i]
				rs := int64(len(r.Value) + len(r.Key))
				if b.bytes+size+rs > p.Bytes && (b.n > 0 || i > 0) {
					take, full = i, true
					break
				}
				size += rs
			}
			if b.bytes+size >= p.Bytes {
				full = true
			}
		}
		if take > 0 {
			if b.chunks == nil && p.Period > 0 {
				b.arm(p.Period)
			}
			b.chunks = append(b.chunks, chunk{recs: c.recs[:take:take], f: c.f})
			b.n += take
			b.bytes += size
			c.recs = c.recs[take:]
		}
		if full {
			if !send(b.flush()) {
				return false
			}
		}
	}
	return true
}

// flush returns the pending chunks, nil if there are none, and starts a new
// batch.
func (b *batcher) flush() []chunk {
	out := b.chunks
	b.chunks, b.n, b.bytes = nil, 0, 0
	if b.timerC != nil {
		b.t.Stop()
		b.timerC = nil
	}
	return out
}

// timer returns a channel that receives a value once the pending batch is
// due by Period; nil, so that a select on it blocks, when none is.
func (b *batcher) timer() <-chan time.Time { return b.timerC }

func (b *batcher) arm(d time.Duration) {
	if b.t == nil {
		b.t = time.NewTimer(d)
	} else {
		b.t.Reset(d)
	}
	b.timerC = b.t.C
}
