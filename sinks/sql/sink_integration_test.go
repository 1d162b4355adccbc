//go:build integration

package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/enginetest"
	"github.com/sluicehq/sluice/engine/spec"
)

// The servers come from .ci/run (.ci/lib/sql.sh): MariaDB at
// SLUICE_TEST_MYSQL and PostgreSQL at SLUICE_TEST_POSTGRES, each with a CTL
// script (SLUICE_TEST_*_CTL stop|start) for the outage test.

type itDB struct {
	name, driver, dsnEnv, ctlEnv string
}

var itDBs = []itDB{
	{"mariadb", DriverMySQL, "SLUICE_TEST_MYSQL", "SLUICE_TEST_MYSQL_CTL"},
	{"postgres", DriverPostgres, "SLUICE_TEST_POSTGRES", "SLUICE_TEST_POSTGRES_CTL"},
}

var itSeq atomic.Int64

// itConfig is a config on db's server writing to a fresh table (and
// positions table) that is dropped when the test ends.
func itConfig(t testing.TB, db itDB) Config {
	t.Helper()
	dsn := enginetest.Env(t, db.dsnEnv)
	cfg := Defaults()
	cfg.Driver, cfg.DSN = db.driver, spec.Secret(dsn)
	suffix := fmt.Sprintf("%d_%d", time.Now().UnixNano()%1e9, itSeq.Add(1))
	cfg.Table = "it_results_" + suffix
	cfg.PositionsTable = "it_positions_" + suffix
	cfg.ConnectTimeout = 3 * time.Second
	raw := rawDB(t, cfg)
	t.Cleanup(func() {
		for _, table := range []string{cfg.Table, cfg.PositionsTable} {
			raw.Exec("DROP TABLE IF EXISTS " + dialects[db.driver].quote(table))
		}
	})
	return cfg
}

// settlementTable is the create_table of the tests: a match result per
// match and player.
func settlementTable() *CreateTableConfig {
	return &CreateTableConfig{
		Columns:    pairs("match_id", "BIGINT NOT NULL", "player_id", "BIGINT NOT NULL", "score", "INT NOT NULL", "nick", "VARCHAR(8)", "settled_at", "TIMESTAMP"),
		PrimaryKey: []string{"match_id", "player_id"},
	}
}

// result is record n of a run: match n/10, player n%10, score from round.
func result(n, round int) string {
	return fmt.Sprintf(`{"event":"match_end","match_id":%d,"player_id":%d,"score":%d,"nick":"p%d","ts":"2024-05-01T12:%02d:%02dZ"}`,
		n/10, n%10, (n*7+round)%1000, n%100000, n/60%60, n%60)
}

// batches returns records [from, from+n) of round in batches of size,
// read from stream "results/0" at offsets equal to their number.
func batches(from, n, size, round int) []engine.Batch {
	var out []engine.Batch
	for start := from; start < from+n; start += size {
		end := min(start+size, from+n)
		recs := make([]engine.Record, 0, end-start)
		for i := start; i < end; i++ {
			recs = append(recs, rec(result(i, round), "results/0", int64(i)))
		}
		out = append(out, engine.Batch{Records: recs})
	}
	return out
}

// writeRetry writes b as the pipeline would: retryable failures are
// retried with backoff, for up to a minute.
func writeRetry(t testing.TB, s *Sink, b engine.Batch) error {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	wait := 50 * time.Millisecond
	for {
		err := s.Write(context.Background(), b)
		if err == nil || engine.IsPermanent(err) || time.Now().After(deadline) {
			return err
		}
		var be *engine.BatchError
		if errors.As(err, &be) && len(be.Retryable()) == 0 {
			return err
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}

// aggregate returns a summary of the table's rows that changes when a row
// is added, lost or changed.
func aggregate(t testing.TB, db *dbsql.DB, d *dialect, table string) string {
	t.Helper()
	q := fmt.Sprintf(`SELECT COUNT(*), SUM(score), SUM(match_id * 10 + player_id), SUM(LENGTH(nick)), MIN(settled_at), MAX(settled_at) FROM %s`, d.quote(table))
	var n, score, ids, nick int64
	var lo, hi time.Time
	if err := db.QueryRow(q).Scan(&n, &score, &ids, &nick, &lo, &hi); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return fmt.Sprintf("rows=%d score=%d ids=%d nick=%d time=%s..%s", n, score, ids, nick, lo.UTC().Format(time.RFC3339), hi.UTC().Format(time.RFC3339))
}

// TestIntegrationUpsertReplay upserts 100 000 records in batches of 1000
// from 4 writers, then writes them all again: the table is the same.
func TestIntegrationUpsertReplay(t *testing.T) {
	for _, db := range itDBs {
		t.Run(db.name, func(t *testing.T) {
			cfg := itConfig(t, db)
			cfg.Mode, cfg.Key = ModeUpsert, []string{"match_id", "player_id"}
			cfg.Columns = pairs("match_id", "match_id", "player_id", "player_id", "score", "score * 1", "nick", "nick", "settled_at", "parse_time(ts)")
			cfg.CreateTable = settlementTable()
			s, _ := openSink(t, cfg)
			raw := rawDB(t, cfg)
			const total = 100000
			write := func() time.Duration {
				start := time.Now()
				work := make(chan engine.Batch)
				var wg sync.WaitGroup
				var failed atomic.Int64
				for range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for b := range work {
							if err := writeRetry(t, s, b); err != nil {
								t.Errorf("Write: %v", err)
								failed.Add(1)
							}
						}
					}()
				}
				for _, b := range batches(0, total, 1000, 0) {
					work <- b
				}
				close(work)
				wg.Wait()
				if failed.Load() > 0 {
					t.FailNow()
				}
				return time.Since(start)
			}
			el := write()
			first := aggregate(t, raw, s.d, cfg.Table)
			t.Logf("%s: %d records in %v (%.0f rows/s); %s", db.name, total, el, total/el.Seconds(), first)
			if !strings.HasPrefix(first, fmt.Sprintf("rows=%d ", total)) {
				t.Fatalf("after the first pass: %s", first)
			}
			write()
			if again := aggregate(t, raw, s.d, cfg.Table); again != first {
				t.Fatalf("the replay changed the table:\n before %s\n  after %s", first, again)
			}
		})
	}
}

// TestIntegrationPoisonRows writes 1000 records of which 3 are rejected by
// the server (a string too long for VARCHAR(8) in strict mode, a NOT NULL
// violation): the 997 others are committed and the 3 named permanently.
func TestIntegrationPoisonRows(t *testing.T) {
	for _, db := range itDBs {
		t.Run(db.name, func(t *testing.T) {
			cfg := itConfig(t, db)
			cfg.Columns = pairs("match_id", "match_id", "player_id", "player_id", "score", "score", "nick", "nick", "settled_at", "parse_time(ts)")
			cfg.CreateTable = settlementTable()
			s, reg := openSink(t, cfg)
			poison := map[int]string{
				10:  `{"match_id":1,"player_id":0,"score":1,"nick":"much-too-long","ts":"2024-05-01T12:00:00Z"}`,
				500: `{"match_id":50,"player_id":0,"nick":"null","ts":"2024-05-01T12:00:00Z"}`,
				999: `{"match_id":99,"player_id":9,"score":1,"nick":"ninechars","ts":"2024-05-01T12:00:00Z"}`,
			}
			b := batches(0, 1000, 1000, 0)[0]
			for i, v := range poison {
				b.Records[i] = rec(v, "results/0", int64(i))
			}
			err := s.Write(t.Context(), b)
			if got := failedIndices(t, err); !slices.Equal(got, []int{10, 500, 999}) {
				t.Fatalf("failed %v, want [10 500 999]: %v", got, err)
			}
			for _, i := range []int{10, 500, 999} {
				t.Logf("record %d: %v", i, errorOf(err, i))
			}
			raw := rawDB(t, cfg)
			if n := count(t, raw, "SELECT COUNT(*) FROM "+s.d.quote(cfg.Table)); n != 997 {
				t.Fatalf("%d rows, want 997", n)
			}
			if got := counterValue(t, reg, "sluice_sql_bisections_total"); got != 1 {
				t.Errorf("bisections %v, want 1", got)
			}
			t.Logf("%v statements", counterValue(t, reg, "sluice_sql_statements_total"))
		})
	}
}

// TestIntegrationExactlyOnce writes 10 000 records in insert mode with
// exactly_once, then the first 5 000 again: the table has 10 000 rows, and
// a new sink reads the stored position.
func TestIntegrationExactlyOnce(t *testing.T) {
	for _, db := range itDBs {
		t.Run(db.name, func(t *testing.T) {
			cfg := itConfig(t, db)
			cfg.ExactlyOnce = true
			cfg.Columns = pairs("match_id", "match_id", "player_id", "player_id", "score", "score", "nick", "nick", "settled_at", "parse_time(ts)")
			cfg.CreateTable = settlementTable()
			cfg.CreateTable.PrimaryKey = nil // a replay would duplicate rows without exactly_once
			s, reg := openSink(t, cfg)
			for _, b := range batches(0, 10000, 500, 0) {
				if err := writeRetry(t, s, b); err != nil {
					t.Fatal(err)
				}
			}
			for _, b := range batches(0, 5000, 700, 1) {
				if err := writeRetry(t, s, b); err != nil {
					t.Fatal(err)
				}
			}
			raw := rawDB(t, cfg)
			if n := count(t, raw, "SELECT COUNT(*) FROM "+s.d.quote(cfg.Table)); n != 10000 {
				t.Fatalf("%d rows, want 10000", n)
			}
			if got := counterValue(t, reg, "sluice_sql_skipped_records_total"); got != 5000 {
				t.Errorf("skipped %v, want 5000", got)
			}
			s2, _ := openSink(t, cfg)
			pos, ok, err := s2.Positions(t.Context())
			if err != nil || !ok || len(pos) != 1 || pos["results/0"] != 9999 {
				t.Fatalf("Positions = %v, %v, %v", pos, ok, err)
			}
		})
	}
}

// TestIntegrationOutage stops the server while batches are being written,
// keeps it down for 20s (8s with SLUICE_TEST_QUICK), and starts it again:
// every Write meanwhile fails retryably and promptly, and once the server
// is back every batch is written.
func TestIntegrationOutage(t *testing.T) {
	for _, db := range itDBs {
		t.Run(db.name, func(t *testing.T) {
			cfg := itConfig(t, db)
			ctl := enginetest.Env(t, db.ctlEnv)
			cfg.Mode, cfg.Key = ModeUpsert, []string{"match_id", "player_id"}
			cfg.CreateTable = settlementTable()
			cfg.Columns = pairs("match_id", "match_id", "player_id", "player_id", "score", "score", "nick", "nick", "settled_at", "parse_time(ts)")
			s, _ := openSink(t, cfg)
			down := 20 * time.Second
			if os.Getenv("SLUICE_TEST_QUICK") != "" {
				down = 8 * time.Second
			}
			run := func(arg string) {
				t.Helper()
				cmd := exec.Command(ctl, arg)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s %s: %v\n%s", ctl, arg, err, out)
				}
			}
			all := batches(0, 20000, 100, 0)
			next := 0
			for ; next < 5; next++ {
				if err := s.Write(t.Context(), all[next]); err != nil {
					t.Fatalf("Write before the outage: %v", err)
				}
			}
			run("stop")
			restarted := false
			defer func() {
				if !restarted {
					run("start")
				}
			}()
			var pending []engine.Batch
			until := time.Now().Add(down)
			attempts := 0
			for time.Now().Before(until) {
				b := all[next]
				next++
				start := time.Now()
				err := s.Write(t.Context(), b)
				attempts++
				switch {
				case err == nil:
					t.Fatalf("Write %d succeeded while the server is down", attempts)
				case engine.IsPermanent(err):
					t.Fatalf("Write during the outage failed permanently: %v", err)
				case time.Since(start) > 3*cfg.ConnectTimeout:
					t.Errorf("Write took %v during the outage", time.Since(start))
				}
				if attempts == 1 {
					t.Logf("during the outage: %v", err)
				}
				pending = append(pending, b)
				time.Sleep(200 * time.Millisecond)
			}
			run("start")
			restarted = true
			for _, b := range pending {
				if err := writeRetry(t, s, b); err != nil {
					t.Fatalf("Write after the restart: %v", err)
				}
			}
			for end := next + 5; next < end; next++ {
				if err := writeRetry(t, s, all[next]); err != nil {
					t.Fatalf("Write after the restart: %v", err)
				}
			}
			raw := rawDB(t, cfg)
			if n := count(t, raw, "SELECT COUNT(*) FROM "+s.d.quote(cfg.Table)); n != next*100 {
				t.Fatalf("%d rows, want %d", n, next*100)
			}
			t.Logf("%d writes failed retryably during %v down; all %d rows there after the restart", attempts, down, next*100)
		})
	}
}

// BenchmarkUpsertMariaDB upserts batches of 1000 and 5000 rows into
// MariaDB, a new key range per batch, and reports rows per second.
func BenchmarkUpsertMariaDB(b *testing.B) {
	for _, size := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			cfg := itConfig(b, itDBs[0])
			cfg.Mode, cfg.Key = ModeUpsert, []string{"match_id", "player_id"}
			cfg.CreateTable = settlementTable()
			cfg.Columns = pairs("match_id", "match_id", "player_id", "player_id", "score", "score * 1", "nick", "nick", "settled_at", "parse_time(ts)")
			s, _ := openSink(b, cfg)
			pool := batches(0, 10*size, size, 0)
			bytes := 0
			for i := range pool[0].Records {
				bytes += len(pool[0].Records[i].Value)
			}
			b.SetBytes(int64(bytes))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if err := s.Write(context.Background(), pool[n%len(pool)]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n*size)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkWriteEvents writes batches of benchmark scenario (e)'s events
// (benchmarks/kafka-to-mariadb: eleven columns, upsert on event_id, a new
// key per row) from one writer, as the scenario's sink does, and reports
// rows/s, the CPU time of this process (Sluice's side: mapping, driver)
// and, when the server runs on this machine, of the database server, per
// row. Batches have 5000 rows, or from 4000 to 5000 as a sink's batches do
// when its period flushes them.
func BenchmarkWriteEvents(b *testing.B) {
	for _, db := range itDBs {
		for _, varied := range []bool{false, true} {
			name := "db=" + db.name + "/batch=5000"
			if varied {
				name = "db=" + db.name + "/batch=4000-5000"
			}
			b.Run(name, func(b *testing.B) {
				cfg := itConfig(b, db)
				cfg.Mode, cfg.Key = ModeUpsert, []string{"event_id"}
				cfg.Columns = eventColumns
				cfg.CreateTable = eventTable()
				s, _ := openSink(b, cfg)
				tf := newTransformed(b)
				server := serverPID(db)
				var self, dbCPU time.Duration
				rows := 0
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					b.StopTimer()
					size := 5000
					if varied {
						size = 4000 + i*397%1001
					}
					batch := tf.batch(b, rows, size)
					self0, db0 := processCPU(0), processCPU(server)
					b.StartTimer()
					if err := s.Write(context.Background(), batch); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					self += processCPU(0) - self0
					dbCPU += processCPU(server) - db0
					b.StartTimer()
					rows += size
				}
				raw := rawDB(b, cfg)
				if n := count(b, raw, "SELECT COUNT(*) FROM "+s.d.quote(cfg.Table)); n != rows {
					b.Fatalf("%d rows in the table, want %d", n, rows)
				}
				b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(self.Microseconds())/float64(rows), "cpu-µs/row")
				if server > 0 {
					b.ReportMetric(float64(dbCPU.Microseconds())/float64(rows), "db-cpu-µs/row")
				}
			})
		}
	}
}

// serverPID returns the process of db's server when .ci/lib/sql.sh runs it
// on this machine (its pid file is next to the CTL script), else 0.
func serverPID(db itDB) int {
	ctl := os.Getenv(db.ctlEnv)
	if ctl == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(ctl), "pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// processCPU returns the user and system CPU time of process pid and of
// its children (PostgreSQL's backends), from /proc; pid 0 is this process.
// It returns 0 where /proc cannot tell.
func processCPU(pid int) time.Duration {
	if pid == 0 {
		return selfCPU()
	}
	ticks := procTicks(pid)
	children, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	for _, c := range strings.Fields(string(children)) {
		if n, err := strconv.Atoi(c); err == nil {
			ticks += procTicks(n)
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// procTicks returns utime+stime of pid in clock ticks.
func procTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	// The fields after the command, which is in parentheses: state is
	// field 3, utime 14 and stime 15.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}
