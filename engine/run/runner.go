package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/field"
	"github.com/sluicehq/sluice/internal/freelist"
)

// Option configures a Runner.
type Option func(*Runner)

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(r *Runner) { r.log = l } }

// WithMetrics sets the metrics the runner instruments; the default is a
// fresh registry.
func WithMetrics(m *engine.Metrics) Option { return func(r *Runner) { r.metrics = m } }

// WithStrictSinks makes the runner open sinks once and fail at once if that
// fails, instead of retrying with backoff. Tests and sluice test use it.
func WithStrictSinks() Option { return func(r *Runner) { r.strictOpen = true } }

// Runner runs one pipeline. Create it with New and call Run once.
type Runner struct {
	p          *engine.Pipeline
	log        *slog.Logger
	metrics    *engine.Metrics
	strictOpen bool

	m       *runMetrics
	srcM    *boundary
	sinks   []*sinkStage
	dlq     *sinkStage
	pool    *pool
	jobs    chan job
	started atomic.Int64 // unix nanoseconds when Run started

	// vals keeps the arrays of picked values of finished flights for the
	// next batches: a batch of 1,000 records picking five fields holds
	// 120 KB of them, which would otherwise be garbage at the rate records
	// are read.
	vals     *freelist.List[field.Value]
	inflight chan struct{} // semaphore bounding batches in flight
	flights  sync.WaitGroup
	// inflightBytes is the bytes of the batches in flight, bounded by
	// maxBytes (0: no bound); settled is signalled when a batch settles.
	inflightBytes atomic.Int64
	maxBytes      int64
	settled       chan struct{}

	drainOnce sync.Once
	draining  chan struct{} // closed by Drain
	failOnce  sync.Once
	fatal     error
	fatalMu   sync.Mutex
	ready     atomic.Bool

	read         atomic.Int64 // records read
	readBytes    atomic.Int64 // bytes of keys and values read
	unrouted     atomic.Int64 // records no sink's when matched
	deadLettered atomic.Int64
}

// New returns a Runner for p.
func New(p *engine.Pipeline, opts ...Option) *Runner {
	r := &Runner{p: p, draining: make(chan struct{})}
	for _, o := range opts {
		o(r)
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case r.metrics != nil:
		r.metrics = r.metrics.WithPipeline(p.Name)
	case p.Metrics != nil:
		r.metrics = p.Metrics
	default:
		r.metrics = engine.NewMetrics(nil, p.Name)
	}
	r.log = r.log.With(engine.AttrPipeline, p.Name)
	r.m = newRunMetrics(r.metrics)
	r.srcM = newBoundary(r.metrics.For("source."+p.SourceName, engine.KindSource))
	r.inflight = make(chan struct{}, p.Runtime.MaxInFlight)
	r.vals = freelist.New[field.Value](16)
	r.maxBytes = int64(p.Runtime.MaxInFlightBytes)
	r.settled = make(chan struct{}, 1)
	for _, si := range p.Sinks {
		r.sinks = append(r.sinks, newSinkStage(r, si, false))
	}
	if p.DeadLetter != nil {
		r.dlq = newSinkStage(r, p.DeadLetter, true)
	}
	r.jobs = make(chan job, p.Runtime.QueueSize)
	r.pool = newPool(r, r.jobs)
	return r
}

// Drain asks the runner to stop reading, deliver what is in flight, and
// return. It is safe to call from any goroutine, more than once.
func (r *Runner) Drain() {
	r.drainOnce.Do(func() { close(r.draining) })
}

// Name returns the pipeline's name.
func (r *Runner) Name() string { return r.p.Name }

// Ready reports whether every component is open and records are flowing.
func (r *Runner) Ready() bool { return r.ready.Load() }

// fail records a fatal error and starts draining.
func (r *Runner) fail(err error) {
	r.fatalMu.Lock()
	if r.fatal == nil {
		r.fatal = err
	}
	r.fatalMu.Unlock()
	r.failOnce.Do(func() { r.log.Error("pipeline failing", engine.AttrError, err.Error()) })
	r.Drain()
}

func (r *Runner) fatalErr() error {
	r.fatalMu.Lock()
	defer r.fatalMu.Unlock()
	return r.fatal
}

// Run opens every component, runs the pipeline until the source ends, Drain
// is called, or a fatal error happens, then drains and closes everything.
// Cancelling ctx stops at once: what is in flight is not acknowledged and
// will be read again. After Drain, in-flight batches get the pipeline's
// shutdown grace period to settle. Run returns the summary of the run and the
// first fatal error.
func (r *Runner) Run(ctx context.Context) (Summary, error) {
	r.started.Store(time.Now().UnixNano())
	// work is cancelled when the grace period after a drain runs out, or
	// when ctx is.
	work, cancelWork := context.WithCancel(ctx)
	defer cancelWork()

	if err := r.open(work); err != nil {
		return r.summary(), err
	}
	r.ready.Store(true)
	r.log.Info("pipeline started", "source", r.p.SourceName, "sinks", len(r.p.Sinks), "transforms", len(r.p.Transforms))

	// Stages, from the end backwards so that each has its consumer.
	var sinkWG, dlqWG sync.WaitGroup
	if r.dlq != nil {
		dlqWG.Add(1)
		go func() { defer dlqWG.Done(); r.dlq.run(work) }()
	}
	for _, s := range r.sinks {
		sinkWG.Add(1)
		go func() { defer sinkWG.Done(); s.run(work) }()
	}
	jobs := r.jobs
	poolDone := make(chan struct{})
	go func() { r.pool.run(work); close(poolDone) }()

	readErr := r.readLoop(work, jobs)
	r.pool.closeJobs()
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		r.fail(readErr)
	}

	// Graceful part: the source has stopped; let in-flight batches settle,
	// bounded by the grace period when the stop was asked for.
	settled, stagesDone := make(chan struct{}), make(chan struct{})
	go func() {
		<-poolDone
		for _, s := range r.sinks {
			close(s.in)
		}
		sinkWG.Wait()
		if r.dlq != nil {
			close(r.dlq.in)
		}
		dlqWG.Wait()
		close(stagesDone)
		r.flights.Wait()
		close(settled)
	}()
	var graceErr error
	select {
	case <-settled:
	case <-ctx.Done():
		graceErr = ctx.Err()
	case <-r.graceExpired(settled):
		n := len(r.inflight)
		graceErr = fmt.Errorf("shutdown grace period of %s ran out with %d batch(es) in flight; they were not acknowledged and will be read again", r.p.Runtime.ShutdownGrace, n)
		r.log.Error("shutdown grace period ran out", "in_flight", n)
	}
	cancelWork()
	if graceErr != nil {
		// Wait briefly for stages to notice the cancellation so that Close
		// is not called under a running Write.
		select {
		case <-stagesDone:
		case <-time.After(5 * time.Second):
		}
	}

	r.ready.Store(false)
	closeErr := r.close()
	sum := r.summary()
	r.log.Info("pipeline stopped", "read", sum.Read, "filtered", sum.Filtered, "dead_lettered", sum.DeadLettered, engine.AttrElapsed, sum.Elapsed.Round(time.Millisecond).String())
	return sum, errors.Join(r.fatalErr(), graceErr, closeErr)
}

// graceExpired returns a channel closed when the grace period after a drain
// has passed, unless settled closes first. A run that ends because its
// bounded source is done waits without a bound.
func (r *Runner) graceExpired(settled <-chan struct{}) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		select {
		case <-r.draining:
		case <-settled:
			return
		}
		t := time.NewTimer(r.p.Runtime.ShutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
			close(ch)
		case <-settled:
		}
	}()
	return ch
}

// open opens the sinks, then the source. Sinks that fail with a retryable
// error are retried with backoff until Drain or ctx ends.
func (r *Runner) open(ctx context.Context) error {
	var opened []*sinkStage
	all := append(append([]*sinkStage{}, r.sinks...), r.dlq)
	for _, s := range all {
		if s == nil {
			continue
		}
		if err := r.openWithRetry(ctx, "sink "+s.inst.Name, s.inst.Sink.Open); err != nil {
			for _, o := range opened {
				_ = o.inst.Sink.Close(context.Background())
			}
			return err
		}
		opened = append(opened, s)
	}
	if err := r.resume(ctx); err != nil {
		for _, o := range opened {
			_ = o.inst.Sink.Close(context.Background())
		}
		return err
	}
	if err := r.openWithRetry(ctx, "source "+r.p.SourceName, r.p.Source.Open); err != nil {
		for _, o := range opened {
			_ = o.inst.Sink.Close(context.Background())
		}
		return err
	}
	return nil
}

func (r *Runner) openWithRetry(ctx context.Context, what string, open func(context.Context) error) error {
	rc := engine.RetryConfig{Initial: 200 * time.Millisecond, Max: 30 * time.Second}
	for attempt := 1; ; attempt++ {
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := open(octx)
		cancel()
		if err == nil {
			return nil
		}
		if r.strictOpen || engine.IsPermanent(err) {
			return fmt.Errorf("open %s: %w", what, err)
		}
		r.log.Warn("open failed; retrying", "what", what, engine.AttrAttempt, attempt, engine.AttrError, err.Error())
		select {
		case <-r.draining:
			return fmt.Errorf("open %s: stopped while retrying: %w", what, err)
		default:
		}
		if !sleep(ctx, backoff(rc, attempt)) {
			return fmt.Errorf("open %s: %w", what, err)
		}
	}
}

// resume prepares sinks that keep source positions (exactly-once sinks).
// Such a sink skips records at or below the position it stored for their
// stream, which is only right when it receives each stream in source order:
// the transform stage then runs one worker and the sink one writer. When it
// is the pipeline's only sink, its positions also go to the source, which
// may then skip what the sink already holds. With other sinks, which may
// not yet hold those records, the source starts from its own committed
// positions and the sink skips the replayed records itself.
func (r *Runner) resume(ctx context.Context) error {
	var kept map[string]int64
	for _, s := range r.sinks {
		pk, ok := s.inst.Sink.(engine.PositionKeeper)
		if !ok {
			continue
		}
		pos, keeps, err := pk.Positions(ctx)
		if err != nil {
			return fmt.Errorf("read positions kept by sink %s: %w", s.inst.Name, err)
		}
		if !keeps {
			continue
		}
		s.concurrency = 1
		r.pool.limitToOne()
		r.log.Info("sink keeps source positions: records are processed in source order (one transform worker, one writer)", "sink", s.inst.Name)
		if len(r.sinks) == 1 {
			kept = pos
		}
	}
	if res, ok := r.p.Source.(engine.Resumer); ok && len(kept) > 0 {
		r.log.Info("resuming from positions kept by the sink", "sink", r.sinks[0].inst.Name, "streams", len(kept))
		res.ResumeFrom(kept)
	}
	return nil
}

// close closes the source (which commits what was acknowledged), then the
// sinks, then the dead-letter sink.
func (r *Runner) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	if err := r.p.Source.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("close source %s: %w", r.p.SourceName, err))
	}
	for _, s := range r.sinks {
		if err := s.inst.Sink.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close sink %s: %w", s.inst.Name, err))
		}
	}
	if r.dlq != nil {
		if err := r.dlq.inst.Sink.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close dead-letter sink: %w", err))
		}
	}
	return errors.Join(errs...)
}

// waitInFlight waits for room in the in-flight bound, asking the sinks to
// flush every few milliseconds meanwhile. It reports false when ctx ended.
func (r *Runner) waitInFlight(ctx context.Context) bool {
	r.signalPressure()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case r.inflight <- struct{}{}:
			return true
		case <-t.C:
			r.signalPressure()
		case <-ctx.Done():
			return false
		}
	}
}

// waitBytes waits until the bytes in flight are below the bound, asking the
// sinks to flush every few milliseconds meanwhile. It reports false when ctx
// ended.
func (r *Runner) waitBytes(ctx context.Context) bool {
	r.signalPressure()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for r.inflightBytes.Load() >= r.maxBytes {
		select {
		case <-r.settled:
		case <-t.C:
			r.signalPressure()
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// watchSourceWaits asks the sinks to flush whenever the source reports it
// is waiting for acknowledgements, until ctx ends.
func (r *Runner) watchSourceWaits(ctx context.Context, w engine.AckWaiter) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if w.WaitingForAcks() {
				r.signalPressure()
			}
		case <-ctx.Done():
			return
		}
	}
}

// signalPressure asks every sink's batcher to flush now.
func (r *Runner) signalPressure() {
	for _, s := range r.sinks {
		s.askFlush()
	}
	if r.dlq != nil {
		r.dlq.askFlush()
	}
}

// job is a source batch on its way to the transform stage.
type job struct {
	batch engine.Batch
	f     *flight
}

// readLoop reads batches until the source ends, Drain is called, or ctx
// ends. It returns nil at end of input or on drain.
func (r *Runner) readLoop(ctx context.Context, jobs chan<- job) error {
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-r.draining:
			cancel()
		case <-readCtx.Done():
		}
	}()
	if w, ok := r.p.Source.(engine.AckWaiter); ok {
		go r.watchSourceWaits(readCtx, w)
	}
	rc := engine.RetryConfig{Initial: 100 * time.Millisecond, Max: 10 * time.Second}
	failures := 0
	for {
		select {
		case r.inflight <- struct{}{}:
		default:
			// At the in-flight bound: ask the sinks to write what they hold
			// rather than wait for fuller batches, then wait for an ack.
			if !r.waitInFlight(readCtx) {
				return nil
			}
		}
		if r.maxBytes > 0 && r.inflightBytes.Load() >= r.maxBytes && !r.waitBytes(readCtx) {
			<-r.inflight
			return nil
		}
		start := time.Now()
		b, ack, err := r.p.Source.Read(readCtx)
		if err != nil {
			<-r.inflight
			switch {
			case errors.Is(err, engine.ErrEndOfInput):
				r.log.Info("end of input")
				return nil
			case readCtx.Err() != nil:
				return nil
			case engine.IsPermanent(err):
				return fmt.Errorf("read source %s: %w", r.p.SourceName, err)
			}
			failures++
			r.srcM.errors.Inc()
			r.log.Warn("read failed; retrying", engine.AttrAttempt, failures, engine.AttrError, err.Error())
			if !sleep(readCtx, backoff(rc, failures)) {
				return nil
			}
			continue
		}
		failures = 0
		r.srcM.latency.Observe(time.Since(start).Seconds())
		if ack == nil {
			ack = func(context.Context, error) {}
		}
		n := len(b.Records)
		bytes := 0
		for i := range b.Records {
			rec := &b.Records[i]
			rec.SetCodec(r.p.Codec)
			if rec.Time.IsZero() {
				rec.Time = start
			}
			bytes += len(rec.Value) + len(rec.Key)
		}
		r.read.Add(int64(n))
		r.readBytes.Add(int64(bytes))
		r.srcM.recordsOut.Add(float64(n))
		r.srcM.bytesOut.Add(float64(bytes))
		r.srcM.batchRecords.Observe(float64(n))
		r.m.batchesRead.Inc()

		r.inflightBytes.Add(int64(bytes))
		f := &flight{r: r, ack: ack, readAt: start, bytes: int64(bytes)}
		f.hold(1) // released once routing is done
		r.flights.Add(1)
		select {
		case jobs <- job{batch: b, f: f}:
		case <-ctx.Done():
			// Hard stop: the batch is neither processed nor acknowledged.
			return ctx.Err()
		}
	}
}
