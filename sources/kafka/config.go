package kafka

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/sluicehq/sluice/engine/spec"
	"github.com/sluicehq/sluice/internal/kafkaconf"
)

// Config configures the kafka source.
type Config struct {
	kafkaconf.Config `yaml:",inline"`

	Topics                []string      `yaml:"topics" doc:"Topics to consume. Set this or topics_regex."`
	TopicsRegex           string        `yaml:"topics_regex" doc:"Consume every topic whose whole name matches this RE2 regular expression (internal topics, whose names start with __, excluded). Set this or topics."`
	TopicsRefreshInterval time.Duration `yaml:"topics_refresh_interval" doc:"How often to look for topics that start or stop matching topics_regex; the group is re-joined when the set changes."`
	Group                 string        `yaml:"group" spec:"required" doc:"Consumer group ID; offsets are committed to it, and instances with the same group share the partitions."`
	Start                 string        `yaml:"start" enum:"earliest,latest" doc:"Where a partition with no committed offset starts: earliest (the oldest record kept) or latest (only records produced from now on)."`

	BatchSize   int           `yaml:"batch_size" doc:"Most records in a batch. A batch holds records of one partition, in offset order."`
	BatchLinger time.Duration `yaml:"batch_linger" doc:"Longest time a batch waits for more records after its first before it is handed on short of batch_size."`
	MaxPending  int           `yaml:"max_pending" doc:"Most batches of one partition read and not yet acknowledged; reading that partition waits at the bound."`

	FetchMinBytes       spec.ByteSize `yaml:"fetch_min_bytes" doc:"Least data a broker gathers before answering a fetch, unless max_wait passes first (Kafka's fetch.min.bytes)."`
	FetchMaxBytes       spec.ByteSize `yaml:"fetch_max_bytes" doc:"Most data a broker returns for one fetch, across its partitions (Kafka's fetch.max.bytes). A single record batch larger than this still comes through."`
	FetchPartitionBytes spec.ByteSize `yaml:"fetch_partition_bytes" doc:"Most data a broker returns for one partition in a fetch (Kafka's max.partition.fetch.bytes). The default, 256KiB, keeps the memory of fetched records small; raise it over slow links. A single record batch larger than this still comes through."`
	MaxWait             time.Duration `yaml:"max_wait" doc:"Longest time a broker holds a fetch waiting for fetch_min_bytes (Kafka's fetch.max.wait.ms). Leaving the group, at a rebalance or on close, waits for the fetch the broker holds, so the default, 100ms, keeps that wait short; a longer one sends fewer fetches while the topics are idle."`

	CommitInterval         time.Duration `yaml:"commit_interval" doc:"How often the acknowledged offsets are committed to the group. Offsets are also committed when a partition is revoked and on close."`
	RebalanceTimeout       time.Duration `yaml:"rebalance_timeout" doc:"Longest time the group waits for every member to re-join during a rebalance (Kafka's rebalance.timeout.ms)."`
	RebalanceSettleTimeout time.Duration `yaml:"rebalance_settle_timeout" doc:"Longest time a revoked partition waits for its batches in flight to be acknowledged before its last commit; must be below rebalance_timeout. Batches still in flight then are read again by the partition's next owner."`

	LagTarget int64 `yaml:"lag_target" doc:"Lag, in records, that one replica is expected to handle; sluice_kafka_desired_replicas is this instance's lag divided by it, rounded up, at least 1."`
}

// Defaults returns the default config: read from the earliest offset, 500
// records or 100ms per batch, commit every second.
func Defaults() Config {
	return Config{
		Config:                 kafkaconf.Defaults(),
		TopicsRefreshInterval:  30 * time.Second,
		Start:                  "earliest",
		BatchSize:              500,
		BatchLinger:            100 * time.Millisecond,
		MaxPending:             8,
		FetchMinBytes:          1,
		FetchMaxBytes:          50 << 20,
		FetchPartitionBytes:    256 << 10,
		MaxWait:                100 * time.Millisecond,
		CommitInterval:         time.Second,
		RebalanceTimeout:       60 * time.Second,
		RebalanceSettleTimeout: 10 * time.Second,
		LagTarget:              100000,
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	errs := []error{c.Config.Validate()}
	switch {
	case len(c.Topics) == 0 && c.TopicsRegex == "":
		errs = append(errs, spec.Errorf("topics", "set topics or topics_regex"))
	case len(c.Topics) > 0 && c.TopicsRegex != "":
		errs = append(errs, spec.Errorf("topics_regex", "set either topics or topics_regex, not both"))
	}
	for i, t := range c.Topics {
		if t == "" {
			errs = append(errs, spec.Errorf(fmt.Sprintf("topics[%d]", i), "empty topic name"))
		}
	}
	if c.TopicsRegex != "" {
		if _, err := regexp.Compile(c.TopicsRegex); err != nil {
			errs = append(errs, spec.At("topics_regex", err))
		}
	}
	if c.TopicsRefreshInterval <= 0 {
		errs = append(errs, spec.Errorf("topics_refresh_interval", "expected a positive duration, got %s", c.TopicsRefreshInterval))
	}
	if c.Group == "" {
		errs = append(errs, spec.Errorf("group", "must be set"))
	}
	if c.Start != "earliest" && c.Start != "latest" {
		errs = append(errs, spec.Errorf("start", "expected earliest or latest, got %q", c.Start))
	}
	if c.BatchSize < 1 {
		errs = append(errs, spec.Errorf("batch_size", "expected at least 1, got %d", c.BatchSize))
	}
	if c.BatchLinger <= 0 {
		errs = append(errs, spec.Errorf("batch_linger", "expected a positive duration, got %s", c.BatchLinger))
	}
	if c.MaxPending < 1 {
		errs = append(errs, spec.Errorf("max_pending", "expected at least 1, got %d", c.MaxPending))
	}
	if c.FetchMinBytes < 1 {
		errs = append(errs, spec.Errorf("fetch_min_bytes", "expected at least 1B, got %s", c.FetchMinBytes))
	}
	switch {
	case c.FetchMaxBytes < c.FetchMinBytes:
		errs = append(errs, spec.Errorf("fetch_max_bytes", "expected at least fetch_min_bytes (%s), got %s", c.FetchMinBytes, c.FetchMaxBytes))
	case c.FetchMaxBytes > math.MaxInt32:
		errs = append(errs, spec.Errorf("fetch_max_bytes", "expected at most %d bytes, got %s", math.MaxInt32, c.FetchMaxBytes))
	}
	switch {
	case c.FetchPartitionBytes < 1:
		errs = append(errs, spec.Errorf("fetch_partition_bytes", "expected at least 1B, got %s", c.FetchPartitionBytes))
	case c.FetchPartitionBytes > math.MaxInt32:
		errs = append(errs, spec.Errorf("fetch_partition_bytes", "expected at most %d bytes, got %s", math.MaxInt32, c.FetchPartitionBytes))
	}
	if c.MaxWait < time.Millisecond {
		errs = append(errs, spec.Errorf("max_wait", "expected at least 1ms, got %s", c.MaxWait))
	}
	if c.CommitInterval <= 0 {
		errs = append(errs, spec.Errorf("commit_interval", "expected a positive duration, got %s", c.CommitInterval))
	}
	if c.RebalanceTimeout < time.Millisecond {
		errs = append(errs, spec.Errorf("rebalance_timeout", "expected at least 1ms, got %s", c.RebalanceTimeout))
	}
	if c.RebalanceSettleTimeout <= 0 || c.RebalanceSettleTimeout >= c.RebalanceTimeout {
		errs = append(errs, spec.Errorf("rebalance_settle_timeout", "expected a positive duration below rebalance_timeout (%s), got %s", c.RebalanceTimeout, c.RebalanceSettleTimeout))
	}
	if c.LagTarget < 1 {
		errs = append(errs, spec.Errorf("lag_target", "expected at least 1, got %d", c.LagTarget))
	}
	return errors.Join(errs...)
}
