package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/engine/enginetest"
)

// TestHarnessSmoke runs the harness as `go run ./benchmarks -records 5000
// -runs 1` would, its children being this test binary (see TestMain), and
// checks the JSON and the chart: every scenario whose servers are there
// ran and read every record, the others were skipped for that reason.
// Under CI=true the servers must be there.
func TestHarnessSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every scenario")
	}
	if os.Getenv("CI") == "true" {
		for _, k := range []string{envKafka, envMySQL, envS3URL} {
			enginetest.Env(t, k)
		}
	}
	const records = 5000
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := runHarness(t.Context(), []string{"-records", "5000", "-runs", "1", "-live-rate", "5000", "-live-seconds", "1", "-out", out}, &stdout, &stderr)
	t.Logf("table:\n%s", stdout.String())
	if err != nil {
		t.Fatalf("harness: %v\n%s", err, stderr.String())
	}
	rep, err := loadReport(filepath.Join(out, "latest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Settings.Records != records || rep.Settings.KafkaRecords != records || rep.Machine.NumCPU == 0 {
		t.Errorf("settings %+v, machine %+v", rep.Settings, rep.Machine)
	}
	for _, s := range scenarios {
		r := rep.result(s.name)
		switch {
		case r == nil:
			t.Errorf("%s: not in the report", s.name)
		case len(s.missing()) > 0:
			if r.Status != statusSkipped || !strings.Contains(r.Reason, s.missing()[0]) {
				t.Errorf("%s: status %s (%s), want skipped for %s", s.name, r.Status, r.Reason, s.missing()[0])
			}
			if !strings.Contains(stdout.String(), "skipped: "+r.Reason) {
				t.Errorf("%s: the table does not say why it was skipped", s.name)
			}
		case r.Status != statusOK || r.Median == nil || len(r.Runs) != 1:
			t.Errorf("%s: status %s (%s), %d runs", s.name, r.Status, r.Reason, len(r.Runs))
		default:
			m := r.Median
			if m.Records != records || m.RecordsPerSec <= 0 || m.MBPerSec <= 0 || m.CPUPerMRecords <= 0 || m.PeakRSSMiB <= 0 || m.Kept <= 0 {
				t.Errorf("%s: %+v", s.name, m)
			}
			if s.kind == kindPipeline && (m.AckP50Ms == nil || m.AckP99Ms == nil || *m.AckP99Ms < *m.AckP50Ms) {
				t.Errorf("%s: ack latency p50 %v p99 %v", s.name, m.AckP50Ms, m.AckP99Ms)
			}
			// Event time to durable, only where events are produced live:
			// more than nothing, less than the run.
			live := s.input == inputLive
			if e2e := m.E2EP50Ms != nil && m.E2EP99Ms != nil; e2e != live {
				t.Errorf("%s: end-to-end latency p50 %v p99 %v", s.name, m.E2EP50Ms, m.E2EP99Ms)
			} else if live && (*m.E2EP50Ms <= 0 || *m.E2EP99Ms < *m.E2EP50Ms || *m.E2EP99Ms > 60e3) {
				t.Errorf("%s: end-to-end latency p50 %v p99 %v ms", s.name, *m.E2EP50Ms, *m.E2EP99Ms)
			}
			if !strings.Contains(stdout.String(), s.label()) {
				t.Errorf("%s: not in the table", s.name)
			}
		}
	}
	if len(rep.Ratios) != 3 {
		t.Errorf("ratios %+v, want 3", rep.Ratios)
	}
	if r := rep.result("reference-handwritten"); r != nil && r.Median != nil {
		if a := rep.result("jsonl-filter-set-drop"); a.Median == nil || a.Median.Kept != r.Median.Kept {
			t.Errorf("the hand-written reference kept %d records, Sluice %v", r.Median.Kept, a.Median)
		}
	}
	pngs, _ := filepath.Glob(filepath.Join(out, "bench-*.png"))
	jsons, _ := filepath.Glob(filepath.Join(out, "bench-*.json"))
	if len(pngs) != 1 || len(jsons) != 1 {
		t.Fatalf("results %v %v", pngs, jsons)
	}
	f, err := os.Open(pngs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if cfg, err := png.DecodeConfig(f); err != nil || cfg.Width < 500 {
		t.Errorf("chart: %v, %+v", err, cfg)
	}
	if left, _ := filepath.Glob(filepath.Join(out, "data-*")); len(left) > 0 {
		t.Errorf("scratch data left behind: %v", left)
	}
}
