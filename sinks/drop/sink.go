package drop

import (
	"context"
	"sync/atomic"

	"github.com/sluicehq/sluice/engine"
)

// Register adds the drop sink to r.
func Register(r *engine.Registry) error {
	return engine.RegisterSink(r, engine.SinkSpec[Config]{
		Name:     "drop",
		Summary:  "Discards records (benchmarks, placeholders).",
		Example:  "drop: {}",
		Defaults: Defaults,
		New:      func(Config, engine.Env) (engine.Sink, error) { return New(), nil },
	})
}

// Sink discards records and counts them. Safe for concurrent use.
type Sink struct{ n atomic.Int64 }

// New returns a drop sink.
func New() *Sink { return &Sink{} }

// Open does nothing.
func (s *Sink) Open(context.Context) error { return nil }

// Write counts b's records.
func (s *Sink) Write(_ context.Context, b engine.Batch) error {
	s.n.Add(int64(len(b.Records)))
	return nil
}

// Close does nothing.
func (s *Sink) Close(context.Context) error { return nil }

// Count returns the records written so far.
func (s *Sink) Count() int64 { return s.n.Load() }
