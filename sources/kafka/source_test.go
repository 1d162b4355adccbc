package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/enginetest"
)

// The tests run the source against kfake, franz-go's in-process Kafka, and
// read committed offsets back with sarama's ClusterAdmin.

func newCluster(t testing.TB, partitions int32, topics ...string) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// produce writes recs and waits until they are acknowledged.
func produce(t testing.TB, addrs []string, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ProducerBatchMaxBytes(16<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for chunk := range slices.Chunk(recs, 10000) {
		if err := cl.ProduceSync(context.Background(), chunk...).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
}

// testConfig returns a config for group on topics with short timers.
func testConfig(addrs []string, group string, topics ...string) Config {
	c := Defaults()
	c.Brokers = addrs
	c.Group = group
	c.Topics = topics
	c.BatchLinger = 20 * time.Millisecond
	c.CommitInterval = 50 * time.Millisecond
	c.RebalanceSettleTimeout = 5 * time.Second
	return c
}

// openSource opens a source for c, closed when the test ends.
func openSource(t testing.TB, c Config, env engine.Env) *Source {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := New(c, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(context.Background()); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func closeSource(t testing.TB, s *Source) {
	t.Helper()
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// read returns the next batch, failing the test if none comes within 20s.
func read(t testing.TB, s *Source) (engine.Batch, engine.Ack) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, ack, err := s.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if b.Len() == 0 {
		t.Fatal("Read returned an empty batch")
	}
	return b, ack
}

// readRecords reads batches until it has n records, acknowledging each.
func readRecords(t testing.TB, s *Source, n int) []engine.Record {
	t.Helper()
	var out []engine.Record
	for len(out) < n {
		b, ack := read(t, s)
		checkBatch(t, b)
		out = append(out, b.Records...)
		ack(context.Background(), nil)
	}
	if len(out) != n {
		t.Fatalf("read %d records, want %d", len(out), n)
	}
	return out
}

// checkBatch checks that b holds consecutive records of one partition.
func checkBatch(t testing.TB, b engine.Batch) {
	t.Helper()
	for i := 1; i < b.Len(); i++ {
		prev, cur := b.Records[i-1].Source, b.Records[i].Source
		if cur.Stream != prev.Stream || cur.Offset <= prev.Offset {
			t.Fatalf("batch mixes partitions or goes back: %v after %v", cur, prev)
		}
	}
}

func admin(t testing.TB, addrs []string) sarama.ClusterAdmin {
	t.Helper()
	sc := sarama.NewConfig()
	sc.Version = sarama.V3_6_0_0
	adm, err := sarama.NewClusterAdmin(addrs, sc)
	if err != nil {
		t.Fatal(err)
	}
	return adm
}

// committed returns the offsets group committed for partitions 0..n-1 of
// topic, -1 for none.
func committed(t testing.TB, addrs []string, group, topic string, n int32) []int64 {
	t.Helper()
	adm := admin(t, addrs)
	defer adm.Close()
	ps := make([]int32, n)
	for i := range ps {
		ps[i] = int32(i)
	}
	r, err := adm.ListConsumerGroupOffsets(group, map[string][]int32{topic: ps})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, n)
	for i := range out {
		b := r.GetBlock(topic, int32(i))
		if b == nil || !errors.Is(b.Err, sarama.ErrNoError) {
			t.Fatalf("committed offset of %s/%d: %+v", topic, i, b)
		}
		out[i] = b.Offset
	}
	return out
}

// endOffsets returns the high-water marks of partitions 0..n-1 of topic.
func endOffsets(t testing.TB, addrs []string, topic string, n int32) []int64 {
	t.Helper()
	sc := sarama.NewConfig()
	sc.Version = sarama.V3_6_0_0
	cl, err := sarama.NewClient(addrs, sc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	out := make([]int64, n)
	for i := range out {
		if out[i], err = cl.GetOffset(topic, int32(i), sarama.OffsetNewest); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// eventually polls cond every 20ms until it holds, failing after 10s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func streamOf(topic string, p int) string { return topic + "/" + strconv.Itoa(p) }

func TestRoundTrip(t *testing.T) {
	addrs := newCluster(t, 4, "t")
	const n = 2000
	ts := time.UnixMilli(1_760_000_000_000).UTC()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{
			Topic:     "t",
			Key:       fmt.Appendf(nil, "k%d", i),
			Value:     fmt.Appendf(nil, `{"i":%d}`, i),
			Headers:   []kgo.RecordHeader{{Key: "i", Value: []byte(strconv.Itoa(i))}, {Key: "src", Value: []byte("test")}},
			Timestamp: ts.Add(time.Duration(i) * time.Millisecond),
		}
	}
	produce(t, addrs, recs...)

	s := openSource(t, testConfig(addrs, "g", "t"), engine.TestEnv())
	got := readRecords(t, s, n)
	closeSource(t, s)

	seen := make(map[int]bool, n)
	next := map[string]int64{} // expected next offset per partition
	for _, r := range got {
		i, err := strconv.Atoi(r.Headers["i"])
		if err != nil || seen[i] {
			t.Fatalf("record %q: bad or repeated header i=%q", r.Value, r.Headers["i"])
		}
		seen[i] = true
		if string(r.Key) != fmt.Sprintf("k%d", i) || string(r.Value) != fmt.Sprintf(`{"i":%d}`, i) ||
			r.Headers["src"] != "test" || len(r.Headers) != 2 {
			t.Fatalf("record %d: key %q value %q headers %v", i, r.Key, r.Value, r.Headers)
		}
		if !r.Time.Equal(recs[i].Timestamp) {
			t.Fatalf("record %d: time %v, want %v", i, r.Time, recs[i].Timestamp)
		}
		want := streamOf("t", int(recs[i].Partition))
		if r.Source.Stream != want || r.Source.Offset != recs[i].Offset || r.Source.Offset != next[want] {
			t.Fatalf("record %d: position %v, want %s@%d in order", i, r.Source, want, recs[i].Offset)
		}
		next[want]++
	}
	if len(next) != 4 {
		t.Fatalf("records came from %d partitions, want 4", len(next))
	}
	if c, e := committed(t, addrs, "g", "t", 4), endOffsets(t, addrs, "t", 4); !slices.Equal(c, e) {
		t.Fatalf("committed %v, want the end offsets %v", c, e)
	}
}

// readBatches reads n batches from a one-partition topic without
// acknowledging them.
func readBatches(t *testing.T, s *Source, n int) ([]engine.Batch, []engine.Ack) {
	t.Helper()
	var bs []engine.Batch
	var acks []engine.Ack
	for range n {
		b, ack := read(t, s)
		bs = append(bs, b)
		acks = append(acks, ack)
	}
	return bs, acks
}

// sequentialConfig cuts a one-partition topic that holds its records
// already into batches of exactly 10.
func sequentialConfig(addrs []string, group, topic string) Config {
	c := testConfig(addrs, group, topic)
	c.BatchSize = 10
	c.BatchLinger = 5 * time.Second
	return c
}

func values(topic string, n int) []*kgo.Record {
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Value: []byte(strconv.Itoa(i))}
	}
	return recs
}

// TestBatchesAreCutBySizeAndLinger reads a partition that holds 25
// records with batch_size 10: two full batches come at once, and the last
// 5 records come as a batch of their own once batch_linger has passed,
// then a record produced later comes alone. A record without headers has
// no Headers map.
func TestBatchesAreCutBySizeAndLinger(t *testing.T) {
	addrs := newCluster(t, 1, "t")
	produce(t, addrs, values("t", 25)...)
	c := testConfig(addrs, "g", "t")
	c.BatchSize = 10
	c.BatchLinger = 100 * time.Millisecond
	s := openSource(t, c, engine.TestEnv())

	var sizes []int
	var next int64
	for next < 25 {
		b, ack := read(t, s)
		checkBatch(t, b)
		if first := b.Records[0].Source.Offset; first != next {
			t.Fatalf("batch starts at offset %d, want %d", first, next)
		}
		for _, r := range b.Records {
			if r.Headers != nil {
				t.Fatalf("record %v without headers has Headers %v", r.Source, r.Headers)
			}
		}
		sizes = append(sizes, b.Len())
		next += int64(b.Len())
		ack(t.Context(), nil)
	}
	if want := []int{10, 10, 5}; !slices.Equal(sizes, want) {
		t.Fatalf("batch sizes %v, want %v", sizes, want)
	}

	produce(t, addrs, values("t", 1)...)
	b, ack := read(t, s)
	if b.Len() != 1 || b.Records[0].Source.Offset != 25 {
		t.Fatalf("got %d records from %v, want the one at offset 25", b.Len(), b.Records[0].Source)
	}
	ack(t.Context(), nil)
	closeSource(t, s)
	if got := committed(t, addrs, "g", "t", 1)[0]; got != 26 {
		t.Fatalf("committed %d, want 26", got)
	}
}

func TestOutOfOrderAcksCommitTheContiguousPrefix(t *testing.T) {
	addrs := newCluster(t, 1, "t")
	produce(t, addrs, values("t", 40)...)
	c := sequentialConfig(addrs, "g", "t")
	s := openSource(t, c, engine.TestEnv())
	bs, acks := readBatches(t, s, 4)
	for i, b := range bs {
		if b.Len() != 10 || b.Records[0].Source.Offset != int64(10*i) {
			t.Fatalf("batch %d: %d records from %v", i, b.Len(), b.Records[0].Source)
		}
	}
	offset := func() int64 { return committed(t, addrs, "g", "t", 1)[0] }

	acks[0](t.Context(), nil)
	eventually(t, "commit of the first batch", func() bool { return offset() == 10 })

	acks[3](t.Context(), nil)
	acks[2](t.Context(), nil)
	time.Sleep(10 * c.CommitInterval) // several commits go by
	if got := offset(); got != 10 {
		t.Fatalf("committed %d with batch 2 unacknowledged, want 10", got)
	}

	acks[1](t.Context(), nil)
	eventually(t, "commit of all batches", func() bool { return offset() == 40 })
	closeSource(t, s)
	if got := offset(); got != 40 {
		t.Fatalf("committed %d after Close, want 40", got)
	}
}

func TestFailedAckStopsCommits(t *testing.T) {
	addrs := newCluster(t, 1, "t")
	produce(t, addrs, values("t", 40)...)
	c := sequentialConfig(addrs, "g", "t")
	s := openSource(t, c, engine.TestEnv())
	_, acks := readBatches(t, s, 4)
	offset := func() int64 { return committed(t, addrs, "g", "t", 1)[0] }

	acks[0](t.Context(), nil)
	acks[1](t.Context(), errors.New("sink failed"))
	acks[3](t.Context(), nil)
	acks[2](t.Context(), nil)
	eventually(t, "commit of the first batch", func() bool { return offset() == 10 })
	time.Sleep(10 * c.CommitInterval)
	closeSource(t, s)
	if got := offset(); got != 10 {
		t.Fatalf("committed %d, want 10: the start of the failed batch", got)
	}

	// The next member of the group starts at the failed batch.
	s2 := openSource(t, c, engine.TestEnv())
	got := readRecords(t, s2, 30)
	if first := got[0].Source.Offset; first != 10 {
		t.Fatalf("restarted at offset %d, want 10", first)
	}
	closeSource(t, s2)
}

func TestRestartResumesFromCommittedOffsets(t *testing.T) {
	addrs := newCluster(t, 4, "t")
	const n = 1000
	recs := values("t", n)
	for i, r := range recs {
		r.Key = []byte(strconv.Itoa(i))
	}
	produce(t, addrs, recs...)
	c := testConfig(addrs, "g", "t")
	c.BatchSize = 50

	s := openSource(t, c, engine.TestEnv())
	first := readRecords(t, s, 400)
	closeSource(t, s)
	done := committed(t, addrs, "g", "t", 4)
	var sum int64
	for p, o := range done {
		done[p] = max(o, 0) // -1: nothing committed, the partition starts at 0
		sum += done[p]
	}
	if sum != int64(len(first)) {
		t.Fatalf("committed %v (%d records), want the %d records read", done, sum, len(first))
	}

	s2 := openSource(t, c, engine.TestEnv())
	rest := readRecords(t, s2, n-len(first))
	closeSource(t, s2)

	starts := map[string]int64{}
	seen := map[string]bool{}
	for _, r := range append(first, rest...) {
		if seen[r.Source.String()] {
			t.Fatalf("%v read twice", r.Source)
		}
		seen[r.Source.String()] = true
	}
	for _, r := range rest {
		if _, ok := starts[r.Source.Stream]; !ok {
			starts[r.Source.Stream] = r.Source.Offset
		}
	}
	for p, o := range done {
		if s, ok := starts[streamOf("t", p)]; ok && s != o {
			t.Fatalf("partition %d resumed at %d, want the committed %d", p, s, o)
		}
	}
}

// TestRebalanceSettlesBeforeRelease has a second member join while the first
// holds unacknowledged batches: the first must wait for their acks and
// commit them before it lets its partitions go, so that no record is read
// twice.
func TestRebalanceSettlesBeforeRelease(t *testing.T) {
	addrs := newCluster(t, 2, "t")
	const n = 400
	recs := values("t", n)
	for i, r := range recs {
		r.Key = []byte(strconv.Itoa(i))
	}
	produce(t, addrs, recs...)
	c := testConfig(addrs, "g", "t")
	c.BatchSize = 50
	c.RebalanceSettleTimeout = 20 * time.Second

	envA, envB := engine.TestEnv(), engine.TestEnv()
	a := openSource(t, c, envA)
	var held []engine.Ack
	var got []engine.Record
	for len(held) < 4 {
		b, ack := read(t, a)
		got = append(got, b.Records...)
		held = append(held, ack)
	}

	b := openSource(t, c, envB)
	// sarama heartbeats every 3s: by then A knows of the rebalance, and it
	// holds its partitions, so B gets none, until the acks come.
	time.Sleep(4 * time.Second)
	if got := metric(t, envB, "sluice_kafka_partitions_assigned"); got != 0 {
		t.Fatalf("B was assigned %v partitions while A still had batches in flight", got)
	}
	for _, ack := range held {
		ack(t.Context(), nil)
	}
	eventually(t, "B's assignment", func() bool { return metric(t, envB, "sluice_kafka_partitions_assigned") > 0 })

	var mu sync.Mutex
	drain := func(s *Source) {
		for {
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			batch, ack, err := s.Read(ctx)
			cancel()
			if err != nil {
				return
			}
			mu.Lock()
			got = append(got, batch.Records...)
			mu.Unlock()
			ack(t.Context(), nil)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { drain(a) })
	wg.Go(func() { drain(b) })
	wg.Wait()
	closeSource(t, a)
	closeSource(t, b)

	seen := map[string]bool{}
	for _, r := range got {
		if seen[r.Source.String()] {
			t.Fatalf("%v read twice: a revoked partition let go of a batch before it was committed", r.Source)
		}
		seen[r.Source.String()] = true
	}
	if len(seen) != n {
		t.Fatalf("read %d distinct records, want %d", len(seen), n)
	}
	if got := metric(t, envA, "sluice_kafka_rebalances_total"); got != 2 {
		t.Errorf("A's rebalances_total = %v, want 2", got)
	}
	if c, e := committed(t, addrs, "g", "t", 2), endOffsets(t, addrs, "t", 2); !slices.Equal(c, e) {
		t.Fatalf("committed %v, want the end offsets %v", c, e)
	}
}

// TestRevokeDropsUnackedBatches: a partition revoked while a batch is still
// unacknowledged after the settle timeout is not committed past that batch,
// so the next member reads it again.
func TestRevokeDropsUnackedBatches(t *testing.T) {
	addrs := newCluster(t, 1, "t")
	produce(t, addrs, values("t", 40)...)
	c := sequentialConfig(addrs, "g", "t")
	c.RebalanceSettleTimeout = 200 * time.Millisecond
	s := openSource(t, c, engine.TestEnv())
	_, acks := readBatches(t, s, 2)
	acks[0](t.Context(), nil) // the second is never acknowledged
	closeSource(t, s)
	if got := committed(t, addrs, "g", "t", 1)[0]; got != 10 {
		t.Fatalf("committed %d, want 10", got)
	}
	acks[1](t.Context(), nil) // too late: the partition was let go
	if got := committed(t, addrs, "g", "t", 1)[0]; got != 10 {
		t.Fatalf("a late ack moved the commit to %d", got)
	}
}

func TestTopicsRegex(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "ev-a", "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addrs := c.ListenAddrs()
	produce(t, addrs, values("ev-a", 20)...)
	produce(t, addrs, values("other", 20)...)

	cfg := testConfig(addrs, "g")
	cfg.TopicsRegex = "ev-.*"
	cfg.TopicsRefreshInterval = 100 * time.Millisecond
	s := openSource(t, cfg, engine.TestEnv())
	for _, r := range readRecords(t, s, 20) {
		if topic := r.Source.Stream[:4]; topic != "ev-a" {
			t.Fatalf("read %v, which topics_regex does not match", r.Source)
		}
	}

	// A topic created later joins once the refresh sees it.
	if err := c.CreateTopic("ev-b", 2, nil); err != nil {
		t.Fatal(err)
	}
	produce(t, addrs, values("ev-b", 20)...)
	for _, r := range readRecords(t, s, 20) {
		if topic := r.Source.Stream[:4]; topic != "ev-b" {
			t.Fatalf("read %v again or from the wrong topic", r.Source)
		}
	}
	closeSource(t, s)
}

// metric returns the value of the counter or gauge name in env's registry.
func metric(t testing.TB, env engine.Env, name string) float64 {
	t.Helper()
	mfs, err := env.Metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if mf.GetType() == dto.MetricType_COUNTER {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestMetrics(t *testing.T) {
	addrs := newCluster(t, 1, "t")
	produce(t, addrs, values("t", 100)...)
	c := sequentialConfig(addrs, "g", "t")
	c.LagTarget = 40
	env := engine.TestEnv()
	s := openSource(t, c, env)
	_, ack := read(t, s) // 10 of 100 records

	for name, want := range map[string]float64{
		"sluice_kafka_consumer_lag":        90,
		"sluice_kafka_desired_replicas":    3, // ceil(90 / 40)
		"sluice_kafka_partitions_assigned": 1,
		"sluice_kafka_rebalances_total":    1,
	} {
		// The gauges follow the batch once Read has it.
		eventually(t, fmt.Sprintf("%s = %v", name, want), func() bool { return metric(t, env, name) == want })
	}
	ack(t.Context(), nil)
	closeSource(t, s)
	if got := metric(t, env, "sluice_kafka_partitions_assigned"); got != 0 {
		t.Errorf("partitions_assigned after Close = %v, want 0", got)
	}
}

func TestConformance(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	enginetest.SourceSuite(t, conformanceHarness(c.ListenAddrs(), func(t *testing.T, topic string) {
		if err := c.CreateTopic(topic, 3, nil); err != nil {
			t.Fatal(err)
		}
	}))
}

// conformanceHarness runs each subtest of the source suite on a fresh topic
// of 3 partitions, made by create, with a group of its own.
func conformanceHarness(addrs []string, create func(t *testing.T, topic string)) enginetest.SourceHarness {
	var topic, group string
	return enginetest.SourceHarness{
		Reset: func(t *testing.T) {
			id := fmt.Sprintf("conformance-%d-%s", time.Now().UnixNano(), t.Name()[strings.LastIndex(t.Name(), "/")+1:])
			topic, group = id, id
			create(t, topic)
		},
		Produce: func(t *testing.T, vs [][]byte) {
			recs := make([]*kgo.Record, len(vs))
			for i, v := range vs {
				recs[i] = &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: v}
			}
			produce(t, addrs, recs...)
		},
		New: func(t *testing.T) engine.Source {
			s, err := New(testConfig(addrs, group, topic), engine.TestEnv())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}
