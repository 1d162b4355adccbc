package sql_test

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/enginetest"
	"github.com/sluicehq/sluice/engine/run"
	"github.com/sluicehq/sluice/sinks/sql"
)

// registry has the sql sink, a "mem" source emitting src's records and a
// "mem" sink (for dead letters) keeping what it is given.
func registry(t *testing.T, src *enginetest.MemSource, dlq *enginetest.MemSink) *engine.Registry {
	t.Helper()
	r := engine.NewRegistry()
	if err := sql.Register(r); err != nil {
		t.Fatal(err)
	}
	if err := engine.RegisterSource(r, engine.SourceSpec[struct{}]{
		Name: "mem", Summary: "test records", Bounded: true, Defaults: func() struct{} { return struct{}{} },
		New: func(struct{}, engine.Env) (engine.Source, error) { return src, nil },
	}); err != nil {
		t.Fatal(err)
	}
	if err := engine.RegisterSink(r, engine.SinkSpec[struct{}]{
		Name: "mem", Summary: "test sink", Defaults: func() struct{} { return struct{}{} },
		New: func(struct{}, engine.Env) (engine.Sink, error) { return dlq, nil },
	}); err != nil {
		t.Fatal(err)
	}
	return r
}

const settlement = `name: settlement
source:
  mem: {}
sinks:
  settlement:
    when: 'event == "match_end"'
    sql:
      driver: sqlite
      dsn: "${DB_DSN}"
      table: match_results
      mode: insert
      exactly_once: true
      columns: {match_id: 'match_id', player_id: 'player_id', score: 'score * 1', settled_at: 'parse_time(ts)'}
      create_table:
        columns: {match_id: BIGINT, player_id: BIGINT, score: INT NOT NULL, settled_at: TIMESTAMP}
        primary_key: [match_id, player_id]
    batch: {count: 100, period: 10ms}
    retry: {initial: 1ms, max: 5ms}
dead_letter:
  mem: {}
scaling: {max_workers: 1}
`

// TestPipelineRunTwice runs the settlement pipeline over the same records
// twice, as after a crash that lost the source's commits: with
// exactly_once, the second run writes nothing, and the records the table
// rejects go to the dead-letter sink in the first run only. One transform
// worker and one sink writer keep each stream in order, as exactly_once
// needs (the source is drained rather than ended, since the runner starts
// extra transform workers to empty its queue at the end of a bounded
// input); with the default workers, batches arrive out of order, and the
// sink writes the late ones all the same.
func TestPipelineRunTwice(t *testing.T) {
	t.Run("ordered", func(t *testing.T) { runTwice(t, true) })
	t.Run("default_workers", func(t *testing.T) { runTwice(t, false) })
}

func runTwice(t *testing.T, ordered bool) {
	file := settlement
	if !ordered {
		file = strings.Replace(file, "scaling: {max_workers: 1}\n", "", 1)
	}
	dsn := "file:" + filepath.Join(t.TempDir(), "settlement.db") + "?_pragma=busy_timeout(5000)"
	values := make([][]byte, 1000)
	for i := range values {
		event, score := "match_end", fmt.Sprint(i%50)
		if i%10 == 9 {
			event = "kill"
		}
		if i == 123 || i == 456 {
			score = "null" // NOT NULL violation
		}
		values[i] = fmt.Appendf(nil, `{"event":%q,"match_id":%d,"player_id":%d,"score":%s,"ts":"2024-05-01T12:00:00Z"}`, event, i/10, i%10, score)
	}
	lookup := func(k string) (string, bool) {
		if k == "DB_DSN" {
			return dsn, true
		}
		return "", false
	}
	for attempt := 1; attempt <= 2; attempt++ {
		src := enginetest.NewMemSource(values...)
		src.BatchSize = 64
		src.Endless = ordered // drained below once every batch is acknowledged
		dlq := &enginetest.MemSink{}
		p, err := engine.Load("settlement.yaml", []byte(file), engine.LoadOptions{Registry: registry(t, src, dlq), Lookup: lookup})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		r := run.New(p)
		type result struct {
			sum run.Summary
			err error
		}
		done := make(chan result, 1)
		go func() {
			sum, err := r.Run(ctx)
			done <- result{sum, err}
		}()
		if ordered {
			for len(src.Acks()) < (len(values)+63)/64 && ctx.Err() == nil {
				time.Sleep(5 * time.Millisecond)
			}
			r.Drain()
		}
		res := <-done
		cancel()
		sum, err := res.sum, res.err
		if err != nil {
			t.Fatalf("run %d: %v", attempt, err)
		}
		for off, err := range src.Acks() {
			if err != nil {
				t.Fatalf("run %d: batch at %d acknowledged with %v", attempt, off, err)
			}
		}
		if attempt == 1 && sum.Read != int64(len(values)) {
			t.Fatalf("run 1 read %d records, want %d", sum.Read, len(values))
		}
		wantDLQ := int64(2)
		if attempt == 2 {
			wantDLQ = 0
		}
		if sum.DeadLettered != wantDLQ || len(dlq.Records()) != int(wantDLQ) {
			t.Errorf("run %d: %d dead-lettered (%d in the sink), want %d", attempt, sum.DeadLettered, len(dlq.Records()), wantDLQ)
		}
	}
	db, err := dbsql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, sum int
	if err := db.QueryRow(`SELECT COUNT(*), SUM(score) FROM match_results`).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 900-2 {
		t.Fatalf("%d rows, want 898", n)
	}
	var stored int64
	if err := db.QueryRow(`SELECT "offset" FROM sluice_positions WHERE pipeline = 'settlement' AND stream = 'mem'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 998 {
		t.Fatalf("stored offset %d, want 998 (999 is filtered)", stored)
	}
}

// TestPipelineFileErrors: a bad expression or type in the sql sink's
// config points at its line and column, and the dsn is never shown.
func TestPipelineFileErrors(t *testing.T) {
	r := registry(t, enginetest.NewMemSource(), &enginetest.MemSink{})
	lookup := func(k string) (string, bool) { return "sluice:s3cretpw@tcp(db:3306)/games", k == "DB_DSN" }
	src := strings.NewReplacer("driver: sqlite", "driver: mysql", "'score * 1'", "'score *'", "INT NOT NULL", "INT; DROP").Replace(settlement)
	_, err := engine.Load("settlement.yaml", []byte(src), engine.LoadOptions{Registry: r, Lookup: lookup})
	if err == nil {
		t.Fatal("Load passed")
	}
	for _, want := range []string{
		"settlement.yaml:13:78: sinks.settlement.sql.columns.score:",
		"settlement.yaml:15:63: sinks.settlement.sql.create_table.columns.score: expected a type",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "s3cretpw") {
		t.Errorf("error shows the password: %v", err)
	}
}
