package run

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/autoscale"
	"github.com/sluicehq/sluice/engine/codec"
	"github.com/sluicehq/sluice/engine/field"
)

// pool is the transform stage: a worker pool between scaling.min_workers
// and scaling.max_workers, resized by an autoscale.Controller from the
// queue length and the number of busy workers.
type pool struct {
	r    *Runner
	jobs <-chan job
	ctrl *autoscale.Controller
	tm   []*boundary // per transform
	// pick is the layout of the top-level fields that the transforms and
	// the sinks' when use, picked from every record before the first
	// transform; nil when one of them may use any field.
	pick *field.Layout

	workers  atomic.Int32
	filtered atomic.Int64
	retried  atomic.Int64
	busy     atomic.Int32
	closed   atomic.Bool   // the job queue is closed
	stop     chan struct{} // a send stops one worker
	exited   chan struct{} // a worker returned
	jobsW    chan<- job
}

func newPool(r *Runner, jobs chan job) *pool {
	p := &pool{
		r:      r,
		jobs:   jobs,
		jobsW:  jobs,
		exited: make(chan struct{}, 1),
		ctrl:   autoscale.NewController(autoscale.Limits{Min: max(r.p.Scaling.MinWorkers, 0), Max: r.p.Scaling.MaxWorkers}),
		stop:   make(chan struct{}),
	}
	for _, t := range r.p.Transforms {
		p.tm = append(p.tm, newBoundary(r.metrics.For(t.Path, engine.KindTransform)))
	}
	p.pick = pickLayout(r)
	return p
}

// pickLayout returns the layout of the top-level fields every transform
// and sink condition of r use, nil if one may use any field or there are
// no transforms.
func pickLayout(r *Runner) *field.Layout {
	if len(r.p.Transforms) == 0 {
		return nil
	}
	var fields []string
	for _, t := range r.p.Transforms {
		u, ok := t.Transform.(engine.FieldsUser)
		if !ok || u.UsedFields() == nil {
			return nil
		}
		fields = append(fields, u.UsedFields()...)
	}
	for _, s := range r.sinks {
		if s.inst.When == nil {
			continue
		}
		when, exact := s.inst.When.Fields()
		if !exact {
			return nil
		}
		fields = append(fields, when...)
	}
	return field.NewLayout(fields...)
}

// run starts workers and resizes the pool until the job queue is closed
// (closeJobs) and every worker has returned.
func (p *pool) run(ctx context.Context) {
	// Every worker from the start: a source that starts with a backlog (a
	// backfill, a consumer group behind) needs them at once, and idle
	// workers are stopped after the controller's idle time.
	for range max(p.ctrl.Limits().Max, 1) {
		p.start(ctx)
	}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		if p.closed.Load() {
			if p.workers.Load() == 0 {
				p.r.m.workers.Set(0)
				return
			}
			if len(p.jobs) > 0 && p.workers.Load() == 0 {
				// The pool had scaled to zero: one worker drains the queue.
				p.start(ctx)
			}
		}
		select {
		case <-p.exited:
			continue
		case now := <-tick.C:
			if p.closed.Load() {
				continue
			}
			obs := autoscale.Observation{Workers: int(p.workers.Load()), Busy: int(p.busy.Load()), Queued: len(p.jobs)}
			switch p.ctrl.Decide(obs, now) {
			case autoscale.Grow:
				p.start(ctx)
				p.r.log.Debug("transform workers grown", engine.AttrWorkers, obs.Workers+1)
			case autoscale.Shrink:
				select {
				case p.stop <- struct{}{}:
					p.r.log.Debug("transform workers shrunk", engine.AttrWorkers, obs.Workers-1)
				default:
				}
			}
		}
	}
}

// limitToOne makes the pool run a single worker, so that batches are
// processed in the order they were read. Call before run.
func (p *pool) limitToOne() {
	p.ctrl = autoscale.NewController(autoscale.Limits{Min: min(p.ctrl.Limits().Min, 1), Max: 1})
}

// closeJobs closes the job queue; workers finish what is queued and exit.
func (p *pool) closeJobs() {
	p.closed.Store(true)
	close(p.jobsW)
	select {
	case p.exited <- struct{}{}:
	default:
	}
}

func (p *pool) start(ctx context.Context) {
	n := p.workers.Add(1)
	p.r.m.workers.Set(float64(n))
	go func() {
		defer func() {
			n := p.workers.Add(-1)
			p.r.m.workers.Set(float64(n))
			select {
			case p.exited <- struct{}{}:
			default:
			}
		}()
		var w worker
		for {
			select {
			case j, ok := <-p.jobs:
				if !ok {
					return
				}
				p.busy.Add(1)
				p.process(ctx, j, &w)
				p.busy.Add(-1)
			case <-p.stop:
				return
			}
		}
	}()
}

// worker is what one worker of the pool keeps from batch to batch.
type worker struct {
	keys codec.KeyCache // of the picks: batches of a stream have the same keys
}

// process applies the transforms to a job's batch and routes the result.
func (p *pool) process(ctx context.Context, j job, w *worker) {
	b := j.batch
	if p.pick != nil {
		// One pass over each record for every transform. A record whose
		// value is bad fails again, with its error, in the first transform.
		// The picked values live as long as the flight.
		j.f.vals = engine.PickBatchInto(b, p.pick, p.r.vals.Get(p.pick.Len()*len(b.Records)), &w.keys)
	}
	for i, t := range p.r.p.Transforms {
		m := p.tm[i]
		in := len(b.Records)
		m.recordsIn.Add(float64(in))
		m.batchRecords.Observe(float64(in))
		start := time.Now()
		out, err := p.apply(ctx, t, m, b)
		el := time.Since(start).Seconds()
		m.latency.Observe(el)
		m.busy.Add(el)
		if err != nil {
			if ctx.Err() != nil {
				// Hard stop: leave the batch unacknowledged.
				return
			}
			// Permanent failure of the whole batch: every record goes to the
			// dead-letter sink with the error.
			m.dead.Add(float64(in))
			for k := range b.Records {
				p.r.deadLetter(ctx, j.f, b.Records[k], err, t.Path)
			}
			j.f.done(nil)
			return
		}
		kept := out.Records
		for k := range out.Records {
			if out.Records[k].Err != nil {
				kept = p.deadLetterFailed(ctx, j.f, m, out.Records, k, t.Path)
				break
			}
		}
		if dropped := in - len(out.Records); dropped > 0 {
			m.filtered.Add(float64(dropped))
			p.filtered.Add(int64(dropped))
		}
		m.recordsOut.Add(float64(len(kept)))
		b = engine.Batch{Records: kept}
	}
	p.r.route(ctx, j.f, b)
	j.f.done(nil)
}

// deadLetterFailed sends the records of recs that failed, from index first
// on, to the dead-letter sink and returns the others, moved to the front
// of recs.
func (p *pool) deadLetterFailed(ctx context.Context, f *flight, m *boundary, recs []engine.Record, first int, component string) []engine.Record {
	kept := recs[:first]
	for k := first; k < len(recs); k++ {
		if recs[k].Err != nil {
			m.dead.Inc()
			p.r.deadLetter(ctx, f, recs[k], recs[k].Err, component)
			continue
		}
		kept = append(kept, recs[k])
	}
	return kept
}

// apply runs one transform, retrying retryable errors with backoff. It
// returns a permanent error, or ctx's error on a hard stop.
func (p *pool) apply(ctx context.Context, t engine.NamedTransform, m *boundary, b engine.Batch) (out engine.Batch, err error) {
	rc := engine.RetryConfig{Initial: 100 * time.Millisecond, Max: 30 * time.Second}
	for attempt := 1; ; attempt++ {
		out, err = safeApply(ctx, t.Transform, b)
		if err == nil {
			return out, nil
		}
		m.errors.Inc()
		if engine.IsPermanent(err) {
			return out, fmt.Errorf("%s: %w", t.Path, err)
		}
		m.retries.Add(float64(len(b.Records)))
		p.retried.Add(int64(len(b.Records)))
		p.r.log.Warn("transform failed; retrying", engine.AttrComponent, t.Path, engine.AttrAttempt, attempt, engine.AttrError, err.Error())
		if !sleep(ctx, backoff(rc, attempt)) {
			return out, ctx.Err()
		}
	}
}

// safeApply turns a panic in a transform into a permanent error, so that a
// bug in one function dead-letters the batch instead of killing the
// process.
func safeApply(ctx context.Context, t engine.Transform, b engine.Batch) (out engine.Batch, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = engine.Permanent(fmt.Errorf("transform panicked: %v", v))
		}
	}()
	return t.Apply(ctx, b)
}

// route sends every record of b to each sink whose when matches, as one
// chunk per sink. A record that matches no sink counts as filtered.
func (r *Runner) route(ctx context.Context, f *flight, b engine.Batch) {
	if len(b.Records) == 0 {
		return
	}
	if len(r.sinks) == 1 && r.sinks[0].inst.When == nil {
		// Every record goes to the one sink: the batch goes as it is.
		f.hold(len(b.Records))
		r.sinks[0].send(ctx, chunk{recs: b.Records, f: f})
		return
	}
	out := make([][]engine.Record, len(r.sinks))
	match := make([]bool, len(r.sinks))
	held := 0
	for i := range b.Records {
		rec := &b.Records[i]
		routed, failed := 0, false
		for k, s := range r.sinks {
			match[k] = true
			if s.inst.When == nil {
				routed++
				continue
			}
			ok, err := s.when(rec)
			if err != nil {
				r.deadLetter(ctx, f, *rec, engine.Permanent(err), "sinks."+s.inst.Name+".when")
				failed = true
				break
			}
			match[k] = ok
			if ok {
				routed++
			}
		}
		if failed {
			continue
		}
		if routed == 0 {
			r.unrouted.Add(1)
			continue
		}
		// A record going to several sinks is encoded once here, not once per
		// sink, and each sink gets a copy of its own; one going to a single
		// sink is encoded only if that sink asks for its bytes (a drop sink
		// never does).
		if routed > 1 {
			if _, err := rec.Bytes(); err != nil {
				r.deadLetter(ctx, f, *rec, err, "codec")
				continue
			}
		}
		held += routed
		first := true
		for k := range r.sinks {
			if !match[k] {
				continue
			}
			if out[k] == nil {
				out[k] = make([]engine.Record, 0, len(b.Records)-i)
			}
			if first {
				out[k] = append(out[k], *rec)
			} else {
				out[k] = append(out[k], rec.Share())
			}
			first = false
		}
	}
	f.hold(held)
	for k, s := range r.sinks {
		if len(out[k]) > 0 {
			s.send(ctx, chunk{recs: out[k], f: f})
		}
	}
}
