package kafkaconf

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"

	"github.com/sluicehq/sluice/engine/spec"
)

// Config is the connection part of a Kafka component's config.
type Config struct {
	Brokers     []string      `yaml:"brokers" spec:"required" doc:"Seed broker addresses (host:port)."`
	ClientID    string        `yaml:"client_id" doc:"Client ID sent to the brokers; shows in their logs and quotas."`
	Version     string        `yaml:"version" doc:"Kafka protocol version to speak, e.g. 3.6.0; the oldest broker of the cluster decides."`
	DialTimeout time.Duration `yaml:"dial_timeout" doc:"Longest time to wait for a connection to a broker."`
	TLS         TLS           `yaml:"tls" doc:"TLS to the brokers."`
	SASL        SASL          `yaml:"sasl" doc:"SASL authentication."`
}

// TLS configures TLS to the brokers.
type TLS struct {
	Enabled            bool   `yaml:"enabled" doc:"Connect with TLS."`
	CAFile             string `yaml:"ca_file" doc:"PEM file of the CAs that sign the brokers' certificates. Default: the system's."`
	CertFile           string `yaml:"cert_file" doc:"PEM client certificate, for mutual TLS."`
	KeyFile            string `yaml:"key_file" doc:"PEM key of the client certificate."`
	ServerName         string `yaml:"server_name" doc:"Name to verify the brokers' certificates against. Default: the host of each address."`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify" doc:"Do not verify the brokers' certificates. Never in production."`
}

// SASL configures SASL authentication.
type SASL struct {
	Mechanism string      `yaml:"mechanism" enum:",PLAIN,SCRAM-SHA-256,SCRAM-SHA-512" doc:"PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty: no SASL."`
	User      string      `yaml:"user" doc:"SASL user name."`
	Password  spec.Secret `yaml:"password" doc:"SASL password; never printed. Use ${VAR} to take it from the environment."`
}

// Defaults returns the connection defaults.
func Defaults() Config {
	return Config{ClientID: "sluice", Version: "3.6.0", DialTimeout: 10 * time.Second}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, spec.Errorf("brokers", "at least one address is required"))
	}
	for i, b := range c.Brokers {
		if b == "" {
			errs = append(errs, spec.Errorf(fmt.Sprintf("brokers[%d]", i), "empty address"))
		}
	}
	if _, err := sarama.ParseKafkaVersion(c.Version); err != nil {
		errs = append(errs, spec.Errorf("version", "expected a Kafka version such as 3.6.0, got %q", c.Version))
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, spec.Errorf("tls", "cert_file and key_file go together"))
	}
	switch c.SASL.Mechanism {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if c.SASL.User == "" {
			errs = append(errs, spec.Errorf("sasl.user", "required with mechanism %s", c.SASL.Mechanism))
		}
	default:
		errs = append(errs, spec.Errorf("sasl.mechanism", "expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got %q", c.SASL.Mechanism))
	}
	return errors.Join(errs...)
}

// Sarama returns a sarama configuration with the connection settings of c.
// It reads the TLS files.
func (c Config) Sarama() (*sarama.Config, error) {
	sc := sarama.NewConfig()
	sc.ClientID = c.ClientID
	v, err := sarama.ParseKafkaVersion(c.Version)
	if err != nil {
		return nil, fmt.Errorf("version: %w", err)
	}
	sc.Version = v
	if c.DialTimeout > 0 {
		sc.Net.DialTimeout = c.DialTimeout
	}
	if c.TLS.Enabled {
		tc, err := c.TLS.config()
		if err != nil {
			return nil, err
		}
		sc.Net.TLS.Enable = true
		sc.Net.TLS.Config = tc
	}
	if c.SASL.Mechanism != "" {
		sc.Net.SASL.Enable = true
		sc.Net.SASL.User = c.SASL.User
		sc.Net.SASL.Password = c.SASL.Password.Reveal()
		switch c.SASL.Mechanism {
		case "PLAIN":
			sc.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		case "SCRAM-SHA-256":
			sc.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
			sc.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.HashGeneratorFcn(sha256.New)} }
		case "SCRAM-SHA-512":
			sc.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
			sc.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.HashGeneratorFcn(sha512.New)} }
		}
	}
	return sc, nil
}

func (t TLS) config() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s: no PEM certificate found", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// scramClient adapts xdg-go/scram to sarama.SCRAMClient.
type scramClient struct {
	hash scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

func (s *scramClient) Begin(user, password, authzID string) error {
	c, err := s.hash.NewClient(user, password, authzID)
	if err != nil {
		return err
	}
	s.conv = c.NewConversation()
	return nil
}

func (s *scramClient) Step(challenge string) (string, error) { return s.conv.Step(challenge) }
func (s *scramClient) Done() bool                            { return s.conv.Done() }
