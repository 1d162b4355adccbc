package enginetest

import (
	"bytes"
	"context"
	"maps"
	"sync"

	"github.com/sluicehq/sluice/engine"
)

// MemSource emits a fixed list of records in batches and records how each
// batch was acknowledged. With Endless set it blocks after the last batch
// instead of returning engine.ErrEndOfInput. Safe for concurrent use.
type MemSource struct {
	Records   []engine.Record
	BatchSize int  // records per batch; 0 means 100
	Endless   bool // block at the end instead of ending

	mu     sync.Mutex
	next   int
	acks   map[int64]error // batch start offset -> ack result
	acked  []engine.Record // records of batches acked without error
	opened bool
	closed bool
}

// NewMemSource returns a MemSource of one record per value; the position of
// value i is mem@i.
func NewMemSource(values ...[]byte) *MemSource {
	recs := make([]engine.Record, len(values))
	for i, v := range values {
		recs[i] = engine.Record{Value: v, Source: engine.Position{Stream: "mem", Offset: int64(i)}}
	}
	return &MemSource{Records: recs}
}

// Open marks the source open.
func (s *MemSource) Open(context.Context) error {
	s.mu.Lock()
	s.opened = true
	s.mu.Unlock()
	return nil
}

// Read returns the next batch.
func (s *MemSource) Read(ctx context.Context) (engine.Batch, engine.Ack, error) {
	s.mu.Lock()
	if s.next >= len(s.Records) {
		s.mu.Unlock()
		if !s.Endless {
			return engine.Batch{}, nil, engine.ErrEndOfInput
		}
		<-ctx.Done()
		return engine.Batch{}, nil, ctx.Err()
	}
	n := s.BatchSize
	if n <= 0 {
		n = 100
	}
	start := s.next
	end := min(start+n, len(s.Records))
	s.next = end
	recs := make([]engine.Record, end-start)
	for i := range recs {
		recs[i] = s.Records[start+i].Clone()
	}
	s.mu.Unlock()
	ack := func(_ context.Context, err error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.acks == nil {
			s.acks = map[int64]error{}
		}
		if _, dup := s.acks[int64(start)]; dup {
			panic("enginetest: batch acknowledged twice")
		}
		s.acks[int64(start)] = err
		if err == nil {
			s.acked = append(s.acked, s.Records[start:end]...)
		}
	}
	return engine.Batch{Records: recs}, ack, nil
}

// Close marks the source closed.
func (s *MemSource) Close(context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// Acks returns, per batch start offset, the result each batch was
// acknowledged with.
func (s *MemSource) Acks() map[int64]error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int64]error, len(s.acks))
	for k, v := range s.acks {
		out[k] = v
	}
	return out
}

// AckedOK returns the number of records in batches acknowledged without
// error.
func (s *MemSource) AckedOK() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acked)
}

// Closed reports whether Close was called.
func (s *MemSource) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// MemSink keeps copies of the records written to it. Fail, when set, is called for
// every record of every Write; a non-nil result fails that record (wrap it
// with engine.Permanent for a permanent failure). Safe for concurrent use.
type MemSink struct {
	Fail func(rec *engine.Record) error

	mu      sync.Mutex
	records []engine.Record
	writes  int
	opened  bool
	closed  bool
}

// Open marks the sink open.
func (s *MemSink) Open(context.Context) error {
	s.mu.Lock()
	s.opened = true
	s.mu.Unlock()
	return nil
}

// Write keeps the records of b that Fail lets through.
func (s *MemSink) Write(ctx context.Context, b engine.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var failed []engine.RecordError
	var keep []engine.Record
	for i := range b.Records {
		rec := b.Records[i]
		if s.Fail != nil {
			if err := s.Fail(&rec); err != nil {
				failed = append(failed, engine.RecordError{Index: i, Err: err})
				continue
			}
		}
		v, err := rec.Bytes()
		if err != nil {
			failed = append(failed, engine.RecordError{Index: i, Err: err})
			continue
		}
		// A sink keeps nothing of b after Write returns: a source may
		// reuse the buffers the records lie in.
		c := engine.NewRecord(bytes.Clone(v), rec.Codec())
		c.Key, c.Headers, c.Time, c.Source, c.Err = bytes.Clone(rec.Key), maps.Clone(rec.Headers), rec.Time, rec.Source, rec.Err
		keep = append(keep, c)
	}
	s.mu.Lock()
	s.records = append(s.records, keep...)
	s.writes++
	s.mu.Unlock()
	return engine.NewBatchError(failed)
}

// Close marks the sink closed.
func (s *MemSink) Close(context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// Records returns a copy of what was written.
func (s *MemSink) Records() []engine.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]engine.Record(nil), s.records...)
}

// Values returns the values written, in order.
func (s *MemSink) Values() [][]byte {
	recs := s.Records()
	out := make([][]byte, len(recs))
	for i := range recs {
		out[i], _ = recs[i].Bytes()
	}
	return out
}

// Writes returns the number of Write calls.
func (s *MemSink) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// Closed reports whether Close was called.
func (s *MemSink) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
