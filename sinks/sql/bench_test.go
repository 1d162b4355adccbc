package sql

import (
	"context"
	dbsql "database/sql"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
)

// BenchmarkPlan maps batches of 5000 records of benchmark scenario (e) to
// rows (the eleven columns of an event, into a SQLite table that declares
// the same types as the MariaDB one): the sink's own work per row, without
// the database's. cpu-ns/row is the CPU time of the process (garbage
// collection included) per row.
func BenchmarkPlan(b *testing.B) {
	rows, cpu := benchBatches(b, func(s *Sink, batch engine.Batch, size int) {
		p, err := s.plan(context.Background(), s.db, batch)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.failed) > 0 || len(p.groups) != 1 || len(p.groups[0].rows) != size {
			b.Fatalf("plan: %d failed, %d groups", len(p.failed), len(p.groups))
		}
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(rows), "cpu-ns/row")
}

// BenchmarkWriteSQLite writes batches of scenario (e)'s rows into a SQLite
// file, the embedded default: mapping, statements and the database's work,
// all in this process.
func BenchmarkWriteSQLite(b *testing.B) {
	var db *dbsql.DB
	rows, cpu := benchBatches(b, func(s *Sink, batch engine.Batch, _ int) {
		db = s.db
		if err := s.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	})
	if n := count(b, db, `SELECT COUNT(*) FROM events`); n != rows {
		b.Fatalf("%d rows in the table, want %d", n, rows)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(rows), "cpu-ns/row")
}

// benchBatches opens an upsert sink on a SQLite table of scenario (e)'s
// events and calls do with a new batch of 5000 of them per iteration of b,
// timing only do. It returns the rows handed to do and the CPU time of the
// process during the calls.
func benchBatches(b *testing.B, do func(s *Sink, batch engine.Batch, size int)) (rows int, cpu time.Duration) {
	const size = 5000
	cfg := sqliteConfig(b, "events")
	cfg.Mode, cfg.Key = ModeUpsert, []string{"event_id"}
	cfg.Columns = eventColumns
	cfg.CreateTable = eventTable()
	s, _ := openSink(b, cfg)
	tf := newTransformed(b)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		batch := tf.batch(b, rows, size)
		cpu0 := selfCPU()
		b.StartTimer()
		do(s, batch, size)
		b.StopTimer()
		cpu += selfCPU() - cpu0
		b.StartTimer()
		rows += size
	}
	return rows, cpu
}
