package stdout

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/enginetest"
)

// lockedBuffer is a bytes.Buffer safe for the concurrent-writes subtest.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	return out
}

func TestConformance(t *testing.T) {
	var buf *lockedBuffer
	enginetest.SinkSuite(t, enginetest.SinkHarness{
		Reset: func(*testing.T) { buf = &lockedBuffer{} },
		New:   func(*testing.T) engine.Sink { return New(Defaults(), buf) },
		Read:  func(*testing.T) [][]byte { return buf.lines() },
	})
}

func TestEnvelopeAndSampling(t *testing.T) {
	buf := &lockedBuffer{}
	s := New(Config{Format: "envelope", Every: 2}, buf)
	recs := []engine.Record{
		{Value: []byte(`{"a":1}`), Key: []byte("k"), Headers: map[string]string{"h": "v"}, Time: time.Unix(0, 0).UTC(), Source: engine.Position{Stream: "s", Offset: 1}},
		{Value: []byte(`{"a":2}`)},
		{Value: []byte(`not json`), Source: engine.Position{Stream: "s", Offset: 3}},
	}
	if err := s.Write(context.Background(), engine.Batch{Records: recs}); err != nil {
		t.Fatal(err)
	}
	lines := buf.lines()
	if len(lines) != 2 {
		t.Fatalf("every 2 printed %d of 3 lines: %s", len(lines), lines)
	}
	var e map[string]any
	if err := json.Unmarshal(lines[0], &e); err != nil {
		t.Fatal(err)
	}
	if e["key"] != "k" || e["position"] != "s@1" || e["headers"].(map[string]any)["h"] != "v" || e["value"].(map[string]any)["a"] != 1.0 {
		t.Errorf("envelope = %s", lines[0])
	}
	if err := json.Unmarshal(lines[1], &e); err != nil || e["text"] != "not json" {
		t.Errorf("non-JSON value envelope = %s", lines[1])
	}
}
