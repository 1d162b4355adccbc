package kafka

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/spec"
)

func validConfig() Config {
	c := Defaults()
	c.Brokers = []string{"localhost:9092"}
	c.Topics = []string{"events"}
	c.Group = "g"
	return c
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string // substring of the error; empty for none
	}{
		{"ok", func(c *Config) {}, ""},
		{"regex instead of topics", func(c *Config) { c.Topics, c.TopicsRegex = nil, "events-.*" }, ""},
		{"connection checked", func(c *Config) { c.Brokers = nil }, "brokers: at least one address"},
		{"no topics", func(c *Config) { c.Topics = nil }, "topics: set topics or topics_regex"},
		{"topics and regex", func(c *Config) { c.TopicsRegex = "e.*" }, "topics_regex: set either"},
		{"empty topic", func(c *Config) { c.Topics = []string{"a", ""} }, "topics[1]: empty topic name"},
		{"bad regex", func(c *Config) { c.Topics, c.TopicsRegex = nil, "(" }, "topics_regex: error parsing regexp"},
		{"no group", func(c *Config) { c.Group = "" }, "group: must be set"},
		{"bad start", func(c *Config) { c.Start = "oldest" }, `start: expected earliest or latest, got "oldest"`},
		{"batch size", func(c *Config) { c.BatchSize = 0 }, "batch_size: expected at least 1"},
		{"linger", func(c *Config) { c.BatchLinger = 0 }, "batch_linger: expected a positive duration"},
		{"max pending", func(c *Config) { c.MaxPending = 0 }, "max_pending: expected at least 1"},
		{"fetch min", func(c *Config) { c.FetchMinBytes = 0 }, "fetch_min_bytes: expected at least 1B"},
		{"fetch max below min", func(c *Config) { c.FetchMinBytes, c.FetchMaxBytes = 1<<20, 1<<10 }, "fetch_max_bytes: expected at least fetch_min_bytes"},
		{"fetch max too big", func(c *Config) { c.FetchMaxBytes = 4 << 30 }, "fetch_max_bytes: expected at most"},
		{"fetch partition zero", func(c *Config) { c.FetchPartitionBytes = 0 }, "fetch_partition_bytes: expected at least 1B"},
		{"fetch partition too big", func(c *Config) { c.FetchPartitionBytes = 4 << 30 }, "fetch_partition_bytes: expected at most"},
		{"max wait", func(c *Config) { c.MaxWait = time.Microsecond }, "max_wait: expected at least 1ms"},
		{"commit interval", func(c *Config) { c.CommitInterval = 0 }, "commit_interval: expected a positive duration"},
		{"settle above rebalance", func(c *Config) { c.RebalanceSettleTimeout = c.RebalanceTimeout }, "rebalance_settle_timeout: expected a positive duration below rebalance_timeout"},
		{"lag target", func(c *Config) { c.LagTarget = 0 }, "lag_target: expected at least 1"},
		{"refresh", func(c *Config) { c.TopicsRefreshInterval = 0 }, "topics_refresh_interval: expected a positive duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.mod(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := validConfig()
	c.Group, c.BatchSize, c.LagTarget = "", 0, 0
	err := c.Validate()
	for _, key := range []string{"group", "batch_size", "lag_target"} {
		if err == nil || !strings.Contains(err.Error(), key+":") {
			t.Errorf("Validate = %v, want a problem with %s", err, key)
		}
	}
}

func TestDocs(t *testing.T) {
	if err := spec.CheckDocs(reflect.TypeFor[Config]()); err != nil {
		t.Fatal(err)
	}
}

func TestRegister(t *testing.T) {
	r := engine.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	c, ok := r.Lookup(engine.KindSource, "kafka")
	if !ok || c.Bounded {
		t.Fatalf("Lookup = %+v, %v; want an unbounded kafka source", c, ok)
	}
	// The example decodes strictly into the config and validates.
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(c.Example), &n); err != nil {
		t.Fatal(err)
	}
	d := spec.NewDecoder("example.yaml", func(string) (string, bool) { return "", false })
	cfg := Defaults()
	d.Decode(n.Content[0].Content[1], "source.kafka", &cfg)
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestNewDoesNoIO(t *testing.T) {
	c := validConfig()
	c.Brokers = []string{"192.0.2.1:9092"} // TEST-NET-1: nothing answers
	s, err := New(c, engine.TestEnv())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatalf("Close of an unopened source: %v", err)
	}
	if _, _, err := s.Read(t.Context()); err != ErrClosed {
		t.Fatalf("Read after Close = %v, want ErrClosed", err)
	}
}
