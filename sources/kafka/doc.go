// Package kafka is a source that consumes Kafka topics as a member of a
// consumer group, with sarama.
//
// Instances of a pipeline that share a group share the partitions of its
// topics: a list of topics, or every topic whose name matches topics_regex
// (looked up when the source opens and every topics_refresh_interval; the
// group is joined again when the matching set changes). A partition with no
// committed offset starts at start: earliest or latest.
//
// Each partition is read by a goroutine of its own that cuts its records
// into batches of up to batch_size records, or what arrived within
// batch_linger of a batch's first record, and hands them to Read one at a
// time; a batch holds records of one partition, in offset order. A record
// keeps the Kafka key, value and headers (a header that occurs twice keeps
// its last value), its timestamp as Time (the read time when it has none),
// and its position as Source: Stream "topic/partition", Offset the Kafka
// offset.
//
// # Commits
//
// Each claimed partition tracks its batches, in read order, with a
// checkpoint.Tracker of at most max_pending batches; reading the partition
// waits at that bound. Only the end of the longest run of acknowledged
// batches from the start is marked for commit, so no offset is ever
// committed past a record the pipeline has not acknowledged. A batch
// acknowledged with an error stops the partition's commits before its first
// record for good: the pipeline is stopping, and the next owner of the
// partition reads the batch again. Marked offsets are committed every
// commit_interval, when a partition is revoked and on Close.
//
// # Rebalances
//
// When the group takes partitions away (a rebalance, another instance
// joining, Close), each of them stops handing batches to Read (a batch Read
// has not taken is dropped, to be read again by the next owner), waits up
// to rebalance_settle_timeout for its batches in flight to be acknowledged,
// marks and commits, and only then lets sarama release the partition.
// rebalance_settle_timeout must stay below rebalance_timeout, or the
// group would drop this member while it settles. sarama lets a partition
// go only once the fetch the broker holds for it has returned, which on
// an idle partition takes max_wait (100ms by default).
//
// # Metrics
//
// sluice_kafka_consumer_lag is the number of records in this instance's
// partitions not yet handed to Read: the high-water mark as of the last
// fetch minus the next offset, summed over the partitions (a partition with
// no committed offset counts from its first batch). It is refreshed with
// every batch and every 5s. sluice_kafka_desired_replicas is ceil(that lag
// / lag_target), at least 1: an estimate from this instance's share of the
// lag only, not of the whole group's, so fleet autoscaling (KEDA) should
// act on the lag summed over instances. sluice_kafka_partitions_assigned
// and sluice_kafka_rebalances_total follow the group's assignments.
//
// It is not a producer: sinks/kafka writes to Kafka. It rebalances eagerly
// (sarama's range strategy: at each rebalance every member gives up all its
// partitions and gets its new share), and it reads with read_uncommitted
// isolation, so records of aborted transactions are delivered too.
//
//	source:
//	  kafka:
//	    brokers: ["${KAFKA_BROKERS:-localhost:9092}"]
//	    topics: [game-events]
//	    group: sluice-game-telemetry
//	    start: earliest
//	    batch_size: 1000
//	    commit_interval: 1s
package kafka
