// Package kafka is a sink that produces records to Kafka with sarama's
// idempotent producer: to chain pipelines (one pipeline's output is the
// next one's source), to fan records out to topics by a field, and as the
// dead-letter sink of a pipeline.
//
// Each record becomes one Kafka record: its value is the record encoded
// with the pipeline's codec (the bytes as read, unless a transform changed
// the record), its timestamp is the record's time (in milliseconds; the
// produce time for a record without one), and its headers are the record's
// own headers, sorted by name, then the configured ones. The key is the record's
// own key unless key computes one from the record's fields, and the
// partition is the hash of the key (equal keys, one partition) unless
// partition computes one. The topic may be a template, such as
// 'events-{{ region }}'; a topic without {{ }} costs nothing per record.
//
// Write returns nil only once the brokers have acknowledged every record of
// the batch with acks=all. The producer is idempotent (one producer ID per
// sink, one request in flight per broker), so its own resends after a
// timeout or a leader change neither duplicate nor reorder records within a
// partition. A record that cannot be produced as it is (its key or topic
// cannot be computed, it is larger than max_message_bytes, the topic name
// is illegal) fails permanently and goes to the pipeline's dead-letter
// sink; cluster trouble (no leader, not enough replicas, timeouts, lost
// connections) fails the batch's records retryably, and the pipeline
// retries them.
//
// It is not transactional and not exactly-once: idempotence holds within
// one producer session only. A batch that the pipeline writes again (after
// a failed or cancelled Write, or after a restart that replays the source)
// is produced again, so a consumer of the topic sees at least once and must
// tolerate duplicates, for instance by keying on a record ID. It does not
// create topics; the brokers do, if auto.create.topics.enable is on, and
// otherwise Open fails when a topic without {{ }} does not exist, and a
// record that a template routes to a missing topic fails permanently. Its default hash
// partitioner is sarama's FNV-1a, not the murmur2 of the Java client:
// records keyed alike by both land on different partitions.
//
// Chaining pipelines, keyed by player, one topic per region:
//
//	sinks:
//	  enriched:
//	    kafka:
//	      brokers: ["${KAFKA_BROKERS:-localhost:9092}"]
//	      topic: 'game-events-enriched-{{ lower(region) }}'
//	      key: '{{ player_id }}'
//	      headers: {producer: sluice, region: '{{ region }}'}
//	      compression: zstd
//	    batch: {count: 5000, bytes: 4MiB, period: 200ms}
//
// Explicit partitions, so that a downstream consumer of partition i sees
// every event of the players hashing to i:
//
//	kafka: {brokers: [kafka:9092], topic: matches, key: 'string(match_id)', partition: 'hash_mod(string(player_id), 8)'}
//
// As the dead-letter sink: records that failed permanently arrive with
// their value and key as read and the runtime's headers sluice_error,
// sluice_component, sluice_source_position, sluice_pipeline and
// sluice_failed_at as Kafka headers. The values are not decoded, so broken
// input is dead-lettered as it came.
//
//	dead_letter:
//	  kafka: {brokers: ["${KAFKA_BROKERS:-localhost:9092}"], topic: game-events-dlq}
package kafka
