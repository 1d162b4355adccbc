package kafka

import (
	"context"
	"fmt"
	"testing"

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
