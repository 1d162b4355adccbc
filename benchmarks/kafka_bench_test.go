package main

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// kfakeFixture is a fixture whose Kafka is an in-process kfake cluster.
func kfakeFixture(b *testing.B) *fixture {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	f := benchFixture(b)
	f.brokers = c.ListenAddrs()
	return f
}

func BenchmarkKafkaFilterSetDropKfake(b *testing.B) {
	benchScenario(b, kfakeFixture(b), "kafka-filter-set-drop")
}

func BenchmarkKafkaDropKfake(b *testing.B) {
	benchScenario(b, kfakeFixture(b), "kafka-drop")
}

func BenchmarkSaramaRawConsumeKfake(b *testing.B) {
	benchScenario(b, kfakeFixture(b), "reference-sarama")
}
