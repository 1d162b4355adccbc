package kafka

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/engine/spec"
	"github.com/sluicehq/sluice/internal/kafkaconf"
)

// Config configures the kafka sink.
type Config struct {
	kafkaconf.Config `yaml:",inline"`

	Topic           string            `yaml:"topic" spec:"required" doc:"Topic to produce to: a name, or a template rendered per record from its fields, such as 'events-{{ region }}'. A record whose topic cannot be rendered, renders to an illegal name or to a topic that does not exist (and that the brokers do not create), fails permanently (dead-lettered)."`
	Key             string            `yaml:"key" doc:"Kafka key of each record: a template such as '{{ player_id }}', or an expression such as 'to_string(match_id) + \"/\" + to_string(player_id)' (a constant key is a quoted string, '\"all\"'). Empty: the record's own key as read from the source. A record whose key cannot be computed, or is nil, fails permanently (dead-lettered)."`
	Partition       string            `yaml:"partition" doc:"Expression returning the partition number of each record, such as 'hash_mod(string(player_id), 8)'; a number outside the topic's partitions fails the record permanently. Empty: sarama's hash partitioner (FNV-1a of the key), so records with equal keys go to one partition, and records without key to random ones. Note that Java and franz-go clients hash with murmur2, so their partitions differ."`
	Headers         map[string]string `yaml:"headers" doc:"Headers added to every record, name: value; values may be templates such as '{{ region }}'. They come after the record's own headers (which always pass through, so the error headers of dead-lettered records arrive) and replace any of the same name."`
	Compression     string            `yaml:"compression" enum:"none,gzip,snappy,lz4,zstd" doc:"Compression of record batches: none, gzip, snappy, lz4 or zstd (zstd needs version 2.1.0 or later). Default snappy: cheap on CPU and typically 3-5x on JSON."`
	MaxMessageBytes spec.ByteSize     `yaml:"max_message_bytes" doc:"Largest record (key, value and headers) the sink sends; a larger one fails permanently (dead-lettered). Keep it at or below the topic's max.message.bytes; the default is the broker's default."`
	AckTimeout      time.Duration     `yaml:"ack_timeout" doc:"How long a broker may wait for the in-sync replicas to acknowledge a produce request (acks=all) before answering with a timeout."`
	Retries         int               `yaml:"retries" doc:"How many times the producer itself resends a record after a retryable error (leader moved, not enough replicas, timeout) before the write fails and the pipeline's retry policy takes over. At least 1 with idempotent."`
	RetryBackoff    time.Duration     `yaml:"retry_backoff" doc:"Wait before the producer's first resend; it doubles on each further one, up to 2s."`
	Idempotent      bool              `yaml:"idempotent" doc:"Use Kafka's idempotent producer: a resent batch is written once and per-partition order is kept. Needs version 0.11.0 or later and, on clusters with ACLs, the IdempotentWrite permission (implied by Write on a topic in recent Kafka versions). Turn off only for brokers that do not support it."`
}

// Defaults returns the sink defaults: snappy, idempotent, acks from every
// in-sync replica within 10s, up to 5 resends from 100ms.
func Defaults() Config {
	return Config{
		Config:          kafkaconf.Defaults(),
		Compression:     "snappy",
		MaxMessageBytes: 1000000,
		AckTimeout:      10 * time.Second,
		Retries:         5,
		RetryBackoff:    100 * time.Millisecond,
		Idempotent:      true,
	}
}

var compressions = map[string]sarama.CompressionCodec{
	"none":   sarama.CompressionNone,
	"gzip":   sarama.CompressionGZIP,
	"snappy": sarama.CompressionSnappy,
	"lz4":    sarama.CompressionLZ4,
	"zstd":   sarama.CompressionZSTD,
}

// Validate reports every problem at once. Templates and expressions are
// compiled by New.
func (c Config) Validate() error {
	errs := []error{c.Config.Validate()}
	switch {
	case strings.TrimSpace(c.Topic) == "":
		errs = append(errs, spec.Errorf("topic", "a topic name or template is required"))
	case !strings.Contains(c.Topic, "{{"):
		if err := checkTopic(c.Topic); err != nil {
			errs = append(errs, spec.At("topic", err))
		}
	}
	if _, ok := compressions[c.Compression]; !ok {
		errs = append(errs, spec.Errorf("compression", "expected none, gzip, snappy, lz4 or zstd, got %q", c.Compression))
	}
	if c.MaxMessageBytes < 1 {
		errs = append(errs, spec.Errorf("max_message_bytes", "expected a positive size, got %d", c.MaxMessageBytes))
	}
	if c.AckTimeout <= 0 {
		errs = append(errs, spec.Errorf("ack_timeout", "expected a positive duration, got %s", c.AckTimeout))
	}
	if c.Retries < 0 || (c.Idempotent && c.Retries < 1) {
		errs = append(errs, spec.Errorf("retries", "expected at least 1 with the idempotent producer, got %d", c.Retries))
	}
	if c.RetryBackoff < 0 {
		errs = append(errs, spec.Errorf("retry_backoff", "must not be negative, got %s", c.RetryBackoff))
	}
	for name := range c.Headers {
		if name == "" {
			errs = append(errs, spec.Errorf("headers", "empty header name"))
		}
	}
	if v, err := sarama.ParseKafkaVersion(c.Version); err == nil { // else reported by c.Config
		if c.Idempotent && !v.IsAtLeast(sarama.V0_11_0_0) {
			errs = append(errs, spec.Errorf("idempotent", "needs version 0.11.0 or later, got %s; set idempotent: false for older brokers", c.Version))
		}
		if c.Compression == "zstd" && !v.IsAtLeast(sarama.V2_1_0_0) {
			errs = append(errs, spec.Errorf("compression", "zstd needs version 2.1.0 or later, got %s", c.Version))
		}
	}
	return errors.Join(errs...)
}

// saramaConfig returns the producer configuration. It reads the TLS files.
func (c Config) saramaConfig() (*sarama.Config, error) {
	sc, err := c.Config.Sarama()
	if err != nil {
		return nil, err
	}
	// A static topic needs only its own metadata; Open fetches it, which
	// checks that the brokers answer. A templated one may name any topic:
	// the client fetches the whole cluster's metadata when it starts.
	sc.Metadata.Full = strings.Contains(c.Topic, "{{")
	sc.Producer.RequiredAcks = sarama.WaitForAll
	sc.Producer.Idempotent = c.Idempotent
	// One request in flight per broker: required by the idempotent
	// producer, and what keeps resends in order without it.
	sc.Net.MaxOpenRequests = 1
	sc.Producer.Return.Successes = true
	sc.Producer.Return.Errors = true
	sc.Producer.Timeout = c.AckTimeout
	sc.Producer.MaxMessageBytes = int(c.MaxMessageBytes)
	sc.Producer.Compression = compressions[c.Compression]
	sc.Producer.Retry.Max = c.Retries
	base := c.RetryBackoff
	sc.Producer.Retry.BackoffFunc = func(retries, _ int) time.Duration {
		d := base
		for i := 1; i < retries && d < maxRetryBackoff; i++ {
			d *= 2
		}
		return min(d, maxRetryBackoff)
	}
	if c.Partition != "" {
		sc.Producer.Partitioner = sarama.NewManualPartitioner
	} else {
		sc.Producer.Partitioner = sarama.NewHashPartitioner
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("producer config: %w", err)
	}
	return sc, nil
}

const maxRetryBackoff = 2 * time.Second
