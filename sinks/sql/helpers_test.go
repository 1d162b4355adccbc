package sql

import (
	"context"
	dbsql "database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/codec"
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
