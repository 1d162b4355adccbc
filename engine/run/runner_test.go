package run_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/batch"
	"github.com/sluicehq/sluice/engine/codec"
	"github.com/sluicehq/sluice/engine/enginetest"
	"github.com/sluicehq/sluice/engine/expr"
	"github.com/sluicehq/sluice/engine/run"
	"github.com/sluicehq/sluice/engine/spec"
	exprt "github.com/sluicehq/sluice/transforms/expr"
)

func values(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"id":%d,"even":%t}`, i, i%2 == 0)
	}
	return out
}

func sinkInst(name string, s engine.Sink, when string) *engine.SinkInstance {
	si := &engine.SinkInstance{Name: name, Component: "mem", Sink: s, Batch: engine.DefaultBatch, Concurrency: 2,
		Retry: engine.RetryConfig{Initial: time.Millisecond, Max: 5 * time.Millisecond}}
	if when != "" {
		p, err := expr.Compile(when, expr.AsBool())
		if err != nil {
			panic(err)
		}
		si.When = p
	}
	return si
}

func pipeline(t *testing.T, src engine.Source, sinks ...*engine.SinkInstance) *engine.Pipeline {
	t.Helper()
	c, err := codec.Lookup("json")
	if err != nil {
		t.Fatal(err)
	}
	return &engine.Pipeline{
		Name: "t", Codec: c, Source: src, SourceName: "mem", Sinks: sinks,
		Scaling: engine.Scaling{MinWorkers: 1, MaxWorkers: 3},
		Runtime: engine.RuntimeConfig{MaxInFlight: 16, ShutdownGrace: 5 * time.Second, QueueSize: 4},
	}
}

func run1(t *testing.T, p *engine.Pipeline) (run.Summary, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	return run.New(p).Run(ctx)
}

func allAckedOK(t *testing.T, src *enginetest.MemSource, batches int) {
	t.Helper()
	acks := src.Acks()
	if len(acks) != batches {
		t.Fatalf("%d batches acknowledged, want %d", len(acks), batches)
	}
	for off, err := range acks {
		if err != nil {
			t.Fatalf("batch at %d acknowledged with %v", off, err)
		}
	}
}

func TestRoutesEveryRecordToMatchingSinks(t *testing.T) {
	src := enginetest.NewMemSource(values(1000)...)
	src.BatchSize = 37
	all, even := &enginetest.MemSink{}, &enginetest.MemSink{}
	p := pipeline(t, src, sinkInst("all", all, ""), sinkInst("even", even, "even"))
	// A transform that drops every record whose id is a multiple of 10.
	p.Transforms = []engine.NamedTransform{{Name: "f", Path: "transforms[0].f", Transform: engine.TransformFunc(
		func(_ context.Context, b engine.Batch) (engine.Batch, error) {
			out := b.Records[:0]
			for i := range b.Records {
				f, err := b.Records[i].Fields()
				if err != nil {
					return b, err
				}
				if f["id"].(int64)%10 != 0 {
					out = append(out, b.Records[i])
				}
			}
			return engine.Batch{Records: out}, nil
		})}}
	sum, err := run1(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(all.Records()); got != 900 {
		t.Errorf("all got %d records, want 900", got)
	}
	if got := len(even.Records()); got != 400 {
		t.Errorf("even got %d records, want 400", got)
	}
	seen := map[string]bool{}
	for _, v := range all.Values() {
		if seen[string(v)] {
			t.Fatalf("duplicate %s", v)
		}
		seen[string(v)] = true
	}
	allAckedOK(t, src, 28)
	if sum.Read != 1000 || sum.Filtered != 100 || sum.Written[0].Records != 900 || sum.Written[1].Records != 400 {
		t.Errorf("summary = %+v", sum)
	}
	if !src.Closed() || !all.Closed() {
		t.Error("components not closed")
	}
}

func TestRetriesRetryableFailures(t *testing.T) {
	src := enginetest.NewMemSource(values(200)...)
	var calls sync.Map // id -> attempts
	sink := &enginetest.MemSink{Fail: func(rec *engine.Record) error {
		n, _ := calls.LoadOrStore(string(rec.Value), new(atomic.Int32))
		if n.(*atomic.Int32).Add(1) <= 2 && strings.Contains(string(rec.Value), `"even":true`) {
			return errors.New("503 try later")
		}
		return nil
	}}
	sum, err := run1(t, pipeline(t, src, sinkInst("out", sink, "")))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(sink.Records()); got != 200 {
		t.Fatalf("%d records written, want 200", got)
	}
	if sum.Retried != 200 { // 100 even records, 2 retries each
		t.Errorf("retried = %d, want 200", sum.Retried)
	}
	allAckedOK(t, src, 2)
}

func TestPermanentFailuresGoToDeadLetter(t *testing.T) {
	src := enginetest.NewMemSource(values(300)...)
	sink := &enginetest.MemSink{Fail: func(rec *engine.Record) error {
		if strings.Contains(string(rec.Value), `"id":7,`) || strings.Contains(string(rec.Value), `"id":250,`) {
			return engine.Permanent(errors.New("mapping error: field id"))
		}
		return nil
	}}
	dlq := &enginetest.MemSink{}
	p := pipeline(t, src, sinkInst("out", sink, ""))
	p.DeadLetter = sinkInst("dead_letter", dlq, "")
	sum, err := run1(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(sink.Records()); got != 298 {
		t.Errorf("%d records written, want 298", got)
	}
	dead := dlq.Records()
	if len(dead) != 2 {
		t.Fatalf("%d dead-lettered, want 2", len(dead))
	}
	for _, r := range dead {
		if r.Headers[run.HeaderError] != "mapping error: field id" || r.Headers[run.HeaderComponent] != "sinks.out" ||
			!strings.HasPrefix(r.Headers[run.HeaderPosition], "mem@") || r.Headers[run.HeaderPipeline] != "t" {
			t.Errorf("headers = %v", r.Headers)
		}
	}
	if sum.DeadLettered != 2 || sum.DeadLetter != 2 {
		t.Errorf("summary = %+v", sum)
	}
	allAckedOK(t, src, 3)
}

func TestPermanentFailureWithoutDeadLetterStops(t *testing.T) {
	src := enginetest.NewMemSource(values(300)...)
	sink := &enginetest.MemSink{Fail: func(rec *engine.Record) error {
		if strings.Contains(string(rec.Value), `"id":150,`) {
			return engine.Permanent(errors.New("constraint violation"))
		}
		return nil
	}}
	_, err := run1(t, pipeline(t, src, sinkInst("out", sink, "")))
	if err == nil || !strings.Contains(err.Error(), "no dead_letter sink") || !strings.Contains(err.Error(), "constraint violation") {
		t.Fatalf("err = %v", err)
	}
	if ackErr := src.Acks()[100]; ackErr == nil {
		t.Errorf("the failed batch was acknowledged as delivered")
	}
}

func TestDeadLetterFailureStops(t *testing.T) {
	src := enginetest.NewMemSource(values(100)...)
	sink := &enginetest.MemSink{Fail: func(*engine.Record) error { return engine.Permanent(errors.New("rejected")) }}
	dlq := &enginetest.MemSink{Fail: func(*engine.Record) error { return engine.Permanent(errors.New("dlq full")) }}
	p := pipeline(t, src, sinkInst("out", sink, ""))
	p.DeadLetter = sinkInst("dead_letter", dlq, "")
	_, err := run1(t, p)
	if err == nil || !strings.Contains(err.Error(), "dlq full") {
		t.Fatalf("err = %v", err)
	}
	for off, e := range src.Acks() {
		if e == nil {
			t.Errorf("batch %d acknowledged although its records are nowhere", off)
		}
	}
}

func TestTransformFailures(t *testing.T) {
	src := enginetest.NewMemSource(values(50)...)
	src.BatchSize = 10
	out, dlq := &enginetest.MemSink{}, &enginetest.MemSink{}
	p := pipeline(t, src, sinkInst("out", out, ""))
	p.DeadLetter = sinkInst("dead_letter", dlq, "")
	p.Transforms = []engine.NamedTransform{{Name: "t", Path: "transforms[0].t", Transform: engine.TransformFunc(
		func(_ context.Context, b engine.Batch) (engine.Batch, error) {
			f, _ := b.Records[0].Fields()
			switch f["id"].(int64) {
			case 0:
				panic("bug in a function")
			case 10:
				return b, engine.Permanent(errors.New("bad batch"))
			}
			b.Records[1].Err = errors.New("bad record")
			return b, nil
		})}}
	sum, err := run1(t, p)
	if err != nil {
		t.Fatal(err)
	}
	// Batches 0 and 10 are dead-lettered whole (20), and one record of each
	// of the other three batches (3).
	if got := len(dlq.Records()); got != 23 {
		t.Errorf("%d dead-lettered, want 23", got)
	}
	if got := len(out.Records()); got != 27 {
		t.Errorf("%d written, want 27", got)
	}
	var panicked int
	for _, r := range dlq.Records() {
		if strings.Contains(r.Headers[run.HeaderError], "panicked") {
			panicked++
		}
		if r.Headers[run.HeaderComponent] != "transforms[0].t" {
			t.Errorf("component = %q", r.Headers[run.HeaderComponent])
		}
	}
	if panicked != 10 || sum.DeadLettered != 23 {
		t.Errorf("panicked %d, summary %+v", panicked, sum)
	}
	allAckedOK(t, src, 5)
}

func TestWhenErrorDeadLetters(t *testing.T) {
	src := enginetest.NewMemSource([]byte(`{"n":1}`), []byte(`not json`), []byte(`{"n":"x"}`))
	out, dlq := &enginetest.MemSink{}, &enginetest.MemSink{}
	p := pipeline(t, src, sinkInst("out", out, "n > 0"))
	p.DeadLetter = sinkInst("dead_letter", dlq, "")
	if _, err := run1(t, p); err != nil {
		t.Fatal(err)
	}
	if len(out.Records()) != 1 || len(dlq.Records()) != 2 {
		t.Fatalf("out %d, dlq %d", len(out.Records()), len(dlq.Records()))
	}
	if v := string(dlq.Values()[0]) + string(dlq.Values()[1]); !strings.Contains(v, "not json") {
		t.Errorf("dead letters = %s", v)
	}
}

func TestDrainDeliversInFlightAndStops(t *testing.T) {
	src := enginetest.NewMemSource(values(5000)...)
	src.Endless = true
	src.BatchSize = 50
	slow := &enginetest.MemSink{Fail: func(*engine.Record) error { time.Sleep(20 * time.Microsecond); return nil }}
	p := pipeline(t, src, sinkInst("out", slow, ""))
	r := run.New(p)
	done := make(chan error, 1)
	var sum run.Summary
	go func() {
		var err error
		sum, err = r.Run(t.Context())
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats().Read < 500 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	r.Drain()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("drain did not finish")
	}
	// Everything read was delivered and acknowledged; nothing more.
	if int64(len(slow.Records())) != sum.Read {
		t.Fatalf("read %d, written %d", sum.Read, len(slow.Records()))
	}
	if got := src.AckedOK(); int64(got) != sum.Read {
		t.Fatalf("acked %d of %d read", got, sum.Read)
	}
}

// blockSink blocks every Write until ctx ends.
type blockSink struct{ enginetest.MemSink }

func (b *blockSink) Write(ctx context.Context, _ engine.Batch) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestGracePeriodBoundsDrain(t *testing.T) {
	src := enginetest.NewMemSource(values(100)...)
	src.Endless = true
	p := pipeline(t, src, sinkInst("out", &blockSink{}, ""))
	p.Runtime.ShutdownGrace = 200 * time.Millisecond
	p.Sinks[0].Batch.Period = time.Millisecond
	r := run.New(p)
	go func() { time.Sleep(100 * time.Millisecond); r.Drain() }()
	start := time.Now()
	_, err := r.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "grace period") {
		t.Fatalf("err = %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v", el)
	}
	if n := src.AckedOK(); n != 0 {
		t.Errorf("%d records acknowledged though never written", n)
	}
}

func TestBackPressureBoundsInFlight(t *testing.T) {
	src := &countingSource{MemSource: enginetest.NewMemSource(values(10000)...)}
	src.BatchSize = 10
	gate := make(chan struct{})
	sink := &gateSink{gate: gate}
	p := pipeline(t, src, sinkInst("out", sink, ""))
	p.Runtime.MaxInFlight = 4
	r := run.New(p)
	done := make(chan error, 1)
	go func() { _, err := r.Run(t.Context()); done <- err }()
	time.Sleep(300 * time.Millisecond)
	if n := src.reads.Load(); n > 4 {
		t.Fatalf("source read %d batches with max_in_flight 4 and a stuck sink", n)
	}
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sink.n.Load() != 10000 {
		t.Fatalf("wrote %d", sink.n.Load())
	}
}

type countingSource struct {
	*enginetest.MemSource
	reads atomic.Int64
}

func (c *countingSource) Read(ctx context.Context) (engine.Batch, engine.Ack, error) {
	b, a, err := c.MemSource.Read(ctx)
	if err == nil {
		c.reads.Add(1)
	}
	return b, a, err
}

type gateSink struct {
	gate chan struct{}
	n    atomic.Int64
}

func (g *gateSink) Open(context.Context) error  { return nil }
func (g *gateSink) Close(context.Context) error { return nil }
func (g *gateSink) Write(ctx context.Context, b engine.Batch) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.n.Add(int64(len(b.Records)))
	return nil
}

type resumableSource struct {
	*enginetest.MemSource
	got map[string]int64
}

func (r *resumableSource) ResumeFrom(p map[string]int64) { r.got = p }

type keeperSink struct {
	enginetest.MemSink
	pos map[string]int64
}

func (k *keeperSink) Positions(context.Context) (map[string]int64, bool, error) {
	return k.pos, true, nil
}

// TestBackPressureBoundsInFlightBytes checks that reading pauses once the
// batches in flight hold max_in_flight_bytes, before max_in_flight, and
// that everything is delivered once the sink moves.
func TestBackPressureBoundsInFlightBytes(t *testing.T) {
	vals := values(2000)
	size := 0
	for _, v := range vals[:10] {
		size += len(v)
	}
	src := &countingSource{MemSource: enginetest.NewMemSource(vals...)}
	src.BatchSize = 10
	gate := make(chan struct{})
	sink := &gateSink{gate: gate}
	p := pipeline(t, src, sinkInst("out", sink, ""))
	p.Runtime.MaxInFlight = 100
	p.Runtime.MaxInFlightBytes = spec.ByteSize(3 * size) // three batches, the fourth goes over
	r := run.New(p)
	done := make(chan error, 1)
	go func() { _, err := r.Run(t.Context()); done <- err }()
	time.Sleep(300 * time.Millisecond)
	if n := src.reads.Load(); n < 3 || n > 4 {
		t.Fatalf("source read %d batches with max_in_flight_bytes of 3 batches and a stuck sink", n)
	}
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sink.n.Load() != 2000 {
		t.Fatalf("wrote %d", sink.n.Load())
	}
}

func TestResumeFromKeptPositions(t *testing.T) {
	tests := []struct {
		name  string
		sinks int
		want  bool
	}{
		{"only sink: source resumes from its positions", 1, true},
		{"other sinks: source keeps its own positions", 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &resumableSource{MemSource: enginetest.NewMemSource(values(3)...)}
			keeper := &keeperSink{pos: map[string]int64{"mem": 1}}
			sinks := []*engine.SinkInstance{sinkInst("db", keeper, "")}
			if tc.sinks == 2 {
				sinks = append(sinks, sinkInst("other", &enginetest.MemSink{}, ""))
			}
			if _, err := run1(t, pipeline(t, src, sinks...)); err != nil {
				t.Fatal(err)
			}
			if got := src.got != nil; got != tc.want {
				t.Fatalf("ResumeFrom called: %v, want %v", got, tc.want)
			}
			if tc.want && src.got["mem"] != 1 {
				t.Errorf("positions = %v", src.got)
			}
		})
	}
}

// orderSink records the order in which offsets arrive.
type orderSink struct {
	keeperSink
	mu   sync.Mutex
	seen []int64
}

func (o *orderSink) Write(ctx context.Context, b engine.Batch) error {
	time.Sleep(time.Duration(len(b.Records)%3) * time.Millisecond)
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range b.Records {
		o.seen = append(o.seen, r.Source.Offset)
	}
	return nil
}

// TestPositionKeeperGetsSourceOrder: a sink that keeps positions receives
// every stream in source order, even with several workers and writers
// configured and a transform that takes uneven time.
func TestPositionKeeperGetsSourceOrder(t *testing.T) {
	src := enginetest.NewMemSource(values(3000)...)
	src.BatchSize = 7
	sink := &orderSink{}
	si := sinkInst("db", sink, "")
	si.Concurrency = 4
	si.Batch.Count = 13
	p := pipeline(t, src, si)
	p.Scaling.MaxWorkers = 4
	p.Transforms = []engine.NamedTransform{{Name: "slow", Path: "transforms[0].slow", Transform: engine.TransformFunc(
		func(_ context.Context, b engine.Batch) (engine.Batch, error) {
			time.Sleep(time.Duration(b.Records[0].Source.Offset%5) * time.Millisecond)
			return b, nil
		})}}
	if _, err := run1(t, p); err != nil {
		t.Fatal(err)
	}
	if len(sink.seen) != 3000 {
		t.Fatalf("sink got %d records", len(sink.seen))
	}
	for i := 1; i < len(sink.seen); i++ {
		if sink.seen[i] <= sink.seen[i-1] {
			t.Fatalf("offset %d arrived after %d", sink.seen[i], sink.seen[i-1])
		}
	}
}

// pendingSource lets at most two of its batches be unacknowledged: Read
// blocks at that bound, as the Kafka source does at max_pending.
type pendingSource struct {
	*enginetest.MemSource
	slots   chan struct{}
	waiting atomic.Bool
}

func (p *pendingSource) Read(ctx context.Context) (engine.Batch, engine.Ack, error) {
	select {
	case p.slots <- struct{}{}:
	default:
		p.waiting.Store(true)
		select {
		case p.slots <- struct{}{}:
			p.waiting.Store(false)
		case <-ctx.Done():
			return engine.Batch{}, nil, ctx.Err()
		}
	}
	b, ack, err := p.MemSource.Read(ctx)
	if err != nil {
		<-p.slots
		return b, ack, err
	}
	return b, func(ctx context.Context, err error) { ack(ctx, err); <-p.slots }, nil
}

func (p *pendingSource) WaitingForAcks() bool { return p.waiting.Load() }

// TestSourceWaitingForAcksFlushesSinks checks that a source blocked at its
// own bound of unacknowledged batches makes the sinks write what they hold:
// with a 30 s batch period and batches far larger than what the source lets
// through, the pipeline would otherwise stall for 30 s per round.
func TestSourceWaitingForAcksFlushesSinks(t *testing.T) {
	src := &pendingSource{MemSource: enginetest.NewMemSource(values(2000)...), slots: make(chan struct{}, 2)}
	src.BatchSize = 100
	sink := &enginetest.MemSink{}
	si := sinkInst("out", sink, "")
	si.Batch = batch.Policy{Count: 100000, Period: 30 * time.Second}
	p := pipeline(t, src, si)
	start := time.Now()
	if _, err := run1(t, p); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("took %v: the sink waited for its batch period", el)
	}
	if n := len(sink.Records()); n != 2000 {
		t.Errorf("wrote %d records, want 2000", n)
	}
	allAckedOK(t, src.MemSource, 20)
}

// TestPickedValuesOutliveNoRecord runs batches through a filter and a set
// that read picked fields, with few batches in flight so that the arrays
// of picked values of finished flights are picked into again at once: every
// record written must carry the values of its own fields.
func TestPickedValuesOutliveNoRecord(t *testing.T) {
	src := enginetest.NewMemSource(values(3000)...)
	src.BatchSize = 25
	out := &enginetest.MemSink{}
	p := pipeline(t, src, sinkInst("out", out, ""))
	p.Runtime.MaxInFlight = 3
	filter, err := exprt.NewFilter(`even || id % 3 == 0`)
	if err != nil {
		t.Fatal(err)
	}
	set, err := exprt.NewSet(spec.Pairs[string]{{Key: "twice", Value: `id * 2`}, {Key: "tag", Value: `"r" + string(id)`}})
	if err != nil {
		t.Fatal(err)
	}
	p.Transforms = []engine.NamedTransform{
		{Name: "filter", Path: "transforms[0].filter", Transform: filter},
		{Name: "set", Path: "transforms[1].set", Transform: set},
	}
	if _, err := run1(t, p); err != nil {
		t.Fatal(err)
	}
	want := 0
	for i := range 3000 {
		if i%2 == 0 || i%3 == 0 {
			want++
		}
	}
	recs := out.Records()
	if len(recs) != want {
		t.Fatalf("%d records written, want %d", len(recs), want)
	}
	for _, r := range recs {
		f, err := r.Fields()
		if err != nil {
			t.Fatal(err)
		}
		id := f["id"].(int64)
		if f["twice"] != 2*id || f["tag"] != fmt.Sprint("r", id) || (id%2 != 0 && id%3 != 0) {
			t.Fatalf("record %s: %v", r.Value, f)
		}
	}
	allAckedOK(t, src, 120)
}
