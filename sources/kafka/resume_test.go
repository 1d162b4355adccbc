package kafka

import (
	"testing"

	"github.com/sluicehq/sluice/engine"
)

// TestResumeFrom: a partition starts after the larger of its committed
// offset and the position a sink kept.
func TestResumeFrom(t *testing.T) {
	addrs := newCluster(t, 2, "t")
	produce(t, addrs, values("t", 200)...)
	first := map[string]int64{}
	c := testConfig(addrs, "g", "t")
	s, err := New(c, engine.TestEnv())
	if err != nil {
		t.Fatal(err)
	}
	var _ engine.Resumer = s
	// No committed offsets: partition 0 starts after the kept 29; partition
	// 1 has no kept position and starts at the beginning.
	s.ResumeFrom(map[string]int64{streamOf("t", 0): 29, "other/0": 5})
	if err := s.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, s, 200-30)
	closeSource(t, s)
	for _, r := range recs {
		if _, ok := first[r.Source.Stream]; !ok {
			first[r.Source.Stream] = r.Source.Offset
		}
	}
	if first[streamOf("t", 0)] != 30 {
		t.Errorf("partition 0 started at %d, want 30", first[streamOf("t", 0)])
	}
	if got, ok := first[streamOf("t", 1)]; ok && got != 0 {
		t.Errorf("partition 1 started at %d, want 0", got)
	}

	// Now the group has committed everything: a kept position below the
	// committed offset must not rewind the partition.
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
	for _, r := range more {
		if r.Source.Offset < 30 && r.Source.Stream == streamOf("t", 0) {
			t.Fatalf("partition 0 rewound to %d", r.Source.Offset)
		}
	}
}
