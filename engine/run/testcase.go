package run

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/codec"
)

// CaseResult is the outcome of one test case of a pipeline file.
type CaseResult struct {
	Name   string
	Line   int
	Failed bool
	Diff   string // what differed, for people; empty when the case passed
}

// RunCase runs test case tc through p's transforms and routing with an
// in-memory source and in-memory sinks, and compares what each sink
// received with what tc expects. p's own source and sinks are not opened.
// p must not be used again afterwards.
func RunCase(ctx context.Context, p *engine.Pipeline, tc engine.TestCase) (CaseResult, error) {
	res := CaseResult{Name: tc.Name, Line: tc.Line}
	src := &sliceSource{}
	for i, v := range tc.Input {
		b, err := encodeInput(p.Codec, v)
		if err != nil {
			return res, fmt.Errorf("test %q: input[%d]: %w", tc.Name, i, err)
		}
		src.recs = append(src.recs, engine.Record{Value: b, Source: engine.Position{Stream: "test", Offset: int64(i)}})
	}
	q := *p
	q.Source, q.SourceName = src, "test"
	q.Sinks = nil
	captured := map[string]*captureSink{}
	for _, si := range p.Sinks {
		c := &captureSink{}
		captured[si.Name] = c
		s := *si
		s.Sink = c
		s.Retry.MaxAttempts = 1
		s.Concurrency = 1 // keep the order of records
		q.Sinks = append(q.Sinks, &s)
	}
	var dlq *captureSink
	if p.DeadLetter != nil {
		dlq = &captureSink{}
		s := *p.DeadLetter
		s.Sink = dlq
		q.DeadLetter = &s
	}
	r := New(&q, WithStrictSinks())
	if _, err := r.Run(ctx); err != nil {
		res.Failed = true
		res.Diff = "the pipeline failed: " + err.Error()
		return res, nil
	}
	var diffs []string
	names := make([]string, 0, len(tc.Expect))
	for name := range tc.Expect {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if d := compare(p.Codec, "sink "+name, tc.Expect[name], captured[name].values()); d != "" {
			diffs = append(diffs, d)
		}
	}
	if tc.DeadLetter != nil && dlq != nil {
		if d := compare(p.Codec, "dead_letter", tc.DeadLetter, dlq.values()); d != "" {
			diffs = append(diffs, d)
		}
	}
	if len(diffs) > 0 {
		res.Failed = true
		res.Diff = strings.Join(diffs, "\n")
	}
	return res, nil
}

func encodeInput(c codec.Codec, v any) ([]byte, error) {
	if s, ok := v.(string); ok && c.Name() != "json" {
		return []byte(s), nil
	}
	return c.Encode(v)
}

// compare returns a readable diff of want and got values, "" when equal.
// Values are compared after decoding got with c; numbers compare by value.
func compare(c codec.Codec, what string, want []any, got [][]byte) string {
	gotV := make([]any, len(got))
	for i, g := range got {
		v, err := c.Decode(g)
		if err != nil {
			v = string(g)
		}
		gotV[i] = v
	}
	equal := len(want) == len(gotV)
	for i := 0; equal && i < len(want); i++ {
		equal = sameValue(want[i], gotV[i])
	}
	if equal {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: got %d record(s), want %d\n", what, len(gotV), len(want))
	for i := 0; i < max(len(want), len(gotV)); i++ {
		switch {
		case i >= len(gotV):
			fmt.Fprintf(&b, "  - want[%d] %s\n", i, show(want[i]))
		case i >= len(want):
			fmt.Fprintf(&b, "  + got[%d]  %s\n", i, show(gotV[i]))
		case !sameValue(want[i], gotV[i]):
			fmt.Fprintf(&b, "  - want[%d] %s\n  + got[%d]  %s\n", i, show(want[i]), i, show(gotV[i]))
		default:
			fmt.Fprintf(&b, "    [%d]     %s\n", i, show(gotV[i]))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// sameValue compares structured values, treating integers and floats of
// equal value as equal.
func sameValue(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case float64:
		return n, !math.IsNaN(n)
	}
	return 0, false
}

// sliceSource emits its records in one batch and ends.
type sliceSource struct {
	recs []engine.Record
	done bool
}

func (s *sliceSource) Open(context.Context) error { return nil }
func (s *sliceSource) Read(context.Context) (engine.Batch, engine.Ack, error) {
	if s.done {
		return engine.Batch{}, nil, engine.ErrEndOfInput
	}
	s.done = true
	return engine.Batch{Records: s.recs}, nil, nil
}
func (s *sliceSource) Close(context.Context) error { return nil }

// captureSink keeps the values written to it, in order.
type captureSink struct {
	mu   sync.Mutex
	vals [][]byte
}

func (s *captureSink) Open(context.Context) error  { return nil }
func (s *captureSink) Close(context.Context) error { return nil }
func (s *captureSink) Write(_ context.Context, b engine.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range b.Records {
		v, err := b.Records[i].Bytes()
		if err != nil {
			return engine.NewBatchError([]engine.RecordError{{Index: i, Err: err}})
		}
		s.vals = append(s.vals, bytes.Clone(v))
	}
	return nil
}
func (s *captureSink) values() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vals
}
