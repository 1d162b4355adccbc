//go:build integration

package kafka

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/enginetest"
)

// TestIntegrationExactlyOnceRead consumes 100 000 records from 8 partitions
// of a real broker, acknowledging every batch, and checks that each record
// arrives once and that the group's committed offsets reach the end of
// every partition.
func TestIntegrationExactlyOnceRead(t *testing.T) {
	addrs := strings.Split(enginetest.Env(t, "SLUICE_TEST_KAFKA"), ",")
	const (
		partitions = 8
		n          = 100_000
	)
	topic := fmt.Sprintf("sluice-source-it-%d", time.Now().UnixNano())
	group := topic

	adm := admin(t, addrs)
	t.Cleanup(func() {
		_ = adm.DeleteConsumerGroup(group)
		_ = adm.DeleteTopic(topic)
		_ = adm.Close()
	})
	if err := adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false); err != nil {
		t.Fatalf("create topic: %v", err)
	}

	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: fmt.Appendf(nil, `{"i":%d}`, i)}
	}
	produce(t, addrs, recs...)

	c := testConfig(addrs, group, topic)
	c.BatchSize = 1000
	s := openSource(t, c, engine.TestEnv())
	seen := make(map[string]bool, n)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	for len(seen) < n {
		b, ack, err := s.Read(ctx)
		if err != nil {
			t.Fatalf("Read after %d of %d records: %v", len(seen), n, err)
		}
		checkBatch(t, b)
		for _, r := range b.Records {
			if seen[string(r.Value)] {
				t.Fatalf("%s (%v) arrived twice", r.Value, r.Source)
			}
			seen[string(r.Value)] = true
		}
		ack(ctx, nil)
	}
	closeSource(t, s)

	for _, r := range recs {
		if !seen[string(r.Value)] {
			t.Fatalf("%s never arrived", r.Value)
		}
	}
	if got, want := committed(t, addrs, group, topic, partitions), endOffsets(t, addrs, topic, partitions); !slices.Equal(got, want) {
		t.Fatalf("committed %v, want the end offsets %v", got, want)
	}
}

// TestIntegrationConformance runs the source suite against the broker.
func TestIntegrationConformance(t *testing.T) {
	addrs := strings.Split(enginetest.Env(t, "SLUICE_TEST_KAFKA"), ",")
	adm := admin(t, addrs)
	defer adm.Close()
	enginetest.SourceSuite(t, conformanceHarness(addrs, func(t *testing.T, topic string) {
		if err := adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1}, false); err != nil {
			t.Fatalf("create topic: %v", err)
		}
		t.Cleanup(func() {
			_ = adm.DeleteConsumerGroup(topic)
			_ = adm.DeleteTopic(topic)
		})
	}))
}
