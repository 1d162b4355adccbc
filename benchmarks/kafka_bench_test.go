package benchmarks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/run"
	"github.com/sluicehq/sluice/sources/generate"
)

// kafkaBenchRecords is how many events each Kafka benchmark consumes.
const kafkaBenchRecords = 200000

// produceEvents fills topic with n generated game-telemetry events and
// returns their total size in bytes.
func produceEvents(b testing.TB, brokers []string, topic string, n int) int64 {
	b.Helper()
	c := generate.Defaults()
	c.Count, c.BatchSize, c.Start = int64(n), 5000, "2026-11-25T00:00:00Z"
	src, err := generate.New(c, engine.TestEnv())
	if err != nil {
		b.Fatal(err)
	}
	src.Open(context.Background())
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerBatchMaxBytes(4<<20), kgo.AllowAutoTopicCreation())
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	var bytes int64
	for {
		bt, _, err := src.Read(context.Background())
		if err != nil {
			break
		}
		recs := make([]*kgo.Record, len(bt.Records))
		for i, r := range bt.Records {
			recs[i] = &kgo.Record{Topic: topic, Value: r.Value}
			bytes += int64(len(r.Value))
		}
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			b.Fatalf("produce: %v", err)
		}
	}
	return bytes
}

// runKafkaScenario consumes the n records of topic through the scenario's
// pipeline b.N times, each time as a new consumer group.
func runKafkaScenario(b *testing.B, brokers string, topic string, n int, bytes int64) {
	src, err := os.ReadFile(filepath.Join("kafka-filter-set-drop", "pipeline.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	reg := registry(b)
	var round atomic.Int64
	b.SetBytes(bytes)
	b.ReportAllocs()
	var records int64
	for b.Loop() {
		group := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), round.Add(1))
		lookup := func(k string) (string, bool) {
			switch k {
			case "BENCH_KAFKA":
				return brokers, true
			case "BENCH_TOPIC":
				return topic, true
			case "BENCH_GROUP":
				return group, true
			}
			return "", false
		}
		p, err := engine.Load("kafka-filter-set-drop", src, engine.LoadOptions{Registry: reg, Lookup: lookup})
		if err != nil {
			b.Fatal(err)
		}
		r := run.New(p)
		go func() {
			for r.Stats().Read < int64(n) {
				time.Sleep(2 * time.Millisecond)
			}
			r.Drain()
		}()
		sum, err := r.Run(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		records += sum.Read
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// rawConsume consumes n records of topic with a bare sarama consumer group
// and no processing: the reference point for the Kafka source.
func rawConsume(b *testing.B, brokers string, topic string, n int, bytes int64) {
	b.SetBytes(bytes)
	var records int64
	for b.Loop() {
		cfg := sarama.NewConfig()
		cfg.Version = sarama.V3_6_0_0
		cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
		cfg.Consumer.Fetch.Default = 1 << 20
		g, err := sarama.NewConsumerGroup([]string{brokers}, fmt.Sprintf("raw-%d", time.Now().UnixNano()), cfg)
		if err != nil {
			b.Fatal(err)
		}
		h := &countHandler{target: int64(n), done: make(chan struct{})}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			for ctx.Err() == nil {
				if err := g.Consume(ctx, []string{topic}, h); err != nil {
					return
				}
			}
		}()
		<-h.done
		cancel()
		g.Close()
		records += h.n.Load()
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

type countHandler struct {
	target int64
	n      atomic.Int64
	done   chan struct{}
	once   atomic.Bool
}

func (h *countHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *countHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *countHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		sess.MarkMessage(m, "")
		if h.n.Add(1) >= h.target && h.once.CompareAndSwap(false, true) {
			close(h.done)
		}
	}
	return nil
}

// kfakeTopic starts an in-process cluster with an 8-partition topic filled
// with events.
func kfakeTopic(b *testing.B) (string, string, int64) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(8, "bench-events"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	addrs := c.ListenAddrs()
	bytes := produceEvents(b, addrs, "bench-events", kafkaBenchRecords)
	return addrs[0], "bench-events", bytes
}

func BenchmarkKafkaFilterSetDropKfake(b *testing.B) {
	brokers, topic, bytes := kfakeTopic(b)
	runKafkaScenario(b, brokers, topic, kafkaBenchRecords, bytes)
}

func BenchmarkSaramaRawConsumeKfake(b *testing.B) {
	brokers, topic, bytes := kfakeTopic(b)
	rawConsume(b, brokers, topic, kafkaBenchRecords, bytes)
}
