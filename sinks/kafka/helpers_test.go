package kafka

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/codec"
)

// newCluster starts an in-process Kafka with one broker; it is closed when
// the test ends.
func newCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// testConfig is the default config pointed at c and topic.
func testConfig(c *kfake.Cluster, topic string) Config {
	cfg := Defaults()
	cfg.Brokers = c.ListenAddrs()
	cfg.Topic = topic
	cfg.DialTimeout = 5 * time.Second
	return cfg
}

// openSink builds and opens a sink on cfg; it is closed when the test ends.
func openSink(t testing.TB, cfg Config) *Sink {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	s, err := New(cfg, engine.TestEnv())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Open(ctx); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

var jsonCodec = func() codec.Codec {
	c, err := codec.Lookup("json")
	if err != nil {
		panic(err)
	}
	return c
}()

// rec returns a JSON record with value v, key k (nil: none) and headers.
func rec(v string, k []byte, headers map[string]string, at time.Time) engine.Record {
	r := engine.NewRecord([]byte(v), jsonCodec)
	r.Key, r.Headers, r.Time = k, headers, at
	return r
}

// consume reads every record of topics in c, as far as the partitions'
// high watermarks when consume is called.
func consume(t testing.TB, c *kfake.Cluster, topics ...string) []*kgo.Record {
	t.Helper()
	want := int64(0)
	for _, topic := range topics {
		for _, p := range c.PartitionInfos(topic) {
			want += p.HighWatermark
		}
	}
	if want == 0 {
		return nil
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for int64(len(out)) < want {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), want, err)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("fetch %s/%d: %v", topic, p, err)
		})
		out = append(out, fs.Records()...)
	}
	return out
}

// values returns the values of rs as strings.
func values(rs []*kgo.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r.Value)
	}
	return out
}

// topicName returns a topic name unique within the test binary run.
func topicName() string {
	return fmt.Sprintf("topic-%d", topicSeq.Add(1))
}

var topicSeq atomic.Int64
