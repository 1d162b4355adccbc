package run

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/field"
)

// flight tracks one source batch until every record derived from it is
// settled. pending counts the holds on it: one for routing, one per
// (record, sink) delivery and one per dead-letter delivery.
type flight struct {
	r       *Runner
	ack     engine.Ack
	readAt  time.Time
	bytes   int64 // of the batch's keys and values, counted in the runner's inflightBytes
	pending atomic.Int64
	vals    []field.Value // the records' picked values (PickBatchInto), reused once the flight is done

	mu  sync.Mutex
	err error
}

// hold adds n holds.
func (f *flight) hold(n int) { f.pending.Add(int64(n)) }

// done releases one hold; err, if not nil, fails the batch (the first error
// wins). The last release acknowledges the batch with the source.
func (f *flight) done(err error) {
	if err != nil {
		f.mu.Lock()
		if f.err == nil {
			f.err = err
		}
		f.mu.Unlock()
	}
	f.release(1)
}

// release releases n holds that settled without error.
func (f *flight) release(n int) {
	if f.pending.Add(-int64(n)) == 0 {
		f.finish()
	}
}

func (f *flight) finish() {
	f.mu.Lock()
	err := f.err
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	f.ack(ctx, err)
	cancel()
	f.r.vals.Put(f.vals) // nothing reads the records now
	f.vals = nil
	f.r.m.ackSeconds.Observe(time.Since(f.readAt).Seconds())
	f.r.m.batchesAcked.Inc()
	if err != nil {
		f.r.fail(err)
	}
	f.r.inflightBytes.Add(-f.bytes)
	select {
	case f.r.settled <- struct{}{}:
	default:
	}
	<-f.r.inflight
	f.r.flights.Done()
}
