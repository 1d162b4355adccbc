package run

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/batch"
)

// item is one record on its way to a sink, with the flight it belongs to.
// The record belongs to this sink alone (the router copies records going
// to several sinks) until the item is settled.
type item struct {
	rec *engine.Record
	f   *flight
}

// sinkStage batches the records routed to one sink and writes the batches
// with up to inst.Concurrency writers.
type sinkStage struct {
	r           *Runner
	inst        *engine.SinkInstance
	dlq         bool
	concurrency int         // writers; 1 for a sink that keeps positions
	in          chan []item // the records the router sends, a batch at a time
	m           *boundary
	written     atomic.Int64
	retried     atomic.Int64
	// pressure asks the batcher to flush what it holds now.
	pressure chan struct{}
	writing  atomic.Int32 // batches being written
	// whenFields lists the fields inst.When reads, for Record.View; nil
	// when it may read any.
	whenFields []string
}

func newSinkStage(r *Runner, si *engine.SinkInstance, dlq bool) *sinkStage {
	// Every batch in flight can be queued: max_in_flight bounds memory.
	capacity := r.p.Runtime.MaxInFlight + r.p.Runtime.QueueSize
	component := "sinks." + si.Name
	if dlq {
		component = "dead_letter"
	}
	return &sinkStage{
		r:    r,
		inst: si,
		dlq:  dlq,
		in:   make(chan []item, capacity),

		concurrency: si.Concurrency,
		m:           newBoundary(r.metrics.For(component, engine.KindSink)),

		pressure: make(chan struct{}, 1),

		whenFields: whenFields(si),
	}
}

// whenFields returns the fields si's when reads, never nil, or nil when it
// may read any field or there is no when.
func whenFields(si *engine.SinkInstance) []string {
	if si.When == nil {
		return nil
	}
	fields, exact := si.When.Fields()
	if !exact {
		return nil
	}
	return append([]string{}, fields...)
}

// askFlush asks the batcher to flush what it holds; it never blocks.
func (s *sinkStage) askFlush() {
	select {
	case s.pressure <- struct{}{}:
	default:
	}
}

func (s *sinkStage) name() string {
	if s.dlq {
		return "dead_letter"
	}
	return "sinks." + s.inst.Name
}

// run batches s.in until it is closed and writes the batches; it returns
// once every batch has been written or given up on.
func (s *sinkStage) run(ctx context.Context) {
	writes := make(chan []item)
	var wg sync.WaitGroup
	for range s.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for items := range writes {
				s.writing.Add(1)
				s.write(ctx, items)
				s.writing.Add(-1)
			}
		}()
	}
	size := func(it item) int { return len(it.rec.Value) + len(it.rec.Key) }
	b := batch.New(s.inst.Batch, size)
	send := func(items []item) bool {
		select {
		case writes <- items:
			return true
		case <-ctx.Done():
			return false
		}
	}
	s.batchLoop(ctx, b, send)
	close(writes)
	wg.Wait()
}

// batchLoop fills batches from s.in and hands them to send: when full, when
// the batch period has passed, when the runner reports back-pressure (the
// source is waiting for acknowledgements, so waiting longer for a fuller
// batch would only stall the pipeline), and once more when s.in is closed.
func (s *sinkStage) batchLoop(ctx context.Context, b *batch.Batcher[item], send func([]item) bool) {
	for {
		select {
		case items, ok := <-s.in:
			if !ok {
				if rest := b.Flush(); rest != nil {
					send(rest)
				}
				return
			}
			for _, it := range items {
				if full := b.Add(it); full != nil && !send(full) {
					return
				}
			}
		case <-b.Timer():
			if rest := b.Flush(); rest != nil && !send(rest) {
				return
			}
		case <-s.pressure:
			// Only an idle sink flushes early: a busy one is the bottleneck,
			// and fuller batches serve it better.
			if s.writing.Load() == 0 {
				if rest := b.Flush(); rest != nil && !send(rest) {
					return
				}
			}
		case <-ctx.Done():
			return
		}
	}
}

// write writes items, retrying the records that fail with a retryable
// error and sending those that fail permanently to the dead-letter sink.
func (s *sinkStage) write(ctx context.Context, items []item) {
	n := len(items)
	s.m.recordsIn.Add(float64(n))
	s.m.batchRecords.Observe(float64(n))
	recs := make([]engine.Record, n)
	for i := range items {
		recs[i] = *items[i].rec
	}
	pending := items
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := safeWrite(ctx, s.inst.Sink, engine.Batch{Records: recs})
		el := time.Since(start)
		s.m.latency.Observe(el.Seconds())
		s.m.busy.Add(el.Seconds())
		if err == nil {
			s.settle(pending)
			return
		}
		s.m.errors.Inc()
		if ctx.Err() != nil {
			// Hard stop or grace period over: leave these unacknowledged.
			return
		}
		var retry []int
		var be *engine.BatchError
		switch {
		case errors.As(err, &be):
			failed := make(map[int]error, len(be.Failed))
			for _, fe := range be.Failed {
				if fe.Index >= 0 && fe.Index < len(pending) {
					failed[fe.Index] = fe.Err
				}
			}
			var ok []item
			for i, it := range pending {
				ferr, bad := failed[i]
				switch {
				case !bad:
					ok = append(ok, it)
				case engine.IsPermanent(ferr):
					s.permanent(ctx, it, ferr)
				default:
					retry = append(retry, i)
				}
			}
			s.settle(ok)
		case engine.IsPermanent(err):
			for _, it := range pending {
				s.permanent(ctx, it, err)
			}
		default:
			for i := range pending {
				retry = append(retry, i)
			}
		}
		if len(retry) == 0 {
			return
		}
		next := make([]item, len(retry))
		nrecs := make([]engine.Record, len(retry))
		for k, i := range retry {
			next[k], nrecs[k] = pending[i], recs[i]
		}
		pending, recs = next, nrecs
		if m := s.inst.Retry.MaxAttempts; m > 0 && attempt >= m {
			for _, it := range pending {
				s.permanent(ctx, it, fmt.Errorf("gave up after %d attempts: %w", attempt, err))
			}
			return
		}
		s.m.retries.Add(float64(len(pending)))
		s.retried.Add(int64(len(pending)))
		wait := backoff(s.inst.Retry, attempt)
		s.r.log.Warn("write failed; retrying", engine.AttrComponent, s.name(), engine.AttrRecords, len(pending),
			engine.AttrAttempt, attempt, "backoff", wait.String(), engine.AttrError, err.Error())
		if !sleep(ctx, wait) {
			return
		}
	}
}

// safeWrite turns a panic in a sink into an error of the whole batch.
func safeWrite(ctx context.Context, s engine.Sink, b engine.Batch) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("sink panicked: %v", v)
		}
	}()
	return s.Write(ctx, b)
}

// settle marks items as durable.
func (s *sinkStage) settle(items []item) {
	if len(items) == 0 {
		return
	}
	now := time.Now()
	bytes := 0
	for _, it := range items {
		bytes += len(it.rec.Value) + len(it.rec.Key)
		if !it.rec.Time.IsZero() {
			s.m.endToEnd.Observe(now.Sub(it.rec.Time).Seconds())
		}
	}
	s.m.recordsOut.Add(float64(len(items)))
	s.m.bytesOut.Add(float64(bytes))
	s.written.Add(int64(len(items)))
	// Records of one flight are mostly next to each other: release their
	// holds together.
	for i := 0; i < len(items); {
		f, n := items[i].f, 1
		for i+n < len(items) && items[i+n].f == f {
			n++
		}
		f.release(n)
		i += n
	}
}

// permanent handles a record that failed permanently in this sink.
func (s *sinkStage) permanent(ctx context.Context, it item, err error) {
	if s.dlq {
		it.f.done(fmt.Errorf("dead-letter sink could not write the record from %s: %w", it.rec.Source, err))
		return
	}
	s.m.dead.Inc()
	s.r.deadLetter(ctx, it.f, *it.rec, err, s.name())
	it.f.done(nil) // the dead-letter delivery holds the flight now
}

// Header keys set on dead-lettered records.
const (
	HeaderError     = "sluice_error"
	HeaderComponent = "sluice_component"
	HeaderPosition  = "sluice_source_position"
	HeaderPipeline  = "sluice_pipeline"
	HeaderFailedAt  = "sluice_failed_at"
)

// deadLetter sends rec, which failed permanently in component with err, to
// the dead-letter sink, holding f until it is durable there. Without a
// dead-letter sink the failure fails f, which stops the pipeline without
// acknowledging the batch.
func (r *Runner) deadLetter(ctx context.Context, f *flight, rec engine.Record, err error, component string) {
	r.deadLettered.Add(1)
	if r.dlq == nil {
		f.hold(1)
		f.done(fmt.Errorf("%s: record from %s failed permanently and the pipeline has no dead_letter sink: %w", component, rec.Source, err))
		return
	}
	h := make(map[string]string, len(rec.Headers)+5)
	maps.Copy(h, rec.Headers)
	h[HeaderError] = err.Error()
	h[HeaderComponent] = component
	h[HeaderPosition] = rec.Source.String()
	h[HeaderPipeline] = r.p.Name
	h[HeaderFailedAt] = time.Now().UTC().Format(time.RFC3339Nano)
	// The dead-letter record carries the value as it was when it failed
	// (as read, for a transform failure), not a half-changed structured form.
	dl := engine.Record{Key: rec.Key, Value: rec.Value, Headers: h, Time: rec.Time, Source: rec.Source, Err: err}
	dl.SetCodec(rec.Codec())
	f.hold(1)
	select {
	case r.dlq.in <- []item{{rec: &dl, f: f}}:
	case <-ctx.Done():
	}
}
