package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	_ "github.com/go-sql-driver/mysql" // the MariaDB scenario's tables
	"gocloud.dev/blob"

	"github.com/sluicehq/sluice/internal/bucket"
)

// inputKind is the data a scenario reads, which the harness prepares once
// before measuring.
type inputKind int

const (
	inputGenerate inputKind = iota // none: the generate source makes it
	inputFile                      // the JSONL object of the benchmark events
	inputParquet                   // Parquet objects of the same events
	inputKafka                     // a topic filled with the benchmark events
	inputLive                      // an empty topic per run, produced into while it runs (live.go)
)

// childKind is what a measuring child process runs.
type childKind string

const (
	kindPipeline    childKind = "pipeline"    // the scenario's pipeline.yaml
	kindHandwritten childKind = "handwritten" // benchmarks/reference.Run
	kindSarama      childKind = "sarama"      // saramaConsume
)

// Environment variables of the servers .ci/run and .ci/bench start.
const (
	envKafka = "SLUICE_TEST_KAFKA"
	envMySQL = "SLUICE_TEST_MYSQL"
	envS3URL = "SLUICE_TEST_S3_URL"
)

// scenario is one measured thing: a directory benchmarks/<name>/ with a
// pipeline.yaml and a README, or a reference point.
type scenario struct {
	name   string
	letter string // a to f: the scenarios of the issue that set the harness up
	title  string
	kind   childKind
	input  inputKind
	needs  []string // environment variables naming the servers it uses
	refFor []string // for a reference point: the scenarios it is compared with
	// prepare returns the ${BENCH_*} variables of one run, whose id is
	// unique, and a function that removes what the run made. It runs in
	// the harness, before the measured child process starts.
	prepare func(ctx context.Context, f *fixture, id string) (map[string]string, func(), error)
}

// scenarios are every scenario, in the table's order.
var scenarios = []*scenario{
	{name: "jsonl-filter-set-drop", letter: "a", title: "JSONL file → filter → set → drop",
		kind: kindPipeline, input: inputFile, prepare: prepareLake},
	{name: "jsonl-filter-set-jsonl", letter: "b", title: "JSONL file → filter → set → JSONL file",
		kind: kindPipeline, input: inputFile, prepare: prepareLakeOut},
	{name: "kafka-filter-set-drop", letter: "c", title: "Kafka → filter → set → drop",
		kind: kindPipeline, input: inputKafka, needs: []string{envKafka}, prepare: prepareKafka},
	{name: "kafka-to-parquet-s3", letter: "d", title: "Kafka → filter → set → Parquet on S3",
		kind: kindPipeline, input: inputKafka, needs: []string{envKafka, envS3URL}, prepare: prepareS3},
	{name: "kafka-to-mariadb", letter: "e", title: "Kafka → filter → set → MariaDB upsert",
		kind: kindPipeline, input: inputKafka, needs: []string{envKafka, envMySQL}, prepare: prepareMariaDB},
	{name: "jsonl-to-parquet", letter: "f", title: "JSONL file → Parquet files (backfill)",
		kind: kindPipeline, input: inputFile, prepare: prepareLakeOut},
	{name: "parquet-drop", title: "Parquet files → drop",
		kind: kindPipeline, input: inputParquet, prepare: prepareParquet},
	{name: "generate-filter-set-drop", title: "generate → filter → set → drop (no I/O)",
		kind: kindPipeline, input: inputGenerate, prepare: prepareGenerate},
	{name: "kafka-drop", title: "Kafka → drop (no transform)",
		kind: kindPipeline, input: inputKafka, needs: []string{envKafka}, prepare: prepareKafka},
	{name: "kafka-live-latency", title: "Kafka at a steady rate → filter → set → drop: event time to durable",
		kind: kindPipeline, input: inputLive, needs: []string{envKafka}, prepare: prepareLive},
	{name: "reference-handwritten", title: "hand-written Go program doing (a)",
		kind: kindHandwritten, input: inputFile, refFor: []string{"jsonl-filter-set-drop"}, prepare: prepareHandwritten},
	{name: "reference-sarama", title: "raw sarama consumer group, no processing",
		kind: kindSarama, input: inputKafka, needs: []string{envKafka}, refFor: []string{"kafka-filter-set-drop", "kafka-drop"}, prepare: prepareKafka},
}

// scenarioByName returns the scenario called name, or with that letter.
func scenarioByName(name string) *scenario {
	for _, s := range scenarios {
		if s.name == name || (s.letter != "" && s.letter == name) {
			return s
		}
	}
	return nil
}

// missing returns the variables of s.needs that are not set.
func (s *scenario) missing() []string {
	var out []string
	for _, k := range s.needs {
		if os.Getenv(k) == "" {
			out = append(out, k)
		}
	}
	return out
}

// label is the scenario's name in the table: its letter and name.
func (s *scenario) label() string {
	if s.letter != "" {
		return s.letter + " " + s.name
	}
	return "  " + s.name
}

// fixture is the data and servers the scenarios share: the input made once
// by setUp, and the servers named by the SLUICE_TEST_* variables.
type fixture struct {
	dir          string // scratch directory, removed by tearDown
	records      int64  // events of the file, Parquet and generate inputs
	kafkaRecords int64  // events in the Kafka topic
	liveRate     int64  // events a second of a live run
	liveRecords  int64  // events a live run measures

	jsonl      string // path of the one JSONL object: DIR/lake/jsonl/events.jsonl
	jsonlBytes int64
	lake       string // file:// URL of the bucket that holds it
	parquet    string // file:// URL of a bucket with the same events as Parquet under parquet/

	brokers []string // SLUICE_TEST_KAFKA
	topic   string   // filled with kafkaRecords events
	made    bool     // the topic was created
	mysql   string   // SLUICE_TEST_MYSQL
	s3      string   // SLUICE_TEST_S3_URL

	stamp string // makes names unique to this harness run
	seq   atomic.Int64
}

// newFixture returns a fixture in dir reading the servers from the
// environment; nothing is made yet.
func newFixture(dir string, records, kafkaRecords int64, stamp string) *fixture {
	f := &fixture{dir: dir, records: records, kafkaRecords: kafkaRecords, stamp: stamp,
		mysql: os.Getenv(envMySQL), s3: os.Getenv(envS3URL)}
	if k := os.Getenv(envKafka); k != "" {
		f.brokers = strings.Split(k, ",")
	}
	f.jsonl = filepath.Join(dir, "lake", "jsonl", "events.jsonl")
	f.lake = fileURL(filepath.Join(dir, "lake"))
	f.parquet = fileURL(filepath.Join(dir, "parquet-lake"))
	f.topic = "sluice-bench-" + stamp
	return f
}

// fileURL is the file:// bucket URL of a local directory.
func fileURL(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return "file://" + filepath.ToSlash(abs)
}

// nextID returns a name unique to this harness run.
func (f *fixture) nextID() string {
	return fmt.Sprintf("%s-%d", f.stamp, f.seq.Add(1))
}

// setUp makes the input of kind once.
func (f *fixture) setUp(ctx context.Context, kind inputKind) error {
	switch kind {
	case inputFile:
		if f.jsonlBytes > 0 {
			return nil
		}
		n, err := writeJSONL(ctx, f.jsonl, f.records)
		f.jsonlBytes = n
		return err
	case inputParquet:
		if err := f.setUp(ctx, inputFile); err != nil {
			return err
		}
		vars := map[string]string{"BENCH_LAKE": f.lake, "BENCH_OUT": f.parquet}
		sum, _, err := runPipeline(ctx, "jsonl-to-parquet", vars, 0)
		if err == nil && sum.Read != f.records {
			err = fmt.Errorf("read %d records, want %d", sum.Read, f.records)
		}
		if err != nil {
			return fmt.Errorf("write the Parquet input: %w", err)
		}
		return nil
	case inputKafka:
		if err := createTopic(f.brokers, f.topic, 8); err != nil {
			return err
		}
		f.made = true
		_, err := produceEvents(ctx, f.brokers, f.topic, f.kafkaRecords)
		return err
	}
	return nil
}

// tearDown removes the scratch directory and the topic.
func (f *fixture) tearDown() error {
	var errs []error
	if f.made {
		errs = append(errs, deleteTopic(f.brokers, f.topic))
	}
	errs = append(errs, os.RemoveAll(f.dir))
	return errors.Join(errs...)
}

// recordsOf returns how many records a run of s reads.
func (f *fixture) recordsOf(s *scenario) int64 {
	switch s.input {
	case inputKafka:
		return f.kafkaRecords
	case inputLive:
		return f.liveRecords
	}
	return f.records
}

func nothing() {}

func prepareLake(_ context.Context, f *fixture, _ string) (map[string]string, func(), error) {
	return map[string]string{"BENCH_LAKE": f.lake}, nothing, nil
}

func prepareLakeOut(_ context.Context, f *fixture, id string) (map[string]string, func(), error) {
	out := filepath.Join(f.dir, "out-"+id)
	return map[string]string{"BENCH_LAKE": f.lake, "BENCH_OUT": fileURL(out)}, func() { os.RemoveAll(out) }, nil
}

func prepareParquet(_ context.Context, f *fixture, _ string) (map[string]string, func(), error) {
	return map[string]string{"BENCH_LAKE": f.parquet}, nothing, nil
}

func prepareGenerate(_ context.Context, f *fixture, _ string) (map[string]string, func(), error) {
	return map[string]string{"BENCH_COUNT": fmt.Sprint(f.records)}, nothing, nil
}

func prepareHandwritten(_ context.Context, f *fixture, _ string) (map[string]string, func(), error) {
	return map[string]string{"BENCH_FILE": f.jsonl}, nothing, nil
}

// prepareKafka gives each run a new consumer group, so that it reads the
// whole topic.
func prepareKafka(_ context.Context, f *fixture, id string) (map[string]string, func(), error) {
	return map[string]string{
		"BENCH_KAFKA": strings.Join(f.brokers, ","),
		"BENCH_TOPIC": f.topic,
		"BENCH_GROUP": "sluice-bench-" + id,
	}, nothing, nil
}

// prepareS3 writes each run under its own prefix of the test bucket, and
// deletes it afterwards.
func prepareS3(ctx context.Context, f *fixture, id string) (map[string]string, func(), error) {
	vars, _, _ := prepareKafka(ctx, f, id)
	prefix := "sluice-bench/" + id + "/"
	vars["BENCH_S3_URL"] = f.s3
	vars["BENCH_PREFIX"] = prefix
	return vars, func() { deletePrefix(context.Background(), f.s3, prefix) }, nil
}

// deletePrefix deletes the objects under prefix, as far as it can.
func deletePrefix(ctx context.Context, url, prefix string) {
	b, err := bucket.Open(ctx, url)
	if err != nil {
		return
	}
	defer b.Close()
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(ctx)
		if err != nil {
			return
		}
		b.Delete(ctx, o.Key)
	}
}

// mariaDBTable is the table of the MariaDB scenario: the kept events,
// upserted on event_id (see kafka-to-mariadb/pipeline.yaml).
const mariaDBTable = `CREATE TABLE %s (
  event_id VARCHAR(32) NOT NULL PRIMARY KEY,
  event VARCHAR(16) NOT NULL,
  ts DATETIME(3) NOT NULL,
  day DATE NOT NULL,
  player_id BIGINT NOT NULL,
  match_id BIGINT NOT NULL,
  region VARCHAR(16) NOT NULL,
  platform VARCHAR(16) NOT NULL,
  latency_ms DOUBLE NOT NULL,
  score INT NOT NULL,
  level INT NOT NULL
) ENGINE=InnoDB`

// prepareMariaDB creates an empty table for each run, and drops it
// afterwards.
func prepareMariaDB(ctx context.Context, f *fixture, id string) (map[string]string, func(), error) {
	vars, _, _ := prepareKafka(ctx, f, id)
	table := "bench_events_" + strings.NewReplacer("-", "_").Replace(id)
	db, err := sql.Open("mysql", f.mysql)
	if err != nil {
		return nil, nil, err
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(mariaDBTable, table)); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("create table %s: %w", table, err)
	}
	vars["BENCH_MYSQL_DSN"] = f.mysql
	vars["BENCH_TABLE"] = table
	return vars, func() {
		db.Exec("DROP TABLE IF EXISTS " + table)
		db.Close()
	}, nil
}
