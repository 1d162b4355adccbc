package run

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/batch"
)

// recordsOf returns n records whose values are sizes[i] bytes long (10 when
// sizes is short).
func recordsOf(n int, sizes ...int) []engine.Record {
	recs := make([]engine.Record, n)
	for i := range recs {
		size := 10
		if i < len(sizes) {
			size = sizes[i]
		}
		recs[i].Value = []byte(strings.Repeat("x", size))
		recs[i].Source.Offset = int64(i)
	}
	return recs
}

// shape describes batches as the records of each, per flight: "f1:0-2 f2:0-1 | ...".
func shape(batches [][]chunk, flights map[*flight]string) string {
	var parts []string
	for _, b := range batches {
		var cs []string
		for _, c := range b {
			cs = append(cs, fmt.Sprintf("%s:%d-%d", flights[c.f], c.recs[0].Source.Offset, c.recs[len(c.recs)-1].Source.Offset))
		}
		parts = append(parts, strings.Join(cs, " "))
	}
	return strings.Join(parts, " | ")
}

// TestBatcher checks that chunks are cut into batches by records and bytes,
// keeping their order, and that a record bigger than Bytes goes alone.
func TestBatcher(t *testing.T) {
	f1, f2, f3 := &flight{}, &flight{}, &flight{}
	names := map[*flight]string{f1: "f1", f2: "f2", f3: "f3"}
	for _, tc := range []struct {
		name   string
		policy batch.Policy
		chunks []chunk
		want   string // batches sent by add
		rest   string // what flush returns after
	}{
		{"count joins chunks", batch.Policy{Count: 5}, []chunk{{recordsOf(2), f1}, {recordsOf(3), f2}, {recordsOf(1), f3}},
			"f1:0-1 f2:0-2", "f3:0-0"},
		{"count cuts a chunk", batch.Policy{Count: 4}, []chunk{{recordsOf(3), f1}, {recordsOf(10), f2}},
			"f1:0-2 f2:0-0 | f2:1-4 | f2:5-8", "f2:9-9"},
		{"bytes cut before the record that goes over", batch.Policy{Bytes: 25}, []chunk{{recordsOf(5), f1}},
			"f1:0-1 | f1:2-3", "f1:4-4"},
		{"bytes reached exactly", batch.Policy{Bytes: 20}, []chunk{{recordsOf(3), f1}},
			"f1:0-1", "f1:2-2"},
		{"a record over bytes goes alone", batch.Policy{Bytes: 25, Count: 100}, []chunk{{recordsOf(4, 10, 100, 5, 5), f1}},
			"f1:0-0 | f1:1-1", "f1:2-3"},
		{"no limit: every record alone", batch.Policy{}, []chunk{{recordsOf(3), f1}},
			"f1:0-0 | f1:1-1 | f1:2-2", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBatcher(tc.policy)
			var sent [][]chunk
			for _, c := range tc.chunks {
				if !b.add(c, func(cs []chunk) bool { sent = append(sent, cs); return true }) {
					t.Fatal("add reported a failed send")
				}
			}
			if got := shape(sent, names); got != tc.want {
				t.Errorf("batches %q, want %q", got, tc.want)
			}
			rest := b.flush()
			if got := shape([][]chunk{rest}, names); rest != nil && got != tc.rest || rest == nil && tc.rest != "" {
				t.Errorf("flush %q, want %q", got, tc.rest)
			}
			if b.flush() != nil {
				t.Error("a second flush returned records")
			}
		})
	}
}

// TestBatcherPeriod checks that the timer fires Period after the first
// record of a batch, and is off when nothing is pending.
func TestBatcherPeriod(t *testing.T) {
	b := newBatcher(batch.Policy{Count: 100, Period: 20 * time.Millisecond})
	if b.timer() != nil {
		t.Fatal("timer armed with nothing pending")
	}
	start := time.Now()
	b.add(chunk{recordsOf(3), &flight{}}, func([]chunk) bool { t.Fatal("sent a batch"); return true })
	select {
	case <-b.timer():
	case <-time.After(5 * time.Second):
		t.Fatal("the timer did not fire")
	}
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Errorf("fired after %s", el)
	}
	if rest := b.flush(); len(rest) != 1 || len(rest[0].recs) != 3 || b.timer() != nil {
		t.Errorf("flush = %v, timer %v", rest, b.timer())
	}
	// A send that fails stops add.
	b = newBatcher(batch.Policy{Count: 1})
	if b.add(chunk{recordsOf(3), &flight{}}, func([]chunk) bool { return false }) {
		t.Error("add went on after a failed send")
	}
}
