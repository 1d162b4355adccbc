package stdout

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/sluicehq/sluice/engine"
)

// Register adds the stdout sink to r.
func Register(r *engine.Registry) error {
	return engine.RegisterSink(r, engine.SinkSpec[Config]{
		Name:     "stdout",
		Summary:  "Writes records to standard output, one per line, optionally one in every N.",
		Example:  "stdout: {format: envelope, every: 1000}",
		Defaults: Defaults,
		New: func(c Config, env engine.Env) (engine.Sink, error) {
			return New(c, os.Stdout), nil
		},
	})
}

// Sink writes records to an io.Writer. Safe for concurrent use.
type Sink struct {
	cfg  Config
	mu   sync.Mutex
	w    *bufio.Writer
	seen int64
}

// New returns a sink that writes to w.
func New(c Config, w io.Writer) *Sink {
	return &Sink{cfg: c, w: bufio.NewWriterSize(w, 64<<10)}
}

// Open does nothing.
func (s *Sink) Open(context.Context) error { return nil }

type envelope struct {
	Value    json.RawMessage   `json:"value,omitempty"`
	Text     string            `json:"text,omitempty"`
	Key      string            `json:"key,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
	Time     time.Time         `json:"time"`
	Position string            `json:"position"`
}

// Write prints the batch's sampled records and flushes.
func (s *Sink) Write(_ context.Context, b engine.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range b.Records {
		s.seen++
		if (s.seen-1)%s.cfg.Every != 0 {
			continue
		}
		rec := &b.Records[i]
		v, err := rec.Bytes()
		if err != nil {
			return engine.NewBatchError([]engine.RecordError{{Index: i, Err: err}})
		}
		if s.cfg.Format == "envelope" {
			e := envelope{Key: string(rec.Key), Headers: rec.Headers, Time: rec.Time, Position: rec.Source.String()}
			if json.Valid(v) {
				e.Value = v
			} else {
				e.Text = string(v)
			}
			if v, err = json.Marshal(e); err != nil {
				return engine.Permanent(fmt.Errorf("encode envelope: %w", err))
			}
		}
		s.w.Write(v)
		s.w.WriteByte('\n')
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write stdout: %w", err)
	}
	return nil
}

// Close flushes what is buffered.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Flush()
}
