package kafkaconf

import (
	"strings"
	"testing"

	"github.com/IBM/sarama"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"ok", func(c *Config) {}, ""},
		{"no brokers", func(c *Config) { c.Brokers = nil }, "brokers: at least one address is required"},
		{"bad version", func(c *Config) { c.Version = "x" }, "version: expected a Kafka version"},
		{"half a cert", func(c *Config) { c.TLS.CertFile = "c.pem" }, "cert_file and key_file go together"},
		{"sasl without user", func(c *Config) { c.SASL.Mechanism = "PLAIN" }, "sasl.user: required"},
		{"bad mechanism", func(c *Config) { c.SASL.Mechanism = "GSSAPI"; c.SASL.User = "u" }, "sasl.mechanism: expected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			c.Brokers = []string{"localhost:9092"}
			tc.mod(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSarama(t *testing.T) {
	c := Defaults()
	c.Brokers = []string{"b:9092"}
	c.SASL = SASL{Mechanism: "SCRAM-SHA-512", User: "u", Password: "p"}
	sc, err := c.Sarama()
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Net.SASL.Enable || sc.Net.SASL.Mechanism != sarama.SASLTypeSCRAMSHA512 || sc.Net.SASL.SCRAMClientGeneratorFunc == nil {
		t.Errorf("sasl = %+v", sc.Net.SASL)
	}
	if sc.Version != sarama.V3_6_0_0 || sc.ClientID != "sluice" {
		t.Errorf("version %v, client %q", sc.Version, sc.ClientID)
	}
	if err := sc.Validate(); err != nil {
		t.Errorf("sarama rejects the config: %v", err)
	}
	c.TLS = TLS{Enabled: true, CAFile: "/nonexistent.pem"}
	if _, err := c.Sarama(); err == nil || !strings.Contains(err.Error(), "tls.ca_file") {
		t.Errorf("missing CA file: %v", err)
	}
}
