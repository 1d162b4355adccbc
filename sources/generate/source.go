package generate

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/engine"
)

// Register adds the generate source to r.
func Register(r *engine.Registry) error {
	return engine.RegisterSource(r, engine.SourceSpec[Config]{
		Name:     "generate",
		Summary:  "Generates synthetic game-telemetry events, deterministic for a seed, with count and rate limits.",
		Example:  "generate: {count: 100000, rate: 5000, seed: 1}",
		Bounded:  false,
		Defaults: Defaults,
		New: func(c Config, env engine.Env) (engine.Source, error) {
			return New(c, env)
		},
	})
}

// Source generates events. Read is called from one goroutine.
type Source struct {
	cfg    Config
	env    engine.Env
	rng    *rand.Rand
	n      int64 // events generated
	start  time.Time
	opened time.Time
	acked  atomic.Int64
	buf    []byte
}

// New returns a generate source for c.
func New(c Config, env engine.Env) (*Source, error) {
	s := &Source{cfg: c, env: env, rng: rand.New(rand.NewPCG(uint64(c.Seed), 0x5eed))}
	if c.Start != "" {
		t, err := time.Parse(time.RFC3339Nano, c.Start)
		if err != nil {
			return nil, err
		}
		s.start = t
	}
	return s, nil
}

// Open starts the clock.
func (s *Source) Open(context.Context) error {
	s.opened = time.Now()
	return nil
}

// Acked returns the number of events whose batches were acknowledged
// without error.
func (s *Source) Acked() int64 { return s.acked.Load() }

// Read returns the next batch, waiting if the rate limit asks for it.
func (s *Source) Read(ctx context.Context) (engine.Batch, engine.Ack, error) {
	if s.cfg.Count > 0 && s.n >= s.cfg.Count {
		return engine.Batch{}, nil, engine.ErrEndOfInput
	}
	n := int64(s.cfg.BatchSize)
	if s.cfg.Count > 0 {
		n = min(n, s.cfg.Count-s.n)
	}
	if s.cfg.Rate > 0 {
		// Emit the batch when the rate allows its last event.
		due := s.opened.Add(time.Duration(float64(s.n+n) / s.cfg.Rate * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return engine.Batch{}, nil, ctx.Err()
			}
		}
	}
	recs := make([]engine.Record, n)
	now := time.Now().UTC().Truncate(time.Millisecond)
	// One backing array for the batch's values keeps allocations per batch.
	s.buf = s.buf[:0]
	ends := make([]int, n)
	for i := range recs {
		s.buf = s.event(s.buf, s.n+int64(i), s.eventTime(s.n+int64(i), now))
		ends[i] = len(s.buf)
	}
	values := make([]byte, len(s.buf))
	copy(values, s.buf)
	prev := 0
	for i := range recs {
		seq := s.n + int64(i)
		recs[i] = engine.Record{
			Value:  values[prev:ends[i]:ends[i]],
			Time:   s.eventTime(seq, now),
			Source: engine.Position{Stream: "generate", Offset: seq},
		}
		prev = ends[i]
	}
	s.n += n
	ack := func(_ context.Context, err error) {
		if err == nil {
			s.acked.Add(n)
		}
	}
	return engine.Batch{Records: recs}, ack, nil
}

// Close does nothing; generated events need no commit.
func (s *Source) Close(context.Context) error { return nil }

var (
	events    = []string{"heartbeat", "heartbeat", "heartbeat", "login", "match_start", "kill", "kill", "purchase", "match_end", "logout"}
	regions   = []string{"eu-west", "us-east", "ap-south", "sa-east"}
	platforms = []string{"android", "ios", "pc", "console"}
	versions  = []string{"12", "13", "14", "17.1", "18.0"}
)

// eventTime is the event time of event seq: start plus seq steps when start
// is set, else now.
func (s *Source) eventTime(seq int64, now time.Time) time.Time {
	if s.start.IsZero() {
		return now
	}
	return s.start.Add(time.Duration(seq) * s.cfg.Step)
}

// event appends event seq, happening at ts, as JSON to dst.
func (s *Source) event(dst []byte, seq int64, ts time.Time) []byte {
	r := s.rng
	if s.cfg.BadEvery > 0 && (seq+1)%s.cfg.BadEvery == 0 {
		return append(dst, `{"event_id":"g`+strconv.FormatInt(s.cfg.Seed, 10)+`-`+strconv.FormatInt(seq, 10)+`","broken":`...)
	}
	ev := events[r.IntN(len(events))]
	platform := platforms[r.IntN(len(platforms))]
	dst = append(dst, `{"event_id":"g`...)
	dst = strconv.AppendInt(dst, s.cfg.Seed, 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `","event":"`...)
	dst = append(dst, ev...)
	dst = append(dst, `","ts":"`...)
	dst = ts.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	dst = append(dst, `","player_id":`...)
	dst = strconv.AppendInt(dst, int64(1000+r.IntN(s.cfg.Players)), 10)
	dst = append(dst, `,"match_id":`...)
	dst = strconv.AppendInt(dst, 70000+seq/200, 10)
	dst = append(dst, `,"region":"`...)
	dst = append(dst, regions[r.IntN(len(regions))]...)
	dst = append(dst, `","platform":"`...)
	dst = append(dst, platform...)
	dst = append(dst, `","latency_ms":`...)
	lat := r.ExpFloat64() * 60
	if r.IntN(100) == 0 {
		lat += 5000 // a lagging client now and then
	}
	dst = strconv.AppendFloat(dst, float64(int64(lat*10))/10, 'f', -1, 64)
	dst = append(dst, `,"score":`...)
	dst = strconv.AppendInt(dst, int64(r.IntN(5000)), 10)
	dst = append(dst, `,"level":`...)
	dst = strconv.AppendInt(dst, int64(1+r.IntN(60)), 10)
	dst = append(dst, `,"device":{"os":"`...)
	dst = append(dst, platform...)
	dst = append(dst, `","ver":"`...)
	dst = append(dst, versions[r.IntN(len(versions))]...)
	dst = append(dst, `"}}`...)
	return dst
}
