package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestScenariosLoad builds every scenario's pipeline, so that a broken
// scenario is found by the test suite, not at benchmark time, and checks
// that the harness knows each scenario directory and has a README for it.
func TestScenariosLoad(t *testing.T) {
	files, err := filepath.Glob("*/pipeline.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	var dirs []string
	for _, f := range files {
		name := filepath.Dir(f)
		dirs = append(dirs, name)
		if _, err := loadPipeline(name, nil, prometheus.NewRegistry()); err != nil {
			t.Errorf("%v", err)
		}
		s := scenarioByName(name)
		if s == nil || s.kind != kindPipeline {
			t.Errorf("%s: not a pipeline scenario of the harness (scenarios in scenarios.go)", name)
		}
		if b, err := os.ReadFile(filepath.Join(name, "README.md")); err != nil || !strings.Contains(string(b), "What it measures") {
			t.Errorf("%s: no README.md saying what it measures", name)
		}
	}
	for _, s := range scenarios {
		if s.kind == kindPipeline && !slices.Contains(dirs, s.name) {
			t.Errorf("scenario %s has no %s/pipeline.yaml", s.name, s.name)
		}
		for _, name := range s.refFor {
			if scenarioByName(name) == nil {
				t.Errorf("reference %s: no scenario %s", s.name, name)
			}
		}
	}
}

func TestSelectScenarios(t *testing.T) {
	cases := []struct {
		name, list string
		want       []string
	}{
		{"all", "all", namesOf(scenarios)},
		{"empty is all", "", namesOf(scenarios)},
		{"letters bring their references", "c,a", []string{"jsonl-filter-set-drop", "kafka-filter-set-drop", "reference-handwritten", "reference-sarama"}},
		{"names", "parquet-drop, jsonl-to-parquet", []string{"jsonl-to-parquet", "parquet-drop"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := selectScenarios(tc.list)
			if err != nil || !slices.Equal(namesOf(got), tc.want) {
				t.Errorf("got %v, %v; want %v", namesOf(got), err, tc.want)
			}
		})
	}
	if _, err := selectScenarios("a,nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("an unknown scenario: %v", err)
	}
}

func namesOf(ss []*scenario) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.name)
	}
	return out
}
