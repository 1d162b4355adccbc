//go:build integration

package main

import (
	"testing"

	"github.com/sluicehq/sluice/engine/enginetest"
)

// The servers come from .ci/run or .ci/bench: SLUICE_TEST_KAFKA,
// SLUICE_TEST_S3_URL and SLUICE_TEST_MYSQL.

func BenchmarkKafkaFilterSetDropBroker(b *testing.B) {
	enginetest.Env(b, envKafka)
	benchScenario(b, benchFixture(b), "kafka-filter-set-drop")
}

func BenchmarkKafkaDropBroker(b *testing.B) {
	enginetest.Env(b, envKafka)
	benchScenario(b, benchFixture(b), "kafka-drop")
}

func BenchmarkSaramaRawConsumeBroker(b *testing.B) {
	enginetest.Env(b, envKafka)
	benchScenario(b, benchFixture(b), "reference-sarama")
}

func BenchmarkKafkaToParquetS3Broker(b *testing.B) {
	enginetest.Env(b, envKafka)
	enginetest.Env(b, envS3URL)
	useS3Credentials()
	benchScenario(b, benchFixture(b), "kafka-to-parquet-s3")
}

func BenchmarkKafkaToMariaDBBroker(b *testing.B) {
	enginetest.Env(b, envKafka)
	enginetest.Env(b, envMySQL)
	benchScenario(b, benchFixture(b), "kafka-to-mariadb")
}
