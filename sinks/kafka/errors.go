package kafka

import (
	"errors"
	"fmt"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/engine"
)

// ErrClosed is returned by Write after Close, and before Open.
var ErrClosed = fmt.Errorf("kafka sink is not open: %w", engine.ErrNotConnected)

// classify marks the producer errors that a resend cannot fix as
// permanent: the record itself is wrong for the topic (too large, illegal
// topic, a partition the topic does not have, rejected by a broker policy
// or timestamp rule). Everything else (leader not available, not enough
// replicas, timeouts, lost connections, authorization) is left retryable:
// it is a state of the cluster that may pass or that an operator fixes,
// and dead-lettering every record meanwhile would be worse than waiting.
func classify(err error) error {
	var ke sarama.KError
	if errors.As(err, &ke) {
		switch ke {
		case sarama.ErrMessageSizeTooLarge, sarama.ErrMessageSetSizeTooLarge,
			sarama.ErrInvalidTopic, sarama.ErrInvalidRecord, sarama.ErrInvalidTimestamp,
			sarama.ErrPolicyViolation:
			return engine.Permanent(err)
		case sarama.ErrInvalidMessage:
			// CORRUPT_MESSAGE that outlived the producer's resends is not a
			// bit flip in transit but a record the topic refuses, such as
			// one without key on a compacted topic (older brokers).
			return engine.Permanent(err)
		}
		return err
	}
	var ce sarama.ConfigurationError
	if errors.As(err, &ce) {
		// The producer rejects a record larger than max_message_bytes (or
		// headers on a pre-0.11 version) before sending it.
		return engine.Permanent(err)
	}
	if errors.Is(err, sarama.ErrInvalidPartition) {
		return engine.Permanent(err)
	}
	return err
}

// checkTopic reports whether name is a legal Kafka topic name: 1 to 249
// characters of ASCII letters, digits, '.', '_' and '-', and not "." or "..".
func checkTopic(name string) error {
	switch {
	case name == "":
		return errors.New("empty topic name")
	case len(name) > 249:
		return fmt.Errorf("topic name is %d characters long, at most 249 are allowed", len(name))
	case name == "." || name == "..":
		return fmt.Errorf("%q is not a legal topic name", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic name %q has an illegal character %q (allowed: letters, digits, '.', '_', '-')", name, c)
		}
	}
	return nil
}
