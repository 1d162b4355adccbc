package main

import (
	"testing"
)

func ptr(v float64) *float64 { return &v }

func TestSummarize(t *testing.T) {
	r := &scenarioResult{Runs: []metrics{
		{Records: 100, RecordsPerSec: 300, CPUPerMRecords: 2, AckP50Ms: ptr(5)},
		{Records: 100, RecordsPerSec: 100, CPUPerMRecords: 4},
		{Records: 100, RecordsPerSec: 200, CPUPerMRecords: 3, AckP50Ms: ptr(9)},
	}}
	r.summarize()
	m := r.Median
	if m.Records != 100 || m.RecordsPerSec != 200 || m.CPUPerMRecords != 3 || r.RecordsPerSecMin != 100 || r.RecordsPerSecMax != 300 {
		t.Errorf("median %+v, range %v–%v", m, r.RecordsPerSecMin, r.RecordsPerSecMax)
	}
	if m.AckP50Ms == nil || *m.AckP50Ms != 7 || m.AckP99Ms != nil {
		t.Errorf("ack p50 %v (want 7, the mean of the middle two of 5 and 9), p99 %v (want none)", m.AckP50Ms, m.AckP99Ms)
	}
}

func TestRatios(t *testing.T) {
	res := func(name, status string, rate, cpu float64) *scenarioResult {
		r := &scenarioResult{Name: name, Status: status, s: scenarioByName(name)}
		if status == statusOK {
			r.Median = &metrics{RecordsPerSec: rate, CPUPerMRecords: cpu}
		}
		return r
	}
	rep := &report{Scenarios: []*scenarioResult{
		res("jsonl-filter-set-drop", statusOK, 250, 4),
		res("kafka-filter-set-drop", statusSkipped, 0, 0),
		res("reference-handwritten", statusOK, 1000, 1),
		res("reference-sarama", statusSkipped, 0, 0),
	}}
	rep.computeRatios()
	if len(rep.Ratios) != 2 {
		t.Fatalf("ratios %+v", rep.Ratios)
	}
	if r := rep.Ratios[0]; r.Scenario != "jsonl-filter-set-drop" || r.Reference != "reference-handwritten" || r.RecordsPerSec != 0.25 || r.CPUPerRecord != 4 || r.Reason != "" {
		t.Errorf("(a) ÷ hand-written: %+v", r)
	}
	if r := rep.Ratios[1]; r.Reason != "kafka-filter-set-drop skipped" || r.RecordsPerSec != 0 {
		t.Errorf("(c) ÷ sarama: %+v", r)
	}
}
