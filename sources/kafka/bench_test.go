package kafka

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/engine"
)

// BenchmarkSourceKfake measures how fast the source hands over records that
// are already in kfake, acknowledging every batch. One op is one record of
// an 8-byte key and a 200-byte value, spread over 4 partitions; producing,
// joining the group and leaving it are not timed.
func BenchmarkSourceKfake(b *testing.B) {
	const valueSize = 200
	addrs := newCluster(b, 4, "bench")
	value := make([]byte, valueSize)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	recs := make([]*kgo.Record, b.N)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: "bench", Key: fmt.Appendf(nil, "%08d", i), Value: value}
	}
	produce(b, addrs, recs...)
	s := openSource(b, testConfig(addrs, "bench", "bench"), engine.TestEnv())

	b.SetBytes(8 + valueSize)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; {
		batch, ack, err := s.Read(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		n += batch.Len()
		ack(context.Background(), nil)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	closeSource(b, s)
}

// BenchmarkPartitionRead measures what the source does per message
// without Kafka: converting sarama's messages of one partition into
// records, cutting them into batches of 1000 and handing those to Read.
// One op is one message of a 250-byte value, sent on a channel as
// sarama's partition consumer does; Read acknowledges each batch.
func BenchmarkPartitionRead(b *testing.B) {
	const valueSize = 250
	c := testConfig([]string{"localhost:9092"}, "bench", "bench")
	c.BatchSize = 1000
	c.BatchLinger = time.Millisecond // flushes the last, short batch
	s, err := New(c, engine.TestEnv())
	if err != nil {
		b.Fatal(err)
	}
	value := make([]byte, valueSize)
	ts := time.UnixMilli(1_760_000_000_000)
	pool := make([]*sarama.ConsumerMessage, 4096)
	for i := range pool {
		pool[i] = &sarama.ConsumerMessage{Topic: "bench", Value: value, Offset: int64(i), Timestamp: ts}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	claim := &fakeClaim{topic: "bench", msgs: make(chan *sarama.ConsumerMessage, 256)}
	p := newPartition(s, &fakeSession{ctx: ctx}, claim)
	go p.read(ctx, claim.msgs)

	b.SetBytes(valueSize)
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		for i := range b.N {
			claim.msgs <- pool[i%len(pool)]
		}
	}()
	for n := 0; n < b.N; {
		batch, ack, err := s.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		n += batch.Len()
		ack(ctx, nil)
	}
}

// fakeSession is a sarama.ConsumerGroupSession that keeps the offset
// marked last.
type fakeSession struct {
	ctx    context.Context
	marked atomic.Int64
}

func (f *fakeSession) Claims() map[string][]int32 { return nil }
func (f *fakeSession) MemberID() string           { return "fake" }
func (f *fakeSession) GenerationID() int32        { return 1 }
func (f *fakeSession) MarkOffset(_ string, _ int32, offset int64, _ string) {
	f.marked.Store(offset)
}
func (f *fakeSession) Commit()                                         {}
func (f *fakeSession) ResetOffset(string, int32, int64, string)        {}
func (f *fakeSession) MarkMessage(m *sarama.ConsumerMessage, _ string) { f.marked.Store(m.Offset + 1) }
func (f *fakeSession) Context() context.Context                        { return f.ctx }

// fakeClaim is a sarama.ConsumerGroupClaim of partition 0 of topic from
// offset 0 whose messages come from msgs.
type fakeClaim struct {
	topic string
	msgs  chan *sarama.ConsumerMessage
}

func (f *fakeClaim) Topic() string                            { return f.topic }
func (f *fakeClaim) Partition() int32                         { return 0 }
func (f *fakeClaim) InitialOffset() int64                     { return 0 }
func (f *fakeClaim) HighWaterMarkOffset() int64               { return 0 }
func (f *fakeClaim) Messages() <-chan *sarama.ConsumerMessage { return f.msgs }
