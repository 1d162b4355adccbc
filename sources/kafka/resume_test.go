package kafka

import (
	"testing"

	"github.com/sluicehq/sluice/engine"
)

// TestResumeFrom: a partition starts after the larger of its committed
// offset and the position a sink kept.
func TestResumeFrom(t *testing.T) {
	addrs := newCluster(t, 1, "t")
	produce(t, addrs, values("t", 200)...)
	c := testConfig(addrs, "g", "t")
	c.BatchSize = 10
	s, err := New(c, engine.TestEnv())
	if err != nil {
		t.Fatal(err)
	}
	var _ engine.Resumer = s
	// No committed offset: the partition starts after the kept 29; a
	// position of a stream the source does not read is ignored.
	s.ResumeFrom(map[string]int64{streamOf("t", 0): 29, "other/0": 5})
	if err := s.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, s, 170)
	closeSource(t, s)
	if first := recs[0].Source.Offset; first != 30 {
		t.Fatalf("started at %d, want 30", first)
	}

	// The group has now committed 200: a kept position below it must not
	// rewind the partition.
	s2, err := New(c, engine.TestEnv())
	if err != nil {
		t.Fatal(err)
	}
	s2.ResumeFrom(map[string]int64{streamOf("t", 0): 3})
	if err := s2.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	produce(t, addrs, values("t", 10)...)
	more := readRecords(t, s2, 10)
	closeSource(t, s2)
	if first := more[0].Source.Offset; first != 200 {
		t.Fatalf("restarted at %d, want the committed 200", first)
	}
}
