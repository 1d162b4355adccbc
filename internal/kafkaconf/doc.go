// Package kafkaconf is the connection configuration shared by the Kafka
// source and sink: brokers, client ID, protocol version, TLS and SASL
// (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), and its translation into a sarama
// configuration.
//
// It is not a Kafka client; the components build their clients from the
// *sarama.Config it returns.
//
//	type Config struct {
//		kafkaconf.Config `yaml:",inline"`
//		Topics []string `yaml:"topics" doc:"Topics to consume."`
//	}
//	sc, err := cfg.Config.Sarama()
package kafkaconf
