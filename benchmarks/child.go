package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sluicehq/sluice/benchmarks/reference"
	"github.com/sluicehq/sluice/engine/run"
)

// childFlag, as the first argument, makes the harness a measuring child:
// it reads a childJob from stdin, runs it, and prints a childResult as one
// JSON line on stdout. Each measurement runs in a child of its own, so that
// its CPU time and peak RSS are the run's alone.
const childFlag = "-child"

// isChild reports whether args (without the program name) ask for a child.
func isChild(args []string) bool { return len(args) >= 1 && args[0] == childFlag }

// childJob is what the harness asks a child to run.
type childJob struct {
	Scenario string            `json:"scenario"`
	Kind     childKind         `json:"kind"`
	Vars     map[string]string `json:"vars"`    // the ${BENCH_*} variables
	Records  int64             `json:"records"` // records the run must read
	Drain    bool              `json:"drain"`   // the source never ends: drain once Records are read
	Live     bool              `json:"live"`    // produced while it runs: see live.go
}

// childResult is what a child measured.
type childResult struct {
	Records int64    `json:"records"`                   // records read
	Bytes   int64    `json:"bytes"`                     // bytes of keys and values read
	Kept    int64    `json:"kept"`                      // records written to the sinks (kept by the reference)
	Seconds float64  `json:"seconds"`                   // wall time of the run alone
	Mallocs uint64   `json:"mallocs"`                   // heap allocations during the run
	PeakRSS int64    `json:"peak_rss_bytes,omitempty"`  // VmHWM of the process, where /proc has it
	AckP50  *float64 `json:"ack_p50_seconds,omitempty"` // pipelines: sluice_ack_latency_seconds
	AckP99  *float64 `json:"ack_p99_seconds,omitempty"`
	E2EP50  *float64 `json:"e2e_p50_seconds,omitempty"` // live runs: sluice_end_to_end_latency_seconds
	E2EP99  *float64 `json:"e2e_p99_seconds,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// childMain runs the job on stdin and reports on stdout; it returns the
// exit code.
func childMain(ctx context.Context, stdin io.Reader, stdout io.Writer) int {
	run.SetGCDefaults() // as sluice does
	var job childJob
	var res childResult
	dec := json.NewDecoder(stdin)
	err := dec.Decode(&job)
	if err == nil {
		if job.Live {
			res, err = measured(func() (childResult, error) { return runLive(ctx, job, dec, stdout) })
		} else {
			res, err = runJob(ctx, job)
		}
	}
	if err != nil {
		res.Error = err.Error()
	}
	res.PeakRSS = vmHWM()
	json.NewEncoder(stdout).Encode(res)
	if err != nil {
		return 1
	}
	return 0
}

// measured calls run and sets the allocations it made in its result.
func measured(run func() (childResult, error)) (childResult, error) {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	res, err := run()
	runtime.ReadMemStats(&m1)
	res.Mallocs = m1.Mallocs - m0.Mallocs
	return res, err
}

// runJob runs one measurement in this process.
func runJob(ctx context.Context, job childJob) (childResult, error) {
	return measured(func() (childResult, error) { return runOne(ctx, job) })
}

func runOne(ctx context.Context, job childJob) (childResult, error) {
	var res childResult
	start := time.Now()
	switch job.Kind {
	case kindPipeline:
		drainAt := int64(0)
		if job.Drain {
			drainAt = job.Records
		}
		sum, reg, err := runPipeline(ctx, job.Scenario, job.Vars, drainAt)
		if err != nil {
			return res, err
		}
		res.Records, res.Bytes, res.Seconds = sum.Read, sum.Bytes, sum.Elapsed.Seconds()
		for _, w := range sum.Written {
			res.Kept += w.Records
		}
		if sum.DeadLettered > 0 {
			return res, fmt.Errorf("%d records dead-lettered", sum.DeadLettered)
		}
		res.AckP50, res.AckP99 = histogramQuantiles(reg, "sluice_ack_latency_seconds", "")
	case kindHandwritten:
		st, err := reference.Run(ctx, job.Vars["BENCH_FILE"], runtime.GOMAXPROCS(0))
		if err != nil {
			return res, err
		}
		res.Seconds = time.Since(start).Seconds()
		res.Records, res.Bytes, res.Kept = st.Read, st.Bytes, st.Kept
		if st.Errors > 0 {
			return res, fmt.Errorf("%d records failed", st.Errors)
		}
	case kindSarama:
		n, size, err := saramaConsume(ctx, strings.Split(job.Vars["BENCH_KAFKA"], ","), job.Vars["BENCH_TOPIC"], job.Vars["BENCH_GROUP"], job.Records)
		res.Seconds = time.Since(start).Seconds()
		res.Records, res.Bytes, res.Kept = n, size, n
		if err != nil {
			return res, err
		}
	default:
		return res, fmt.Errorf("unknown kind %q", job.Kind)
	}
	if res.Records != job.Records {
		return res, fmt.Errorf("read %d records, want %d", res.Records, job.Records)
	}
	return res, nil
}

// histogramQuantiles returns the median and 99th percentile, in seconds,
// of the histogram name on reg (of component, if not ""), or nils when it
// has none.
func histogramQuantiles(reg *prometheus.Registry, name, component string) (p50, p99 *float64) {
	mfs, err := reg.Gather()
	if err != nil {
		return nil, nil
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if component != "" && !hasLabel(m.GetLabel(), "component", component) {
				continue
			}
			h := m.GetHistogram()
			if h.GetSampleCount() == 0 {
				continue
			}
			if v, ok := histogramQuantile(0.5, h); ok {
				p50 = &v
			}
			if v, ok := histogramQuantile(0.99, h); ok {
				p99 = &v
			}
			return p50, p99
		}
	}
	return nil, nil
}

func hasLabel(labels []*dto.LabelPair, name, value string) bool {
	for _, l := range labels {
		if l.GetName() == name {
			return l.GetValue() == value
		}
	}
	return false
}

// vmHWM returns the peak resident set size of this process in bytes, from
// /proc/self/status, or 0 where there is none. The harness cannot take it
// from the child's rusage on Linux: an exec'd process's ru_maxrss counts the
// peak of the memory image it replaced, and Go starts children with
// clone(CLONE_VM|CLONE_VFORK), so that image is the harness's own, and
// every child would report at least the harness's peak.
func vmHWM() int64 {
	f := strings.Fields(procField("/proc/self/status", "VmHWM")) // "123456 kB"
	if len(f) != 2 || f[1] != "kB" {
		return 0
	}
	kb, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0
	}
	return kb << 10
}
