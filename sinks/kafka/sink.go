package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/batch"
	"github.com/sluicehq/sluice/engine/expr"
	"github.com/sluicehq/sluice/engine/spec"
)

// DefaultBatch is the sink's default batching policy: a Write carries up
// to 1000 records or 1MiB, and waits at most 100ms to fill up.
var DefaultBatch = batch.Policy{Count: 1000, Bytes: 1 << 20, Period: 100 * time.Millisecond}

// Register adds the kafka sink to r.
func Register(r *engine.Registry) error {
	return engine.RegisterSink(r, engine.SinkSpec[Config]{
		Name:     "kafka",
		Summary:  "Produces records to a Kafka topic with the idempotent producer (chaining pipelines, dead letters).",
		Example:  `kafka: {brokers: ["${KAFKA_BROKERS:-localhost:9092}"], topic: 'events-{{ region }}', key: '{{ player_id }}'}`,
		Defaults: Defaults,
		Batch:    DefaultBatch,
		New: func(c Config, env engine.Env) (engine.Sink, error) {
			return New(c, env)
		},
	})
}

// Sink produces records to Kafka through one sarama AsyncProducer. Write
// may be called concurrently; Open, Write and Close follow engine.Sink.
type Sink struct {
	cfg Config
	log *slog.Logger

	topic      string         // the topic, when it is not a template
	topicT     *expr.Template // the topic template, else nil
	keyT       *expr.Template // key template, or
	keyP       *expr.Program  // key expression, or neither: the record's key
	partP      *expr.Program  // partition expression; nil: hash of the key
	headers    []header       // configured headers, sorted by name
	needFields bool           // some of the above reads the record's fields

	produceErrors prometheus.Counter

	mu       sync.RWMutex // Write holds it shared, Open and Close exclusively
	client   sarama.Client
	producer sarama.AsyncProducer
	done     chan struct{} // closed when the dispatcher has seen the producer's last result
}

type header struct {
	name  []byte
	value []byte         // static value, when tmpl is nil
	tmpl  *expr.Template // templated value
}

// New builds a sink from c: it compiles the topic, key, partition and
// header templates and expressions. It does no I/O; Open connects.
func New(c Config, env engine.Env) (*Sink, error) {
	s := &Sink{cfg: c, log: env.Log}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var errs []error
	if t, err := expr.CompileTemplate(c.Topic); err != nil {
		errs = append(errs, spec.At("topic", err))
	} else if static, ok := t.Static(); ok {
		if err := checkTopic(static); err != nil {
			errs = append(errs, spec.At("topic", err))
		}
		s.topic = static
	} else {
		s.topicT = t
	}
	switch {
	case c.Key == "":
	case strings.Contains(c.Key, "{{"):
		t, err := expr.CompileTemplate(c.Key)
		if err != nil {
			errs = append(errs, spec.At("key", err))
		}
		s.keyT = t
	default:
		p, err := expr.Compile(c.Key)
		if err != nil {
			errs = append(errs, spec.At("key", err))
		}
		s.keyP = p
	}
	if c.Partition != "" {
		p, err := expr.Compile(c.Partition)
		if err != nil {
			errs = append(errs, spec.At("partition", err))
		}
		s.partP = p
	}
	names := make([]string, 0, len(c.Headers))
	for name := range c.Headers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t, err := expr.CompileTemplate(c.Headers[name])
		if err != nil {
			errs = append(errs, spec.At("headers."+name, err))
			continue
		}
		h := header{name: []byte(name)}
		if v, ok := t.Static(); ok {
			h.value = []byte(v)
		} else {
			h.tmpl = t
			s.needFields = true
		}
		s.headers = append(s.headers, h)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.needFields = s.needFields || s.topicT != nil || s.keyT != nil || s.keyP != nil || s.partP != nil
	if env.Metrics != nil {
		s.produceErrors = env.Metrics.Counter("sluice_kafka_produce_errors_total",
			"Records the Kafka producer failed to write after its own resends, retryable or not.")
	} else {
		s.produceErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_kafka_produce_errors_total"})
	}
	return s, nil
}

// Open connects to the brokers, checks that a static topic exists (or is
// created by the brokers), and starts the idempotent producer. ctx limits
// the attempt; brokers that cannot be reached make it fail.
func (s *Sink) Open(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.producer != nil {
		return nil
	}
	sc, err := s.cfg.saramaConfig()
	if err != nil {
		return err
	}
	start := time.Now()
	type conn struct {
		client   sarama.Client
		producer sarama.AsyncProducer
		err      error
	}
	ch := make(chan conn, 1)
	go func() {
		c, p, err := s.connect(sc)
		ch <- conn{c, p, err}
	}()
	var c conn
	select {
	case c = <-ch:
	case <-ctx.Done():
		go func() { // sarama's connect cannot be interrupted; clean up after it
			if c := <-ch; c.err == nil {
				c.producer.Close()
				c.client.Close()
			}
		}()
		return fmt.Errorf("connect to kafka %s: %w", strings.Join(s.cfg.Brokers, ","), ctx.Err())
	}
	if c.err != nil {
		return c.err
	}
	s.client, s.producer, s.done = c.client, c.producer, make(chan struct{})
	go s.dispatch(c.producer, s.done)
	s.log.Info("connected", "brokers", strings.Join(s.cfg.Brokers, ","), engine.AttrTopic, s.cfg.Topic,
		"idempotent", s.cfg.Idempotent, "compression", s.cfg.Compression, engine.AttrElapsed, time.Since(start).Round(time.Millisecond).String())
	return nil
}

// connect makes the client and the producer; it blocks for as long as
// sarama's dial timeouts and metadata retries allow.
func (s *Sink) connect(sc *sarama.Config) (sarama.Client, sarama.AsyncProducer, error) {
	brokers := strings.Join(s.cfg.Brokers, ",")
	client, err := sarama.NewClient(s.cfg.Brokers, sc)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to kafka %s: %w", brokers, err)
	}
	if s.topic != "" {
		if _, err := client.Partitions(s.topic); err != nil {
			client.Close()
			if errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
				return nil, nil, fmt.Errorf("topic %s does not exist on kafka %s, and the brokers did not create it: %w", s.topic, brokers, err)
			}
			return nil, nil, fmt.Errorf("connect to kafka %s: metadata of topic %s: %w", brokers, s.topic, err)
		}
	}
	p, err := sarama.NewAsyncProducerFromClient(client)
	if err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("start producer on kafka %s: %w", brokers, err)
	}
	return client, p, nil
}

// outMsg is one record on its way to the brokers. Its Metadata points back
// to it, so that the dispatcher can settle the record in its write.
type outMsg struct {
	msg sarama.ProducerMessage
	w   *write
	idx int
}

// write is one call of Write waiting for its records' results.
type write struct {
	pending atomic.Int64  // records in flight, plus one while Write is sending
	done    chan struct{} // closed when pending reaches zero
	failed  []engine.RecordError
}

func (w *write) release() {
	if w.pending.Add(-1) == 0 {
		close(w.done)
	}
}

// dispatch settles every result of p until the producer has shut down.
// It is the only goroutine that changes a write's failed list; the
// atomic release orders that before Write reads it.
func (s *Sink) dispatch(p sarama.AsyncProducer, done chan struct{}) {
	defer close(done)
	succ, errs := p.Successes(), p.Errors()
	for succ != nil || errs != nil {
		select {
		case m, ok := <-succ:
			if !ok {
				succ = nil
				continue
			}
			m.Metadata.(*outMsg).w.release()
		case pe, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			s.produceErrors.Inc()
			o := pe.Msg.Metadata.(*outMsg)
			err := classify(fmt.Errorf("produce to %s/%d: %w", pe.Msg.Topic, pe.Msg.Partition, pe.Err))
			if s.topicT != nil && errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
				// The template named a topic that is still missing after
				// the producer's metadata refreshes and resends: the
				// record's fields are at fault, not the cluster.
				err = engine.Permanent(fmt.Errorf("topic %s rendered from %q does not exist: %w", pe.Msg.Topic, s.topicT.Source(), err))
			}
			o.w.failed = append(o.w.failed, engine.RecordError{Index: o.idx, Err: err})
			o.w.release()
		}
	}
}

// Write produces every record of b and returns once the brokers have
// acknowledged all of them (acks=all): nil when every record is written,
// a *engine.BatchError naming the records that failed otherwise. Records
// whose topic, key, partition or headers cannot be computed from their
// fields fail permanently and are not sent; the others are. When ctx ends
// first, Write returns ctx.Err() at once: the records already handed to the
// producer may still be written, and are then written once more on retry.
func (s *Sink) Write(ctx context.Context, b engine.Batch) error {
	n := len(b.Records)
	if n == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.producer == nil {
		return ErrClosed
	}
	start := time.Now()
	input := s.producer.Input()
	w := &write{done: make(chan struct{})}
	w.pending.Store(1)
	msgs := make([]outMsg, n)
	bd := builder{s: s}
	var failed []engine.RecordError
	for i := range b.Records {
		o := &msgs[i]
		o.w, o.idx = w, i
		if err := bd.build(&b.Records[i], o); err != nil {
			failed = append(failed, engine.RecordError{Index: i, Err: engine.Permanent(err)})
			continue
		}
		w.pending.Add(1)
		select {
		case input <- &o.msg:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	w.release()
	select {
	case <-w.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if len(w.failed) > 0 {
		failed = append(failed, w.failed...)
		slices.SortFunc(failed, func(a, b engine.RecordError) int { return a.Index - b.Index })
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.Debug("batch produced", engine.AttrRecords, n, "failed", len(failed),
			engine.AttrElapsed, time.Since(start).String())
	}
	return engine.NewBatchError(failed)
}

// Close flushes what the producer holds, waits for the results, and closes
// the connections. ctx limits the wait.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	p, c, done := s.producer, s.client, s.done
	s.producer, s.client = nil, nil
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	p.AsyncClose()
	select {
	case <-done:
	case <-ctx.Done():
		go func() {
			<-done
			c.Close()
		}()
		return fmt.Errorf("close kafka producer: %w", ctx.Err())
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("close kafka client: %w", err)
	}
	s.log.Info("closed")
	return nil
}

// builder turns records into producer messages for one Write. Keys and
// rendered header values are appended to one buffer, so that a batch
// allocates a few growing buffers instead of one slice per record.
type builder struct {
	s      *Sink
	buf    []byte
	topics map[string]string // rendered topic names, interned
}

// build fills o.msg from rec. Its errors are the record's: a retry cannot
// fix them.
func (bd *builder) build(rec *engine.Record, o *outMsg) error {
	s := bd.s
	var fields map[string]any
	if s.needFields {
		f, err := rec.Fields()
		if err != nil {
			return err
		}
		fields = f
	}
	m := &o.msg
	m.Metadata = o
	m.Topic = s.topic
	if s.topicT != nil {
		t, err := bd.renderTopic(fields)
		if err != nil {
			return err
		}
		m.Topic = t
	}
	switch {
	case s.keyT != nil:
		k, err := bd.appendTemplate(s.keyT, fields)
		if err != nil {
			return fmt.Errorf("key: %w", err)
		}
		m.Key = sarama.ByteEncoder(k)
	case s.keyP != nil:
		v, err := s.keyP.Eval(fields)
		if err != nil {
			return fmt.Errorf("key: %w", err)
		}
		start := len(bd.buf)
		if bd.buf, err = appendScalar(bd.buf, v); err != nil {
			bd.buf = bd.buf[:start]
			return fmt.Errorf("key %q: %w", s.keyP.Source(), err)
		}
		m.Key = sarama.ByteEncoder(bd.buf[start:len(bd.buf):len(bd.buf)])
	case rec.Key != nil:
		m.Key = sarama.ByteEncoder(rec.Key)
	}
	if s.partP != nil {
		v, err := s.partP.Eval(fields)
		if err != nil {
			return fmt.Errorf("partition: %w", err)
		}
		p, err := toPartition(v)
		if err != nil {
			return fmt.Errorf("partition %q: %w", s.partP.Source(), err)
		}
		m.Partition = p
	}
	if err := bd.headers(rec, fields, m); err != nil {
		return err
	}
	v, err := rec.Bytes()
	if err != nil {
		return err
	}
	if v != nil {
		m.Value = sarama.ByteEncoder(v)
	}
	m.Timestamp = rec.Time
	return nil
}

func (bd *builder) renderTopic(fields map[string]any) (string, error) {
	start := len(bd.buf)
	out, err := bd.s.topicT.AppendRender(bd.buf, fields)
	bd.buf = out[:start] // the name is interned as a string below
	if err != nil {
		return "", fmt.Errorf("topic: %w", err)
	}
	name := out[start:]
	if t, ok := bd.topics[string(name)]; ok {
		return t, nil
	}
	t := string(name)
	if err := checkTopic(t); err != nil {
		return "", fmt.Errorf("topic %q: %w", bd.s.topicT.Source(), err)
	}
	if bd.topics == nil {
		bd.topics = make(map[string]string)
	}
	bd.topics[t] = t
	return t, nil
}

// appendTemplate renders t into the buffer and returns the rendered bytes,
// which later appends do not change.
func (bd *builder) appendTemplate(t *expr.Template, fields map[string]any) ([]byte, error) {
	start := len(bd.buf)
	out, err := t.AppendRender(bd.buf, fields)
	if err != nil {
		bd.buf = out[:start]
		return nil, err
	}
	bd.buf = out
	return out[start:len(out):len(out)], nil
}

// headers sets the record's own headers, sorted by name, then the
// configured ones, which replace a record header of the same name.
func (bd *builder) headers(rec *engine.Record, fields map[string]any, m *sarama.ProducerMessage) error {
	cfg := bd.s.headers
	if len(rec.Headers)+len(cfg) == 0 {
		return nil
	}
	hs := make([]sarama.RecordHeader, 0, len(rec.Headers)+len(cfg))
	if len(rec.Headers) > 0 {
		names := make([]string, 0, len(rec.Headers))
		for k := range rec.Headers {
			if !configured(cfg, k) {
				names = append(names, k)
			}
		}
		slices.Sort(names)
		for _, k := range names {
			hs = append(hs, sarama.RecordHeader{Key: []byte(k), Value: []byte(rec.Headers[k])})
		}
	}
	for _, h := range cfg {
		v := h.value
		if h.tmpl != nil {
			var err error
			if v, err = bd.appendTemplate(h.tmpl, fields); err != nil {
				return fmt.Errorf("headers.%s: %w", h.name, err)
			}
		}
		hs = append(hs, sarama.RecordHeader{Key: h.name, Value: v})
	}
	m.Headers = hs
	return nil
}

func configured(hs []header, name string) bool {
	for _, h := range hs {
		if string(h.name) == name {
			return true
		}
	}
	return false
}

// appendScalar appends the bytes of a key computed by an expression:
// strings and raw bytes as they are, numbers in decimal, bools as
// true/false, times in RFC 3339. nil and other types are errors.
func appendScalar(dst []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case string:
		return append(dst, t...), nil
	case []byte:
		return append(dst, t...), nil
	case int64:
		return strconv.AppendInt(dst, t, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(t), 10), nil
	case float64:
		return strconv.AppendFloat(dst, t, 'f', -1, 64), nil
	case bool:
		return strconv.AppendBool(dst, t), nil
	case time.Time:
		return t.AppendFormat(dst, time.RFC3339Nano), nil
	case nil:
		return dst, errors.New("result is nil (a missing field?)")
	default:
		return dst, fmt.Errorf("result is %T, want a string, number, bool or time", v)
	}
}

// toPartition converts the result of the partition expression.
func toPartition(v any) (int32, error) {
	var n int64
	switch t := v.(type) {
	case int64:
		n = t
	case int:
		n = int64(t)
	case float64:
		if t != math.Trunc(t) || math.IsInf(t, 0) {
			return 0, fmt.Errorf("result %v is not a whole number", t)
		}
		n = int64(t)
	case nil:
		return 0, errors.New("result is nil (a missing field?)")
	default:
		return 0, fmt.Errorf("result is %T, want an integer", v)
	}
	if n < 0 || n > math.MaxInt32 {
		return 0, fmt.Errorf("partition %d out of range", n)
	}
	return int32(n), nil
}
