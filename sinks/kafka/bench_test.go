package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/engine"
)

// benchBatch returns n telemetry-like records of about 200 bytes.
func benchBatch(n int) (engine.Batch, int) {
	recs := make([]engine.Record, n)
	size := 0
	for i := range recs {
		v := fmt.Sprintf(`{"event_id":"e-%08d","event":"kill","player_id":"p%d","match_id":%d,"region":"eu","latency_ms":%d,"ts":"2024-05-01T12:00:00Z","weapon":"rifle"}`, i, i%1000, i%97, i%300)
		recs[i] = rec(v, nil, nil, time.Unix(1714564800, 0))
		size += len(v)
	}
	return engine.Batch{Records: recs}, size
}

// BenchmarkSinkKfake writes batches of 1000 records through the sink to
// an in-process Kafka, keyed by a template. b.SetBytes counts record
// values, so MB/s / ~0.2 is thousands of records per second.
func BenchmarkSinkKfake(b *testing.B) {
	for _, writers := range []int{1, 4} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			c := newCluster(b, kfake.SeedTopics(8, "t"))
			cfg := testConfig(c, "t")
			cfg.Key = "{{ player_id }}"
			s := openSink(b, cfg)
			batch, size := benchBatch(1000)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			start := time.Now()
			writeAll(b, writers, b.N, func() error { return s.Write(context.Background(), batch) })
			b.ReportMetric(float64(b.N*len(batch.Records))/time.Since(start).Seconds(), "records/s")
		})
	}
}

// writeAll calls write n times from writers goroutines.
func writeAll(b *testing.B, writers, n int, write func() error) {
	var wg sync.WaitGroup
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	var errMu sync.Mutex
	var first error
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if err := write(); err != nil {
					errMu.Lock()
					first = errors.Join(first, err)
					errMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}

// BenchmarkProducerModes compares the sink's AsyncProducer, whose results
// are settled by one dispatcher goroutine through ProducerMessage.Metadata,
// with sarama's SyncProducer.SendMessages on the same messages, for
// batches of 500 and 5000 records from 1 and 4 concurrent writers.
func BenchmarkProducerModes(b *testing.B) {
	for _, size := range []int{500, 5000} {
		for _, writers := range []int{1, 4} {
			batch, bytes := benchBatch(size)
			b.Run(fmt.Sprintf("async/batch=%d/writers=%d", size, writers), func(b *testing.B) {
				c := newCluster(b, kfake.SeedTopics(8, "t"))
				cfg := testConfig(c, "t")
				cfg.Key = "{{ player_id }}"
				s := openSink(b, cfg)
				b.ReportAllocs()
				b.SetBytes(int64(bytes))
				b.ResetTimer()
				start := time.Now()
				writeAll(b, writers, b.N, func() error { return s.Write(context.Background(), batch) })
				b.ReportMetric(float64(b.N*size)/time.Since(start).Seconds(), "records/s")
			})
			b.Run(fmt.Sprintf("sync/batch=%d/writers=%d", size, writers), func(b *testing.B) {
				c := newCluster(b, kfake.SeedTopics(8, "t"))
				cfg := testConfig(c, "t")
				cfg.Key = "{{ player_id }}"
				s, err := New(cfg, engine.TestEnv())
				if err != nil {
					b.Fatal(err)
				}
				sc, err := cfg.saramaConfig()
				if err != nil {
					b.Fatal(err)
				}
				p, err := sarama.NewSyncProducer(cfg.Brokers, sc)
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				write := func() error {
					msgs := make([]outMsg, len(batch.Records))
					ptrs := make([]*sarama.ProducerMessage, 0, len(msgs))
					bd := builder{s: s}
					for i := range batch.Records {
						msgs[i].idx = i
						if err := bd.build(&batch.Records[i], &msgs[i]); err != nil {
							return err
						}
						ptrs = append(ptrs, &msgs[i].msg)
					}
					err := p.SendMessages(ptrs)
					var pe sarama.ProducerErrors
					if errors.As(err, &pe) {
						failed := make([]engine.RecordError, len(pe))
						for i, e := range pe {
							failed[i] = engine.RecordError{Index: e.Msg.Metadata.(*outMsg).idx, Err: classify(e.Err)}
						}
						return engine.NewBatchError(failed)
					}
					return err
				}
				b.ReportAllocs()
				b.SetBytes(int64(bytes))
				b.ResetTimer()
				start := time.Now()
				writeAll(b, writers, b.N, write)
				b.ReportMetric(float64(b.N*size)/time.Since(start).Seconds(), "records/s")
			})
		}
	}
}
