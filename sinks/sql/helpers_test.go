package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/codec"
	"github.com/sluicehq/sluice/engine/expr"
	"github.com/sluicehq/sluice/engine/field"
	"github.com/sluicehq/sluice/engine/spec"
)

var jsonCodec = func() codec.Codec {
	c, err := codec.Lookup("json")
	if err != nil {
		panic(err)
	}
	return c
}()

// rec returns a JSON record with value v read from stream at offset.
func rec(v string, stream string, offset int64) engine.Record {
	r := engine.NewRecord([]byte(v), jsonCodec)
	r.Source = engine.Position{Stream: stream, Offset: offset}
	return r
}

// recs returns a batch of n records made by value(i), read from stream
// "s" at offsets from first.
func recs(n int, first int64, value func(i int) string) engine.Batch {
	out := make([]engine.Record, n)
	for i := range out {
		out[i] = rec(value(i), "s", first+int64(i))
	}
	return engine.Batch{Records: out}
}

// sqliteDSN returns the DSN of a fresh SQLite file in a temp dir.
func sqliteDSN(t testing.TB) string {
	t.Helper()
	return "file:" + filepath.Join(t.TempDir(), "db", "test.db") + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
}

// sqliteConfig is the default config on a fresh SQLite file.
func sqliteConfig(t testing.TB, table string) Config {
	cfg := Defaults()
	cfg.Driver = DriverSQLite
	cfg.DSN = spec.Secret(sqliteDSN(t))
	cfg.Table = table
	return cfg
}

// pairs builds a spec.Pairs from key, value, key, value...
func pairs(kv ...string) spec.Pairs[string] {
	var p spec.Pairs[string]
	for i := 0; i+1 < len(kv); i += 2 {
		p = append(p, spec.Pair[string]{Key: kv[i], Value: kv[i+1]})
	}
	return p
}

// newSink validates cfg and builds a sink with a test env whose metrics
// registry is returned.
func newSink(t testing.TB, cfg Config) (*Sink, *prometheus.Registry) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	env := engine.TestEnv()
	env.Pipeline = "test-pipeline"
	env.Metrics = env.Metrics.For("sinks.db", engine.KindSink)
	s, err := New(cfg, env)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, env.Metrics.Registry()
}

// openSink builds and opens a sink on cfg; it is closed when the test ends.
func openSink(t testing.TB, cfg Config) (*Sink, *prometheus.Registry) {
	t.Helper()
	s, reg := newSink(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Open(ctx); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s, reg
}

// rawDB opens the database of cfg directly, for setting up and checking
// tables.
func rawDB(t testing.TB, cfg Config) *dbsql.DB {
	t.Helper()
	driver := cfg.Driver
	if driver == DriverPostgres {
		driver = "pgx"
	}
	db, err := dbsql.Open(driver, cfg.DSN.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t testing.TB, db *dbsql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func count(t testing.TB, db *dbsql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// counterValue returns the value of counter name on reg, 0 if absent.
func counterValue(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		sum := 0.0
		for _, m := range mf.GetMetric() {
			sum += metricValue(m)
		}
		return sum
	}
	return 0
}

func metricValue(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}

// failedIndices returns the indices a *engine.BatchError names, checking
// that each failure is permanent.
func failedIndices(t testing.TB, err error) []int {
	t.Helper()
	be, ok := err.(*engine.BatchError)
	if !ok {
		t.Fatalf("error %v (%T), want *engine.BatchError", err, err)
	}
	var out []int
	for _, f := range be.Failed {
		if !engine.IsPermanent(f.Err) {
			t.Errorf("record %d: error %v is not permanent", f.Index, f.Err)
		}
		out = append(out, f.Index)
	}
	return out
}

func errorOf(err error, idx int) error {
	be, ok := err.(*engine.BatchError)
	if !ok {
		return nil
	}
	for _, f := range be.Failed {
		if f.Index == idx {
			return f.Err
		}
	}
	return nil
}

// eventRegions and the rest are the choices of event, modelled on the
// generate source's game-telemetry events.
var (
	eventNames     = []string{"heartbeat", "login", "match_start", "kill", "purchase", "match_end", "logout"}
	eventRegions   = []string{"eu-west", "us-east", "ap-south", "sa-east"}
	eventPlatforms = []string{"android", "ios", "pc", "console"}
)

// event returns game-telemetry event seq as JSON, as the benchmarks'
// input: event_id g1-seq, one every 100ms from 2026-11-24.
func event(seq int) string {
	ts := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC).Add(time.Duration(seq) * 100 * time.Millisecond)
	return fmt.Sprintf(`{"event_id":"g1-%d","event":%q,"ts":%q,"player_id":%d,"match_id":%d,"region":%q,"platform":%q,"latency_ms":%d.%d,"score":%d,"level":%d,"device":{"os":%q,"ver":"14"}}`,
		seq, eventNames[seq%len(eventNames)], ts.Format("2006-01-02T15:04:05.000Z07:00"), 1000+seq*7%5000, 70000+seq/200,
		eventRegions[seq%len(eventRegions)], eventPlatforms[seq/3%len(eventPlatforms)], seq*13%500, seq%10, seq*31%5000, 1+seq%60,
		eventPlatforms[seq/3%len(eventPlatforms)])
}

// eventColumns are the columns of benchmark scenario (e)
// (benchmarks/kafka-to-mariadb): the eleven scalar fields of an event.
var eventColumns = pairs("event_id", "event_id", "event", "event", "ts", "ts", "day", "day", "player_id", "player_id",
	"match_id", "match_id", "region", "region", "platform", "platform", "latency_ms", "latency_ms", "score", "score", "level", "level")

// eventTable is the table of scenario (e), as create_table.
func eventTable() *CreateTableConfig {
	return &CreateTableConfig{
		Columns: pairs("event_id", "VARCHAR(32) NOT NULL", "event", "VARCHAR(16) NOT NULL", "ts", "TIMESTAMP(3) NOT NULL", "day", "DATE NOT NULL",
			"player_id", "BIGINT NOT NULL", "match_id", "BIGINT NOT NULL", "region", "VARCHAR(16) NOT NULL", "platform", "VARCHAR(16) NOT NULL",
			"latency_ms", "DOUBLE PRECISION NOT NULL", "score", "INT NOT NULL", "level", "INT NOT NULL"),
		PrimaryKey: []string{"event_id"},
	}
}

// transformed is what scenario (e)'s transforms leave in a record before
// the sink sees it: the filter reads event and latency_ms, the set reads ts
// and region and sets day and region, each through Record.View.
type transformed struct {
	day, region *expr.Program
}

func newTransformed(t testing.TB) transformed {
	day, err := expr.Compile(`format_time(ts, "2006-01-02")`)
	if err != nil {
		t.Fatal(err)
	}
	region, err := expr.Compile(`upper(region)`)
	if err != nil {
		t.Fatal(err)
	}
	return transformed{day: day, region: region}
}

// transformedFields are the fields scenario (e)'s transforms read and set.
var transformedFields = field.NewLayout("day", "event", "latency_ms", "region", "ts")

// batch returns the events [from, from+n) as records read from stream
// "events/0", transformed.
func (tf transformed) batch(t testing.TB, from, n int) engine.Batch {
	out := make([]engine.Record, n)
	for i := range out {
		out[i] = rec(event(from+i), "events/0", int64(from+i))
		r := &out[i]
		// The fields the scenario's transforms read and set, set as the
		// set transform sets them.
		l, vals, err := r.Values(transformedFields)
		if err != nil {
			t.Fatal(err)
		}
		day, err := tf.day.EvalValues(l, vals, nil)
		if err != nil {
			t.Fatal(err)
		}
		region, err := tf.region.EvalValues(l, vals, nil)
		if err != nil {
			t.Fatal(err)
		}
		dayAt, _ := l.Index("day")
		regionAt, _ := l.Index("region")
		r.SetValue(l, dayAt, day)
		r.SetValue(l, regionAt, region)
	}
	return engine.Batch{Records: out}
}
