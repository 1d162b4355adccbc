//go:build integration && unix

package kafka

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/enginetest"
)

// benchTopic fills a new 8-partition topic of the broker with n records of
// a 250-byte value each, spread round robin and compressed as kgo does by
// default (snappy), like the benchmark scenarios' topic, and returns its
// name and the brokers.
func benchTopic(b *testing.B, n int) ([]string, string) {
	addrs := strings.Split(enginetest.Env(b, "SLUICE_TEST_KAFKA"), ",")
	topic := fmt.Sprintf("sluice-source-bench-%d", time.Now().UnixNano())
	adm := admin(b, addrs)
	b.Cleanup(func() {
		_ = adm.DeleteTopic(topic)
		_ = adm.Close()
	})
	if err := adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 8, ReplicationFactor: 1}, false); err != nil {
		b.Fatalf("create topic: %v", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ProducerLinger(5*time.Millisecond),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	var failed atomic.Pointer[error]
	for i := range n {
		v := fmt.Appendf(nil, `{"event_id":"e%010d","event":"kill","ts":"2026-11-24T00:00:00.000Z","player_id":%d,"match_id":%d,"region":"eu-west","platform":"pc","latency_ms":%d.5,"score":%d,"level":%d}`,
			i, i%100000, i/1000, i%300, i%5000, i%60)
		v = append(v, strings.Repeat(" ", max(0, 250-len(v)))...)
		cl.Produce(context.Background(), &kgo.Record{Topic: topic, Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
	}
	if err := cl.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	if e := failed.Load(); e != nil {
		b.Fatalf("produce: %v", *e)
	}
	return addrs, topic
}

// cpuTime returns the user and system CPU time of the process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// brokerCPU returns the CPU time the broker process has used, when
// SLUICE_TEST_KAFKA_PID names it (.ci/lib/kafka.sh exports it), and false
// otherwise.
func brokerCPU() (time.Duration, bool) {
	pid := os.Getenv("SLUICE_TEST_KAFKA_PID")
	if pid == "" {
		return 0, false
	}
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	// The fields after the command name, which is in parentheses: utime
	// and stime are the 12th and 13th, in clock ticks (100 a second).
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, true
}

// phases are the times of one read of a whole topic: the first and the
// last record arrived, with the process's CPU time then.
type phases struct {
	first, last       time.Time
	firstCPU, lastCPU time.Duration
}

func (p *phases) markFirst() { p.first, p.firstCPU = time.Now(), cpuTime() }
func (p *phases) markLast()  { p.last, p.lastCPU = time.Now(), cpuTime() }

// consumeRun reads a whole topic of n records as a new consumer group,
// from connecting to leaving the group, marking the first and the last
// record in p.
type consumeRun func(b *testing.B, addrs []string, topic, group string, n int, p *phases)

// benchConsume runs consume b.N times, each with a new group (one op, and
// its 250-byte values), and reports:
//   - records/s: records per second of the whole run, connecting,
//     joining and leaving included, as the benchmark harness counts;
//   - read-records/s and read-cpu-ns/record: records per second and CPU
//     time of the process per record from the first record to the last,
//     the hot path alone;
//   - first-ms and close-ms: the time to the first record and from the
//     last one to the end, per run;
//   - allocs/record and broker-cpu-ns/record (the broker's CPU time,
//     where SLUICE_TEST_KAFKA_PID names its process) over whole runs.
func benchConsume(b *testing.B, n int, consume consumeRun) {
	addrs, topic := benchTopic(b, n)
	var m0, m1 runtime.MemStats
	var wall, read, readCPU, first, closing, broker time.Duration
	_, withBroker := brokerCPU()
	var mallocs uint64
	b.SetBytes(int64(n) * 250)
	b.ResetTimer()
	for i := range b.N {
		group := fmt.Sprintf("%s-%d", topic, i)
		runtime.ReadMemStats(&m0)
		b0, _ := brokerCPU()
		start := time.Now()
		var p phases
		consume(b, addrs, topic, group, n, &p)
		end := time.Now()
		b1, _ := brokerCPU()
		runtime.ReadMemStats(&m1)
		wall += end.Sub(start)
		read += p.last.Sub(p.first)
		readCPU += p.lastCPU - p.firstCPU
		first += p.first.Sub(start)
		closing += end.Sub(p.last)
		broker += b1 - b0
		mallocs += m1.Mallocs - m0.Mallocs
	}
	b.StopTimer()
	recs := float64(b.N * n)
	b.ReportMetric(recs/wall.Seconds(), "records/s")
	b.ReportMetric(recs/read.Seconds(), "read-records/s")
	b.ReportMetric(float64(readCPU.Nanoseconds())/recs, "read-cpu-ns/record")
	b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "first-ms")
	b.ReportMetric(float64(closing.Milliseconds())/float64(b.N), "close-ms")
	b.ReportMetric(float64(mallocs)/recs, "allocs/record")
	if withBroker {
		b.ReportMetric(float64(broker.Nanoseconds())/recs, "broker-cpu-ns/record")
	}
}

// BenchmarkIntegrationConsume reads a topic of 500 000 records of 250
// bytes in 8 partitions of the broker, one op per whole topic, through
// the source with its default settings and batches of 1000
// (acknowledging each batch as it is read, from another goroutine, as the
// engine does) and, for reference, through a bare sarama consumer group
// with the same sarama settings that only counts the messages, and through
// a bare franz-go (kgo) consumer group with the same fetch settings, to
// show what the Kafka client itself costs.
func BenchmarkIntegrationConsume(b *testing.B) {
	const n = 500_000
	config := func(addrs []string, topic, group string) Config {
		c := Defaults()
		c.Brokers, c.Topics, c.Group = addrs, []string{topic}, group
		c.BatchSize = 1000
		return c
	}
	b.Run("source", func(b *testing.B) {
		benchConsume(b, n, func(b *testing.B, addrs []string, topic, group string, n int, p *phases) {
			s := openSource(b, config(addrs, topic, group), engine.TestEnv())
			acks := make(chan engine.Ack, 64)
			acked := make(chan struct{})
			go func() {
				defer close(acked)
				for ack := range acks {
					ack(context.Background(), nil)
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for got := 0; got < n; {
				batch, ack, err := s.Read(ctx)
				if err != nil {
					b.Fatalf("Read after %d of %d records: %v", got, n, err)
				}
				if got == 0 {
					p.markFirst()
				}
				got += batch.Len()
				acks <- ack
			}
			p.markLast()
			close(acks)
			<-acked
			closeSource(b, s)
		})
	})
	b.Run("sarama", func(b *testing.B) {
		benchConsume(b, n, func(b *testing.B, addrs []string, topic, group string, n int, p *phases) {
			sc, err := config(addrs, topic, group).SaramaConfig()
			if err != nil {
				b.Fatal(err)
			}
			g, err := sarama.NewConsumerGroup(addrs, group, sc)
			if err != nil {
				b.Fatal(err)
			}
			h := &countingHandler{target: int64(n), p: p, done: make(chan struct{})}
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				for ctx.Err() == nil {
					_ = g.Consume(ctx, []string{topic}, h)
				}
			}()
			select {
			case <-h.done:
			case <-time.After(time.Minute):
				b.Fatalf("read %d of %d records in a minute", h.n.Load(), n)
			}
			cancel()
			if err := g.Close(); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("franz-go", func(b *testing.B) {
		benchConsume(b, n, func(b *testing.B, addrs []string, topic, group string, n int, p *phases) {
			c := config(addrs, topic, group)
			cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(c.MaxWait),
				kgo.FetchMaxBytes(int32(c.FetchMaxBytes)), kgo.FetchMaxPartitionBytes(int32(c.FetchPartitionBytes)))
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close() // commits and leaves the group
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for got := 0; got < n; {
				fs := cl.PollFetches(ctx)
				if err := fs.Err0(); err != nil {
					b.Fatal(err)
				}
				if got == 0 && !fs.Empty() {
					p.markFirst()
				}
				got += fs.NumRecords()
			}
			p.markLast()
		})
	})
}

// countingHandler counts messages, marking each, until target.
type countingHandler struct {
	target int64
	n      atomic.Int64
	p      *phases
	done   chan struct{}
}

func (h *countingHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *countingHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *countingHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		sess.MarkMessage(m, "")
		switch n := h.n.Add(1); {
		case n == 1:
			h.p.markFirst()
		case n == h.target:
			h.p.markLast()
			close(h.done)
		}
	}
	return nil
}
