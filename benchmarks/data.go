package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/sources/generate"
	"github.com/sluicehq/sluice/sources/kafka"
)

// The input data of every scenario is the same stream of synthetic
// game-telemetry events (≈250-byte JSON objects from the generate source,
// seed 1), one every 100ms of event time from eventsStart, so that 1M
// events span two days and a file scenario and a Kafka one process the very
// same records.
const eventsStart = "2026-11-24T00:00:00Z"

// eventsConfig is the generate config of the first n benchmark events.
func eventsConfig(n int64) generate.Config {
	c := generate.Defaults()
	c.Count, c.BatchSize, c.Start, c.Step = n, 5000, eventsStart, 100*time.Millisecond
	return c
}

// generateEvents calls emit with the values of the n benchmark events, a
// batch at a time. The values are only valid during the call.
func generateEvents(ctx context.Context, n int64, emit func(values [][]byte) error) error {
	src, err := generate.New(eventsConfig(n), engine.TestEnv())
	if err != nil {
		return err
	}
	if err := src.Open(ctx); err != nil {
		return err
	}
	defer src.Close(ctx)
	var values [][]byte
	for {
		b, _, err := src.Read(ctx)
		if errors.Is(err, engine.ErrEndOfInput) {
			return nil
		}
		if err != nil {
			return err
		}
		values = values[:0]
		for _, r := range b.Records {
			values = append(values, r.Value)
		}
		if err := emit(values); err != nil {
			return err
		}
	}
}

// writeJSONL writes the n benchmark events to path, one JSON object a line,
// creating its directory, and returns the file's size in bytes.
func writeJSONL(ctx context.Context, path string, n int64) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var size int64
	err = generateEvents(ctx, n, func(values [][]byte) error {
		for _, v := range values {
			w.Write(v)
			w.WriteByte('\n')
			size += int64(len(v)) + 1
		}
		return nil
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return size, nil
}

// saramaConfig is the client config of the helpers that talk to a broker
// with sarama.
func saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	return cfg
}

// createTopic creates topic with the given partitions on a one-broker
// cluster.
func createTopic(brokers []string, topic string, partitions int32) error {
	admin, err := sarama.NewClusterAdmin(brokers, saramaConfig())
	if err != nil {
		return fmt.Errorf("connect to %v: %w", brokers, err)
	}
	defer admin.Close()
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false); err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// deleteTopic deletes topic.
func deleteTopic(brokers []string, topic string) error {
	admin, err := sarama.NewClusterAdmin(brokers, saramaConfig())
	if err != nil {
		return fmt.Errorf("connect to %v: %w", brokers, err)
	}
	defer admin.Close()
	if err := admin.DeleteTopic(topic); err != nil {
		return fmt.Errorf("delete topic %s: %w", topic, err)
	}
	return nil
}

// produceEvents fills topic with the n benchmark events (no keys), spread
// evenly over its partitions, and returns the bytes of their values.
func produceEvents(ctx context.Context, brokers []string, topic string, n int64) (int64, error) {
	// Round robin: every partition holds the same number of events, so
	// that runs do not depend on how a sticky partitioner spread them.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ProducerLinger(5*time.Millisecond), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.AllowAutoTopicCreation())
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	var size int64
	var failed atomic.Pointer[error]
	err = generateEvents(ctx, n, func(values [][]byte) error {
		for _, v := range values {
			size += int64(len(v))
			// kgo keeps the value until the record is acknowledged.
			rec := &kgo.Record{Topic: topic, Value: append([]byte(nil), v...)}
			cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			})
		}
		if e := failed.Load(); e != nil {
			return *e
		}
		return nil
	})
	if ferr := cl.Flush(ctx); err == nil {
		err = ferr
	}
	if e := failed.Load(); err == nil && e != nil {
		err = *e
	}
	if err != nil {
		return 0, fmt.Errorf("produce to %s: %w", topic, err)
	}
	return size, nil
}

// saramaConsume reads n records of topic with a bare sarama consumer group
// and no processing, the reference point of the Kafka source, and returns
// the records and the bytes of their keys and values. It reads with the
// sarama settings of the Kafka source's defaults (fetch sizes, max_wait),
// so that the two differ only in what they do with the messages.
func saramaConsume(ctx context.Context, brokers []string, topic, group string, n int64) (records, bytes int64, err error) {
	kc := kafka.Defaults()
	kc.Brokers, kc.Topics, kc.Group = brokers, []string{topic}, group
	cfg, err := kc.SaramaConfig()
	if err != nil {
		return 0, 0, err
	}
	g, err := sarama.NewConsumerGroup(brokers, group, cfg)
	if err != nil {
		return 0, 0, fmt.Errorf("consumer group %s: %w", group, err)
	}
	h := &countHandler{target: n, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, h); err != nil && ctx.Err() == nil {
				errc <- err
				return
			}
		}
	}()
	select {
	case <-h.done:
	case err = <-errc:
	case <-ctx.Done():
		err = ctx.Err()
	}
	cancel()
	if cerr := g.Close(); err == nil {
		err = cerr
	}
	return h.n.Load(), h.bytes.Load(), err
}

// countHandler counts messages until target, then closes done.
type countHandler struct {
	target   int64
	n, bytes atomic.Int64
	done     chan struct{}
	once     atomic.Bool
}

func (h *countHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *countHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *countHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		sess.MarkMessage(m, "")
		h.bytes.Add(int64(len(m.Key) + len(m.Value)))
		if h.n.Add(1) >= h.target && h.once.CompareAndSwap(false, true) {
			close(h.done)
		}
	}
	return nil
}
