//go:build integration

package benchmarks

import (
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/engine/enginetest"
)

// brokerTopic creates an 8-partition topic on the real broker and fills it.
func brokerTopic(b *testing.B) (string, string, int64) {
	brokers := enginetest.Env(b, "SLUICE_TEST_KAFKA")
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	admin, err := sarama.NewClusterAdmin([]string{brokers}, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	topic := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 8, ReplicationFactor: 1}, false); err != nil {
		b.Fatal(err)
	}
	bytes := produceEvents(b, []string{brokers}, topic, kafkaBenchRecords)
	return brokers, topic, bytes
}

func BenchmarkKafkaFilterSetDropBroker(b *testing.B) {
	brokers, topic, bytes := brokerTopic(b)
	runKafkaScenario(b, brokers, topic, kafkaBenchRecords, bytes)
}

func BenchmarkSaramaRawConsumeBroker(b *testing.B) {
	brokers, topic, bytes := brokerTopic(b)
	rawConsume(b, brokers, topic, kafkaBenchRecords, bytes)
}
