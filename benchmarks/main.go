package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Defaults of the flags.
const (
	defaultRecords      = 1_000_000
	defaultKafkaRecords = 1_000_000
	defaultRuns         = 3
	defaultLiveRate     = 50_000
	defaultLiveSeconds  = 10
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if isChild(os.Args[1:]) {
		os.Exit(childMain(ctx, os.Stdin, os.Stdout))
	}
	err := runHarness(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// harness is one invocation of the benchmark harness.
type harness struct {
	records, kafkaRecords int64
	liveRate              int64
	liveSeconds           float64
	runs                  int
	out, compare          string
	timeout               time.Duration
	selected              []*scenario
	log                   io.Writer // progress
}

// runHarness parses args, runs the selected scenarios and writes the
// table to stdout and progress to stderr. It returns an error if a
// scenario failed, after writing the results.
func runHarness(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	h, err := parseFlags(args, stderr)
	if err != nil || h == nil {
		return err
	}
	rep, err := h.run(ctx)
	if err != nil {
		return err
	}
	rep.printTable(stdout)

	stamp := rep.Date.Format("20060102T150405Z")
	jsonPath := filepath.Join(h.out, "bench-"+stamp+".json")
	pngPath := filepath.Join(h.out, "bench-"+stamp+".png")
	errs := []error{writeJSON(jsonPath, rep), writeJSON(filepath.Join(h.out, "latest.json"), rep), writeChart(pngPath, rep)}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s (and latest.json) and %s\n", jsonPath, pngPath)
	var failed []string
	for _, r := range rep.Scenarios {
		if r.Status == statusFailed {
			failed = append(failed, r.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

func parseFlags(args []string, stderr io.Writer) (*harness, error) {
	fs := flag.NewFlagSet("benchmarks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	h := &harness{log: stderr}
	var names string
	var list bool
	fs.StringVar(&names, "scenarios", "all", "comma-separated scenario names or letters (a-f); a scenario's reference point is added with it")
	fs.Int64Var(&h.records, "records", defaultRecords, "records each file, Parquet and generate scenario reads")
	fs.Int64Var(&h.kafkaRecords, "kafka-records", 0, fmt.Sprintf("records in the Kafka topic (default: -records if set, else %d)", defaultKafkaRecords))
	fs.Int64Var(&h.liveRate, "live-rate", defaultLiveRate, "events a second the live scenario produces")
	fs.Float64Var(&h.liveSeconds, "live-seconds", defaultLiveSeconds, "seconds the live scenario produces for")
	fs.IntVar(&h.runs, "runs", defaultRuns, "runs of each scenario; the table shows medians")
	fs.StringVar(&h.out, "out", "", "directory of the JSON and PNG results (default benchmarks/out of this module)")
	fs.StringVar(&h.compare, "compare", "", "a JSON result of an earlier run to compare records/s with")
	fs.DurationVar(&h.timeout, "timeout", 15*time.Minute, "longest time one run may take")
	fs.BoolVar(&list, "list", false, "list the scenarios and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./benchmarks [flags]\n\n"+
			"Runs Sluice's end-to-end benchmark scenarios, each run in a process of its own, and prints\n"+
			"one table; writes it as JSON and a PNG chart to -out. Scenarios that need servers read them\n"+
			"from SLUICE_TEST_KAFKA, SLUICE_TEST_MYSQL and SLUICE_TEST_S3_URL (.ci/bench starts them)\n"+
			"and are skipped without them.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if list {
		for _, s := range scenarios {
			fmt.Fprintf(stderr, "%-28s %s\n", s.label(), s.title)
		}
		return nil, nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if h.kafkaRecords == 0 {
		h.kafkaRecords = defaultKafkaRecords
		if set["records"] {
			h.kafkaRecords = h.records
		}
	}
	if h.records < 1 || h.kafkaRecords < 1 || h.runs < 1 || h.liveRate < 1 || h.liveSeconds <= 0 {
		return nil, errors.New("-records, -kafka-records, -runs, -live-rate and -live-seconds must be positive")
	}
	sel, err := selectScenarios(names)
	if err != nil {
		return nil, err
	}
	h.selected = sel
	if h.out == "" {
		h.out = filepath.Join("benchmarks", "out")
		if root := moduleRoot(); root != "" {
			h.out = filepath.Join(root, "benchmarks", "out")
		}
	}
	return h, nil
}

// selectScenarios returns the scenarios named in the comma-separated list
// (all for "all" or ""), with their reference points, in table order.
func selectScenarios(list string) ([]*scenario, error) {
	want := map[*scenario]bool{}
	for n := range strings.SplitSeq(list, ",") {
		n = strings.TrimSpace(n)
		switch n {
		case "":
		case "all":
			for _, s := range scenarios {
				want[s] = true
			}
		default:
			s := scenarioByName(n)
			if s == nil {
				var known []string
				for _, s := range scenarios {
					known = append(known, s.name)
				}
				return nil, fmt.Errorf("unknown scenario %q; known: a-f, %s", n, strings.Join(known, ", "))
			}
			want[s] = true
		}
	}
	if len(want) == 0 {
		return selectScenarios("all")
	}
	var out []*scenario
	for _, s := range scenarios {
		if want[s] || slices.ContainsFunc(s.refFor, func(name string) bool { return want[scenarioByName(name)] }) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.log, "bench: "+format+"\n", args...)
}

// run prepares the inputs, runs every selected scenario h.runs times,
// interleaved (run 1 of each, then run 2 of each, ...), and returns the
// report.
func (h *harness) run(ctx context.Context) (*report, error) {
	if err := os.MkdirAll(h.out, 0o755); err != nil {
		return nil, err
	}
	useS3Credentials()
	rep := &report{Date: time.Now().UTC().Truncate(time.Second), Machine: thisMachine(moduleRoot()),
		Settings: settings{Records: h.records, KafkaRecords: h.kafkaRecords, Runs: h.runs, LiveRate: h.liveRate, LiveSeconds: h.liveSeconds}}
	var compareTo *report
	if h.compare != "" {
		var err error
		if compareTo, err = loadReport(h.compare); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp(h.out, "data-")
	if err != nil {
		return nil, err
	}
	f := newFixture(dir, h.records, h.kafkaRecords, rep.Date.Format("20060102t150405"))
	f.liveRate, f.liveRecords = h.liveRate, int64(float64(h.liveRate)*h.liveSeconds)
	defer func() {
		if err := f.tearDown(); err != nil {
			h.logf("cleaning up: %v", err)
		}
	}()

	// Skip what lacks its servers; prepare each input the others read.
	for _, s := range h.selected {
		rep.Settings.Scenarios = append(rep.Settings.Scenarios, s.name)
		r := &scenarioResult{Name: s.name, Letter: s.letter, Title: s.title, Status: statusOK, Records: f.recordsOf(s), s: s}
		if miss := s.missing(); len(miss) > 0 {
			r.Status, r.Reason = statusSkipped, strings.Join(miss, ", ")+" not set (start servers with .ci/bench)"
		}
		rep.Scenarios = append(rep.Scenarios, r)
	}
	for _, in := range []inputKind{inputFile, inputParquet, inputKafka} {
		var users []*scenarioResult
		for _, r := range rep.Scenarios {
			if r.Status == statusOK && r.s.input == in {
				users = append(users, r)
			}
		}
		if len(users) == 0 {
			continue
		}
		start := time.Now()
		h.logf("preparing the %s ...", inputName(in, f))
		err := f.setUp(ctx, in)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			h.logf("preparing the %s: %v", inputName(in, f), err)
			for _, r := range users {
				r.Status, r.Reason = statusFailed, "set-up: "+err.Error()
			}
			continue
		}
		h.logf("prepared the %s in %s", inputName(in, f), time.Since(start).Round(time.Millisecond))
	}
	for round := 1; round <= h.runs; round++ {
		for _, r := range rep.Scenarios {
			if r.Status != statusOK {
				continue
			}
			m, err := h.measure(ctx, f, r.s)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err != nil {
				h.logf("[%d/%d] %s: %v", round, h.runs, r.Name, err)
				r.Status, r.Reason = statusFailed, err.Error()
				continue
			}
			h.logf("[%d/%d] %s: %d records in %.2fs, %s records/s, %.2f CPU s", round, h.runs, r.Name,
				m.Records, m.Seconds, fmtRate(m.RecordsPerSec), m.CPUSeconds)
			r.Runs = append(r.Runs, m)
		}
	}
	for _, r := range rep.Scenarios {
		if r.Status == statusOK {
			r.summarize()
		}
	}
	rep.computeRatios()
	if compareTo != nil {
		rep.compareWith(h.compare, compareTo)
	}
	if r := rep.result("jsonl-filter-set-drop"); r != nil && r.Median != nil {
		if ref := rep.result("reference-handwritten"); ref != nil && ref.Median != nil && ref.Median.Kept != r.Median.Kept {
			h.logf("warning: the hand-written reference kept %d records, Sluice %d: they do not do the same work", ref.Median.Kept, r.Median.Kept)
		}
	}
	return rep, nil
}

// inputName says what an input is, for the progress lines.
func inputName(in inputKind, f *fixture) string {
	switch in {
	case inputFile:
		return fmt.Sprintf("JSONL file (%d events)", f.records)
	case inputParquet:
		return fmt.Sprintf("Parquet files (%d events)", f.records)
	case inputKafka:
		return fmt.Sprintf("Kafka topic %s (%d events, 8 partitions)", f.topic, f.kafkaRecords)
	}
	return "input"
}

// measure runs scenario s once in a child process, with the set-up and
// clean-up of the run around it in this one.
func (h *harness) measure(ctx context.Context, f *fixture, s *scenario) (metrics, error) {
	if s.input == inputLive {
		return h.measureLive(ctx, f, s)
	}
	vars, cleanup, err := s.prepare(ctx, f, f.nextID())
	if err != nil {
		return metrics{}, fmt.Errorf("set-up: %w", err)
	}
	defer cleanup()
	job := childJob{Scenario: s.name, Kind: s.kind, Vars: vars, Records: f.recordsOf(s), Drain: s.input == inputKafka}
	in, err := json.Marshal(job)
	if err != nil {
		return metrics{}, err
	}
	exe, err := os.Executable()
	if err != nil {
		return metrics{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, childFlag, s.name)
	cmd.Stdin = bytes.NewReader(in)
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	cmd.WaitDelay = 10 * time.Second
	runErr := cmd.Run()
	return h.childMetrics(ctx, cmd, stdout.String(), runErr, stderr)
}

// childMetrics reads the result a child printed last on stdout, and its
// resource usage, once it has exited.
func (h *harness) childMetrics(ctx context.Context, cmd *exec.Cmd, stdout string, runErr error, stderr *tailBuffer) (metrics, error) {
	var res childResult
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	jsonErr := json.Unmarshal([]byte(lines[len(lines)-1]), &res)
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return metrics{}, fmt.Errorf("no result after %s (-timeout)", h.timeout)
	case res.Error != "":
		return metrics{}, errors.New(res.Error)
	case runErr != nil || jsonErr != nil:
		return metrics{}, fmt.Errorf("child: %v %v; stderr: %s", runErr, jsonErr, strings.TrimSpace(stderr.String()))
	}
	ps := cmd.ProcessState
	rss := res.PeakRSS
	if rss == 0 {
		rss = peakRSS(ps)
	}
	return newMetrics(res, ps.UserTime()+ps.SystemTime(), rss), nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = slices.Clone(t.b[len(t.b)-t.max:])
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// useS3Credentials makes the test S3 server's credentials the AWS ones of
// this process and its children, unless AWS credentials are set.
func useS3Credentials() {
	if os.Getenv("AWS_ACCESS_KEY_ID") != "" || os.Getenv("SLUICE_TEST_S3_ACCESS_KEY") == "" {
		return
	}
	os.Setenv("AWS_ACCESS_KEY_ID", os.Getenv("SLUICE_TEST_S3_ACCESS_KEY"))
	os.Setenv("AWS_SECRET_ACCESS_KEY", os.Getenv("SLUICE_TEST_S3_SECRET_KEY"))
	if os.Getenv("AWS_REGION") == "" {
		os.Setenv("AWS_REGION", "us-east-1")
	}
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
