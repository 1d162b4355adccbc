//go:build integration

package main

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sluicehq/sluice/engine/enginetest"
)

// These tests run sluice from Kafka into MariaDB (what .ci/run starts:
// SLUICE_TEST_MYSQL, SLUICE_TEST_MYSQL_CTL), kill it or the database, and
// count the rows.

func mysqlDB(t *testing.T) (*sql.DB, string) {
	t.Helper()
	dsn := enginetest.Env(t, "SLUICE_TEST_MYSQL")
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dsn
}

func (k *kafkaEnv) sqlPipeline(in, group, dsn, table, mode string) string {
	k.t.Helper()
	src := fmt.Sprintf(`name: kafka-sql-it
source:
  kafka:
    brokers: [%q]
    topics: [%s]
    group: %s
    start: earliest
    commit_interval: 500ms
sinks:
  db:
    sql:
      driver: mysql
      dsn: "${IT_MYSQL_DSN}"
      table: %s
      mode: %s
      exactly_once: true
      columns: {id: id, event: event, latency_ms: latency_ms}
      create_table:
        columns: {id: BIGINT, event: VARCHAR(32), latency_ms: INT}
    batch: {count: 1000, period: 50ms}
    retry: {initial: 100ms, max: 2s}
`, k.brokers, in, group, table, mode)
	return write(k.t, "sql-pipeline.yaml", src)
}

func rowCounts(t *testing.T, db *sql.DB, table string) (rows, distinct int) {
	t.Helper()
	if err := db.QueryRow(fmt.Sprintf("SELECT COUNT(*), COUNT(DISTINCT id) FROM %s", table)).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	return rows, distinct
}

func waitRows(t *testing.T, db *sql.DB, table string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var rows int
		err := db.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM %s", table)).Scan(&rows)
		if err == nil && rows >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d rows after %v, want %d (last error %v)", table, rows, timeout, n, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestExactlyOnceKillRestart: Kafka → MariaDB in insert mode with
// exactly_once; sluice is killed with SIGKILL mid-stream several times;
// the table ends up equal to the input, with no duplicate and nothing
// missing.
func TestExactlyOnceKillRestart(t *testing.T) {
	k := newKafkaEnv(t)
	db, dsn := mysqlDB(t)
	os.Setenv("IT_MYSQL_DSN", dsn)
	const n = 50000
	in := k.topic("eo-in", 6)
	k.produce(in, 0, n, 0, event)
	table := fmt.Sprintf("eo_%d", time.Now().UnixNano()%1e9)
	file := k.sqlPipeline(in, "g-"+in, dsn, table, "insert")
	for round := 0; round < 3; round++ {
		p := k.start(file)
		target := n / 4 * (round + 1)
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			var rows int
			if db.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM %s", table)).Scan(&rows) == nil && rows >= target {
				break
			}
		}
		p.kill()
	}
	p := k.start(file)
	waitRows(t, db, table, n, 3*time.Minute)
	time.Sleep(time.Second)
	p.stop(t)
	rows, distinct := rowCounts(t, db, table)
	if rows != n || distinct != n {
		t.Fatalf("table has %d rows, %d distinct ids; want exactly %d of each", rows, distinct, n)
	}
	t.Logf("exactly-once: 3 kill -9s, %d rows, no duplicates", rows)
}

// TestDatabaseOutage stops MariaDB for about 20 s while a pipeline writes
// to it: the pipeline backs off, resumes when the database is back, and
// loses nothing.
func TestDatabaseOutage(t *testing.T) {
	k := newKafkaEnv(t)
	db, dsn := mysqlDB(t)
	ctl := enginetest.Env(t, "SLUICE_TEST_MYSQL_CTL")
	os.Setenv("IT_MYSQL_DSN", dsn)
	const n = 30000
	in := k.topic("outage-in", 4)
	table := fmt.Sprintf("outage_%d", time.Now().UnixNano()%1e9)
	file := k.sqlPipeline(in, "g-"+in, dsn, table, "insert")
	p := k.start(file)
	go k.produce(in, 0, n, 15*time.Second, event)
	waitRows(t, db, table, n/10, time.Minute)
	down := 20 * time.Second
	if os.Getenv("SLUICE_TEST_QUICK") != "" {
		down = 8 * time.Second
	}
	// Whatever happens, leave the database running for the other tests.
	t.Cleanup(func() { exec.Command(ctl, "start").Run() })
	if out, err := exec.Command(ctl, "stop").CombinedOutput(); err != nil {
		t.Fatalf("stop the database: %v\n%s", err, out)
	}
	time.Sleep(down)
	if out, err := exec.Command(ctl, "start").CombinedOutput(); err != nil {
		t.Fatalf("start the database: %v\n%s", err, out)
	}
	waitRows(t, db, table, n, 3*time.Minute)
	p.stop(t)
	rows, distinct := rowCounts(t, db, table)
	if distinct != n {
		t.Fatalf("%d distinct ids of %d after the outage (%d rows)", distinct, n, rows)
	}
	if rows != n {
		t.Errorf("%d rows for %d ids", rows, n)
	}
	t.Logf("outage of %v: %d rows, none lost", down, rows)
}
