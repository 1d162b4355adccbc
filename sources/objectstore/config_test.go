package objectstore

import (
	"reflect"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/spec"
)

func TestDocs(t *testing.T) {
	if err := spec.CheckDocs(reflect.TypeFor[Config]()); err != nil {
		t.Fatal(err)
	}
}

// decode decodes src strictly over the defaults, as the loader does.
func decode(t *testing.T, src string, env map[string]string) (Config, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	d := spec.NewDecoder("test.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	cfg := Defaults()
	d.Decode(n.Content[0], "source.objectstore", &cfg)
	if err := d.Err(); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func TestDecode(t *testing.T) {
	cfg, err := decode(t, `
url: s3://lake?endpoint=${S3_ENDPOINT}
prefix: events/
glob: '**/*.jsonl.gz'
time_key_pattern: 'dt=(?P<date>\d{4}-\d{2}-\d{2})'
from: 2026-11-01T00:00:00Z
to: 2026-11-08T00:00:00Z
csv: {delimiter: ";"}
shard: '${SLUICE_SHARD:-0/1}'
rate: {records: 5000, bytes: 10MiB}
checkpoint_interval: 5s
state: s3://lake/state/?endpoint=${S3_ENDPOINT}
`, map[string]string{"S3_ENDPOINT": "http://127.0.0.1:9000"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Rate.Bytes != 10<<20 || cfg.Rate.Records != 5000 || cfg.Shard != "0/1" || cfg.CSV.Delimiter != ";" ||
		cfg.CheckpointInterval != 5*time.Second || cfg.URL != "s3://lake?endpoint=http://127.0.0.1:9000" {
		t.Fatalf("decoded %+v", cfg)
	}
	if _, err := decode(t, "{url: 'mem://', globb: x}", nil); err == nil {
		t.Fatal("unknown key accepted")
	}
}

func TestExampleDecodes(t *testing.T) {
	r := engine.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	c, _ := r.Lookup(engine.KindSource, "objectstore")
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(c.Example), &n); err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(n.Content[0].Content[1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decode(t, string(out), map[string]string{"S3_ENDPOINT": "http://x:9000"}); err != nil {
		t.Fatal(err)
	}
}
