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
)

// chunk is records of one flight on their way to a sink. The records
// belong to this sink alone (the router copies records going to several
// sinks) until they are settled.
type chunk struct {
	recs []engine.Record
	f    *flight
}

// sinkStage batches the records routed to one sink and writes the batches
// with up to inst.Concurrency writers.
type sinkStage struct {
	r           *Runner
	inst        *engine.SinkInstance
	dlq         bool
	concurrency int        // writers; 1 for a sink that keeps positions
	in          chan chunk // the records the router sends, a flight's at a time
	m           *boundary
	written     atomic.Int64
	retried     atomic.Int64
	// pressure asks the batcher to flush what it holds now.
	pressure chan struct{}
	writing  atomic.Int32 // batches being written
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
		in:   make(chan chunk, capacity),

		concurrency: si.Concurrency,
		m:           newBoundary(r.metrics.For(component, engine.KindSink)),

		pressure: make(chan struct{}, 1),
	}
}

// when evaluates the sink's when on rec.
func (s *sinkStage) when(rec *engine.Record) (bool, error) {
	l := s.inst.When.Layout()
	if l == nil {
		fields, err := rec.Fields()
		if err != nil {
			return false, err
		}
		return s.inst.When.EvalBool(fields)
	}
	l, vals, err := rec.Values(l)
	if err != nil {
		return false, err
	}
	return s.inst.When.EvalValuesBool(l, vals)
}

// send hands c to the sink's batcher; on a hard stop c is dropped,
// unacknowledged.
func (s *sinkStage) send(ctx context.Context, c chunk) {
	select {
	case s.in <- c:
	case <-ctx.Done():
	}
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
	writes := make(chan []chunk)
	var wg sync.WaitGroup
	for range s.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []engine.Record // reused: Write keeps no batch
			for chunks := range writes {
				s.writing.Add(1)
				buf = s.write(ctx, chunks, buf)
				s.writing.Add(-1)
			}
		}()
	}
	send := func(chunks []chunk) bool {
		select {
		case writes <- chunks:
			return true
		case <-ctx.Done():
			return false
		}
	}
	s.batchLoop(ctx, newBatcher(s.inst.Batch), send)
	close(writes)
	wg.Wait()
}

// batchLoop fills batches from s.in and hands them to send: when full, when
// the batch period has passed, when the runner reports back-pressure (the
// source is waiting for acknowledgements, so waiting longer for a fuller
// batch would only stall the pipeline), and once more when s.in is closed.
func (s *sinkStage) batchLoop(ctx context.Context, b *batcher, send func([]chunk) bool) {
	for {
		select {
		case c, ok := <-s.in:
			if !ok {
				if rest := b.flush(); rest != nil {
					send(rest)
				}
				return
			}
			if !b.add(c, send) {
				return
			}
		case <-b.timer():
			if rest := b.flush(); rest != nil && !send(rest) {
				return
			}
		case <-s.pressure:
			// Only an idle sink flushes early: a busy one is the bottleneck,
			// and fuller batches serve it better.
			if s.writing.Load() == 0 {
				if rest := b.flush(); rest != nil && !send(rest) {
					return
				}
			}
		case <-ctx.Done():
			return
		}
	}
}

// write writes the records of chunks as one batch, retrying the records
// that fail with a retryable error and sending those that fail permanently
// to the dead-letter sink. The batch is buf when the records must be put
// together; write returns it for the next batch.
func (s *sinkStage) write(ctx context.Context, chunks []chunk, buf []engine.Record) []engine.Record {
	recs := chunks[0].recs
	if len(chunks) > 1 {
		buf = buf[:0]
		for _, c := range chunks {
			buf = append(buf, c.recs...)
		}
		recs = buf
	}
	n := len(recs)
	s.m.recordsIn.Add(float64(n))
	s.m.batchRecords.Observe(float64(n))
	var flights []*flight // flights[i] is the flight of recs[i], once a record failed
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := safeWrite(ctx, s.inst.Sink, engine.Batch{Records: recs})
		el := time.Since(start)
		s.m.latency.Observe(el.Seconds())
		s.m.busy.Add(el.Seconds())
		if err == nil {
			if flights == nil {
				s.settle(chunks)
			} else {
				s.settleEach(recs, flights)
			}
			return buf
		}
		s.m.errors.Inc()
		if ctx.Err() != nil {
			// Hard stop or grace period over: leave these unacknowledged.
			return buf
		}
		if flights == nil {
			flights = make([]*flight, 0, n)
			for _, c := range chunks {
				for range c.recs {
					flights = append(flights, c.f)
				}
			}
		}
		var retry []int
		var be *engine.BatchError
		switch {
		case errors.As(err, &be):
			failed := make(map[int]error, len(be.Failed))
			for _, fe := range be.Failed {
				if fe.Index >= 0 && fe.Index < len(recs) {
					failed[fe.Index] = fe.Err
				}
			}
			var ok []int
			for i := range recs {
				ferr, bad := failed[i]
				switch {
				case !bad:
					ok = append(ok, i)
				case engine.IsPermanent(ferr):
					s.permanent(ctx, &recs[i], flights[i], ferr)
				default:
					retry = append(retry, i)
				}
			}
			s.settleEach(pick(recs, ok), pick(flights, ok))
		case engine.IsPermanent(err):
			for i := range recs {
				s.permanent(ctx, &recs[i], flights[i], err)
			}
		default:
			for i := range recs {
				retry = append(retry, i)
			}
		}
		if len(retry) == 0 {
			return buf
		}
		recs, flights = pick(recs, retry), pick(flights, retry)
		if m := s.inst.Retry.MaxAttempts; m > 0 && attempt >= m {
			for i := range recs {
				s.permanent(ctx, &recs[i], flights[i], fmt.Errorf("gave up after %d attempts: %w", attempt, err))
			}
			return buf
		}
		s.m.retries.Add(float64(len(recs)))
		s.retried.Add(int64(len(recs)))
		wait := backoff(s.inst.Retry, attempt)
		s.r.log.Warn("write failed; retrying", engine.AttrComponent, s.name(), engine.AttrRecords, len(recs),
			engine.AttrAttempt, attempt, "backoff", wait.String(), engine.AttrError, err.Error())
		if !sleep(ctx, wait) {
			return buf
		}
	}
}

// pick returns the elements of s at the indices, in a new slice.
func pick[T any](s []T, indices []int) []T {
	out := make([]T, len(indices))
	for k, i := range indices {
		out[k] = s[i]
	}
	return out
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

// settle marks the records of chunks as durable.
func (s *sinkStage) settle(chunks []chunk) {
	now := time.Now()
	n, bytes := 0, 0
	for _, c := range chunks {
		// Records of a run with the same event time (all of an object's
		// records, a producer's batch) count as one observation of n.
		var same time.Time
		run := 0
		for i := range c.recs {
			rec := &c.recs[i]
			bytes += len(rec.Value) + len(rec.Key)
			if rec.Time.Equal(same) {
				run++
				continue
			}
			if run > 0 && !same.IsZero() {
				s.m.endToEnd.ObserveN(now.Sub(same), run)
			}
			same, run = rec.Time, 1
		}
		if run > 0 && !same.IsZero() {
			s.m.endToEnd.ObserveN(now.Sub(same), run)
		}
		n += len(c.recs)
	}
	s.m.recordsOut.Add(float64(n))
	s.m.bytesOut.Add(float64(bytes))
	s.written.Add(int64(n))
	for _, c := range chunks {
		c.f.release(len(c.recs))
	}
}

// settleEach marks recs as durable, flights[i] being the flight of
// recs[i].
func (s *sinkStage) settleEach(recs []engine.Record, flights []*flight) {
	if len(recs) == 0 {
		return
	}
	// Records of one flight are mostly next to each other: release their
	// holds together.
	chunks := make([]chunk, 0, 4)
	for i := 0; i < len(recs); {
		f, n := flights[i], 1
		for i+n < len(recs) && flights[i+n] == f {
			n++
		}
		chunks = append(chunks, chunk{recs: recs[i : i+n], f: f})
		i += n
	}
	s.settle(chunks)
}

// permanent handles a record of flight f that failed permanently in this
// sink.
func (s *sinkStage) permanent(ctx context.Context, rec *engine.Record, f *flight, err error) {
	if s.dlq {
		f.done(fmt.Errorf("dead-letter sink could not write the record from %s: %w", rec.Source, err))
		return
	}
	s.m.dead.Inc()
	s.r.deadLetter(ctx, f, *rec, err, s.name())
	f.done(nil) // the dead-letter delivery holds the flight now
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
	case r.dlq.in <- chunk{recs: []engine.Record{dl}, f: f}:
	case <-ctx.Done():
	}
}
