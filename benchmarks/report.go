package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// report is what a harness run measured; it is written as JSON, so that a
// later run can be compared with it (-compare).
type report struct {
	Date      time.Time         `json:"date"`
	Machine   machine           `json:"machine"`
	Settings  settings          `json:"settings"`
	Scenarios []*scenarioResult `json:"scenarios"`
	Ratios    []ratio           `json:"ratios"`
	Compare   *comparison       `json:"compare,omitempty"`
}

// settings are the harness's flags.
type settings struct {
	Records      int64    `json:"records"`
	KafkaRecords int64    `json:"kafka_records"`
	Runs         int      `json:"runs"`
	LiveRate     int64    `json:"live_rate,omitempty"`
	LiveSeconds  float64  `json:"live_seconds,omitempty"`
	Scenarios    []string `json:"scenarios"`
}

// Statuses of a scenario.
const (
	statusOK      = "ok"
	statusSkipped = "skipped"
	statusFailed  = "failed"
)

// scenarioResult is one scenario's row: every run and their medians.
type scenarioResult struct {
	Name    string `json:"name"`
	Letter  string `json:"letter,omitempty"`
	Title   string `json:"title"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"` // why it was skipped or failed
	Records int64  `json:"records"`          // records each run reads
	// Median holds the median of each metric over the runs, taken
	// separately.
	Median           *metrics  `json:"median,omitempty"`
	RecordsPerSecMin float64   `json:"records_per_sec_min,omitempty"`
	RecordsPerSecMax float64   `json:"records_per_sec_max,omitempty"`
	Runs             []metrics `json:"runs"`

	s *scenario
}

// metrics are the measurements of one run (or their medians).
type metrics struct {
	Records         int64    `json:"records"`         // records read
	Kept            int64    `json:"kept"`            // records written to the sinks
	Seconds         float64  `json:"seconds"`         // wall time of the run alone
	RecordsPerSec   float64  `json:"records_per_sec"` // records / seconds
	MBPerSec        float64  `json:"mb_per_sec"`      // 10⁶ bytes of keys and values read / seconds
	CPUSeconds      float64  `json:"cpu_seconds"`     // user + system time of the child process
	CPUPerMRecords  float64  `json:"cpu_sec_per_m_records"`
	AckP50Ms        *float64 `json:"ack_p50_ms,omitempty"` // sluice_ack_latency_seconds, pipelines only
	AckP99Ms        *float64 `json:"ack_p99_ms,omitempty"`
	E2EP50Ms        *float64 `json:"e2e_p50_ms,omitempty"` // sluice_end_to_end_latency_seconds, live runs only
	E2EP99Ms        *float64 `json:"e2e_p99_ms,omitempty"`
	PeakRSSMiB      float64  `json:"peak_rss_mib"` // the child process's maximum resident set
	AllocsPerRecord float64  `json:"allocs_per_record"`
}

// ratio compares a Sluice scenario with its reference point.
type ratio struct {
	Scenario  string `json:"scenario"`
	Reference string `json:"reference"`
	// RecordsPerSec is the scenario's records/s ÷ the reference's: 0.5
	// means Sluice does half the reference's throughput.
	RecordsPerSec float64 `json:"records_per_sec,omitempty"`
	// CPUPerRecord is the scenario's CPU time per record ÷ the
	// reference's: 2 means Sluice spends twice the CPU on a record.
	CPUPerRecord float64 `json:"cpu_per_record,omitempty"`
	Reason       string  `json:"reason,omitempty"` // why there is no ratio
}

// comparison compares this run's records/s with an earlier run's.
type comparison struct {
	File      string          `json:"file"`
	Date      time.Time       `json:"date"`
	Commit    string          `json:"commit,omitempty"`
	Notes     []string        `json:"notes,omitempty"` // why the figures may not compare
	Scenarios []compareResult `json:"scenarios"`
}

type compareResult struct {
	Name  string  `json:"name"`
	Old   float64 `json:"old_records_per_sec"`
	New   float64 `json:"new_records_per_sec"`
	Ratio float64 `json:"ratio"` // new ÷ old
}

// newMetrics turns a child's result and its resource usage into metrics.
func newMetrics(res childResult, cpu time.Duration, peakRSS int64) metrics {
	m := metrics{Records: res.Records, Kept: res.Kept, Seconds: res.Seconds, CPUSeconds: cpu.Seconds(),
		PeakRSSMiB: float64(peakRSS) / (1 << 20)}
	if res.Seconds > 0 {
		m.RecordsPerSec = float64(res.Records) / res.Seconds
		m.MBPerSec = float64(res.Bytes) / res.Seconds / 1e6
	}
	if res.Records > 0 {
		m.CPUPerMRecords = m.CPUSeconds / float64(res.Records) * 1e6
		m.AllocsPerRecord = float64(res.Mallocs) / float64(res.Records)
	}
	ms := func(s *float64) *float64 {
		if s == nil {
			return nil
		}
		v := *s * 1000
		return &v
	}
	m.AckP50Ms, m.AckP99Ms = ms(res.AckP50), ms(res.AckP99)
	m.E2EP50Ms, m.E2EP99Ms = ms(res.E2EP50), ms(res.E2EP99)
	return m
}

// summarize sets the medians and the records/s range from the runs.
func (r *scenarioResult) summarize() {
	if len(r.Runs) == 0 {
		return
	}
	med := func(get func(metrics) float64) float64 {
		vs := make([]float64, 0, len(r.Runs))
		for _, m := range r.Runs {
			vs = append(vs, get(m))
		}
		return median(vs)
	}
	medPtr := func(get func(metrics) *float64) *float64 {
		var vs []float64
		for _, m := range r.Runs {
			if p := get(m); p != nil {
				vs = append(vs, *p)
			}
		}
		if len(vs) == 0 {
			return nil
		}
		v := median(vs)
		return &v
	}
	r.Median = &metrics{
		Records:         int64(med(func(m metrics) float64 { return float64(m.Records) })),
		Kept:            int64(med(func(m metrics) float64 { return float64(m.Kept) })),
		Seconds:         med(func(m metrics) float64 { return m.Seconds }),
		RecordsPerSec:   med(func(m metrics) float64 { return m.RecordsPerSec }),
		MBPerSec:        med(func(m metrics) float64 { return m.MBPerSec }),
		CPUSeconds:      med(func(m metrics) float64 { return m.CPUSeconds }),
		CPUPerMRecords:  med(func(m metrics) float64 { return m.CPUPerMRecords }),
		AckP50Ms:        medPtr(func(m metrics) *float64 { return m.AckP50Ms }),
		AckP99Ms:        medPtr(func(m metrics) *float64 { return m.AckP99Ms }),
		E2EP50Ms:        medPtr(func(m metrics) *float64 { return m.E2EP50Ms }),
		E2EP99Ms:        medPtr(func(m metrics) *float64 { return m.E2EP99Ms }),
		PeakRSSMiB:      med(func(m metrics) float64 { return m.PeakRSSMiB }),
		AllocsPerRecord: med(func(m metrics) float64 { return m.AllocsPerRecord }),
	}
	r.RecordsPerSecMin, r.RecordsPerSecMax = math.Inf(1), 0
	for _, m := range r.Runs {
		r.RecordsPerSecMin = min(r.RecordsPerSecMin, m.RecordsPerSec)
		r.RecordsPerSecMax = max(r.RecordsPerSecMax, m.RecordsPerSec)
	}
}

// median returns the median of vs (the mean of the middle two for an even
// count); it sorts vs.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// computeRatios compares each selected scenario that has a reference point
// with it.
func (rep *report) computeRatios() {
	rep.Ratios = nil
	for _, ref := range rep.Scenarios {
		if ref.s == nil {
			continue
		}
		for _, name := range ref.s.refFor {
			sc := rep.result(name)
			if sc == nil {
				continue
			}
			r := ratio{Scenario: sc.Name, Reference: ref.Name}
			switch {
			case sc.Status != statusOK:
				r.Reason = sc.Name + " " + sc.Status
			case ref.Status != statusOK:
				r.Reason = ref.Name + " " + ref.Status
			default:
				if ref.Median.RecordsPerSec > 0 {
					r.RecordsPerSec = sc.Median.RecordsPerSec / ref.Median.RecordsPerSec
				}
				if ref.Median.CPUPerMRecords > 0 {
					r.CPUPerRecord = sc.Median.CPUPerMRecords / ref.Median.CPUPerMRecords
				}
			}
			rep.Ratios = append(rep.Ratios, r)
		}
	}
}

// result returns the result of the scenario called name, or nil.
func (rep *report) result(name string) *scenarioResult {
	for _, r := range rep.Scenarios {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// loadReport reads a report written by an earlier run.
func loadReport(path string) (*report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &rep, nil
}

// compareWith sets rep.Compare from an earlier report.
func (rep *report) compareWith(path string, old *report) {
	c := &comparison{File: path, Date: old.Date, Commit: old.Machine.Commit}
	if o, n := old.Settings, rep.Settings; o.Records != n.Records || o.KafkaRecords != n.KafkaRecords {
		c.Notes = append(c.Notes, fmt.Sprintf("records per scenario differ: %d (Kafka %d) then, %d (Kafka %d) now",
			o.Records, o.KafkaRecords, n.Records, n.KafkaRecords))
	}
	if o, n := old.Machine, rep.Machine; o.GOOS != n.GOOS || o.GOARCH != n.GOARCH || o.NumCPU != n.NumCPU || o.CPUModel != n.CPUModel {
		c.Notes = append(c.Notes, fmt.Sprintf("another machine: %s/%s, %d CPUs (%s) then", o.GOOS, o.GOARCH, o.NumCPU, orDash(o.CPUModel)))
	}
	for _, r := range rep.Scenarios {
		o := old.result(r.Name)
		if r.Status != statusOK || o == nil || o.Status != statusOK || o.Median == nil || o.Median.RecordsPerSec == 0 {
			continue
		}
		c.Scenarios = append(c.Scenarios, compareResult{Name: r.Name, Old: o.Median.RecordsPerSec,
			New: r.Median.RecordsPerSec, Ratio: r.Median.RecordsPerSec / o.Median.RecordsPerSec})
	}
	rep.Compare = c
}

// writeJSON writes rep, indented, to path.
func writeJSON(path string, rep *report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// columnsNote says what the columns mean; the README says the same.
const columnsNote = `records/s   source records read per second of the run's wall time: from the start of
            the pipeline (or reference program) to its end, connecting and joining the
            consumer group included; the set-up (input files, Kafka topic, tables) is not.
MB/s        10^6 bytes of record keys and values read per second.
CPU s/M rec user+system CPU seconds of the measuring process, which does the run and
            nothing else, per million records read (2 = two seconds of one core).
ack p50/p99 the pipeline's own latency (sluice_ack_latency_seconds): from the source
            reading a batch until every record of it is durable in its sinks (or
            filtered) and the batch is acknowledged; median and 99th percentile over the
            run's batches, from native-histogram buckets about 9% wide.
e2e p50/p99 event time to durable (sluice_end_to_end_latency_seconds of the sink), over
            the records written; only for kafka-live-latency, whose events are produced
            while it runs, each stamped as it is produced (the other scenarios read a
            backlog made beforehand, whose event times say nothing of the pipeline).
            Its records/s is the production rate (-live-rate).
peak RSS    the measuring process's maximum resident set size.
allocs/rec  heap allocations during the run per record read.`

// printTable writes the table, the ratios and the comparison for people.
func (rep *report) printTable(w io.Writer) {
	m := rep.Machine
	fmt.Fprintf(w, "Sluice benchmarks, %s, %s/%s, %d CPUs (%s), %s, commit %s\n",
		rep.Date.Format("2006-01-02 15:04 MST"), m.GOOS, m.GOARCH, m.NumCPU, orDash(m.CPUModel), m.GoVersion, shortCommit(m.Commit))
	fmt.Fprintf(w, "%d records per file scenario, %d per Kafka scenario; median of %d run(s), records/s min–max\n\n",
		rep.Settings.Records, rep.Settings.KafkaRecords, rep.Settings.Runs)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\trecords\trecords/s\t(min–max)\tMB/s\tCPU s/M rec\tack p50\tack p99\te2e p50\te2e p99\tpeak RSS\tallocs/rec")
	var rest []*scenarioResult
	for _, r := range rep.Scenarios {
		if r.Status != statusOK {
			rest = append(rest, r)
			continue
		}
		md := r.Median
		fmt.Fprintf(tw, "%s\t%d\t%s\t(%s–%s)\t%.1f\t%.2f\t%s\t%s\t%s\t%s\t%.0f MiB\t%.1f\n",
			r.s.label(), r.Records, fmtRate(md.RecordsPerSec), fmtRate(r.RecordsPerSecMin), fmtRate(r.RecordsPerSecMax),
			md.MBPerSec, md.CPUPerMRecords, fmtMs(md.AckP50Ms), fmtMs(md.AckP99Ms), fmtMs(md.E2EP50Ms), fmtMs(md.E2EP99Ms),
			md.PeakRSSMiB, md.AllocsPerRecord)
	}
	// Rows without figures come last: their message is not a column.
	for _, r := range rest {
		fmt.Fprintf(tw, "%s\t%s: %s\n", r.s.label(), r.Status, r.Reason)
	}
	tw.Flush()

	if len(rep.Ratios) > 0 {
		fmt.Fprintln(w, "\nratios (Sluice ÷ reference, medians)")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, r := range rep.Ratios {
			name := scenarioByName(r.Scenario).label() + " ÷ " + r.Reference
			if r.Reason != "" {
				fmt.Fprintf(tw, "  %s\tno ratio: %s\n", name, r.Reason)
				continue
			}
			fmt.Fprintf(tw, "  %s\trecords/s ×%.2f\tCPU per record ×%.2f\n", name, r.RecordsPerSec, r.CPUPerRecord)
		}
		tw.Flush()
	}
	if c := rep.Compare; c != nil {
		fmt.Fprintf(w, "\ncompared with %s (%s, commit %s): records/s\n", c.File, c.Date.Format("2006-01-02 15:04 MST"), shortCommit(c.Commit))
		for _, n := range c.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  scenario\tbefore\tnow\tnow ÷ before")
		for _, s := range c.Scenarios {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t×%.2f\n", scenarioLabel(s.Name), fmtRate(s.Old), fmtRate(s.New), s.Ratio)
		}
		tw.Flush()
		if len(c.Scenarios) == 0 {
			fmt.Fprintln(w, "  no scenario measured in both runs")
		}
	}
	fmt.Fprintf(w, "\n%s\n", columnsNote)
}

// scenarioLabel is the table label of a scenario name, known or not.
func scenarioLabel(name string) string {
	if s := scenarioByName(name); s != nil {
		return s.label()
	}
	return "  " + name
}

// shortCommit is a commit hash cut to 12 digits, -dirty kept.
func shortCommit(c string) string {
	if c == "" {
		return "–"
	}
	h, dirty, _ := strings.Cut(c, "-")
	if len(h) > 12 {
		h = h[:12]
	}
	if dirty != "" {
		h += "-" + dirty
	}
	return h
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// fmtRate writes a rate with three significant digits: 412k, 1.23M.
func fmtRate(v float64) string {
	switch {
	case v >= 1e6:
		return sig3(v/1e6) + "M"
	case v >= 1e3:
		return sig3(v/1e3) + "k"
	}
	return sig3(v)
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// fmtMs writes a latency given in milliseconds: 0.84 ms, 35.1 ms, 1.30 s;
// – when there is none.
func fmtMs(v *float64) string {
	switch {
	case v == nil:
		return "–"
	case *v >= 1000:
		return sig3(*v/1000) + " s"
	}
	return sig3(*v) + " ms"
}
