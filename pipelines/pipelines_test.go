package pipelines_test

import (
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/run"
	"github.com/sluicehq/sluice/sinks"
	"github.com/sluicehq/sluice/sources"
	"github.com/sluicehq/sluice/transforms"
)

func registry(t *testing.T) *engine.Registry {
	t.Helper()
	r := engine.NewRegistry()
	for _, reg := range []func(*engine.Registry) error{sources.Register, transforms.Register, sinks.Register} {
		if err := reg(r); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func files(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, g := range []string{"*.yaml", "examples/*.yaml"} {
		m, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if filepath.Ext(f[:len(f)-len(".yaml")]) == ".test" {
				continue // a sibling test file, loaded with its pipeline
			}
			out = append(out, f)
		}
	}
	if len(out) < 2 {
		t.Fatalf("found only %v", out)
	}
	return out
}

// TestPipelinesValidate loads and builds every shipped pipeline file.
func TestPipelinesValidate(t *testing.T) {
	reg := registry(t)
	for _, f := range files(t) {
		t.Run(f, func(t *testing.T) {
			if _, err := engine.LoadFile(f, engine.LoadOptions{Registry: reg}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPipelinesTests runs the tests: sections of every shipped pipeline.
func TestPipelinesTests(t *testing.T) {
	reg := registry(t)
	cases := 0
	for _, f := range files(t) {
		p, err := engine.LoadFile(f, engine.LoadOptions{Registry: reg})
		if err != nil {
			t.Fatal(err)
		}
		for i, tc := range p.Tests {
			cases++
			t.Run(f+"/"+tc.Name, func(t *testing.T) {
				fresh, err := engine.LoadFile(f, engine.LoadOptions{Registry: reg})
				if err != nil {
					t.Fatal(err)
				}
				res, err := run.RunCase(t.Context(), fresh, fresh.Tests[i])
				if err != nil {
					t.Fatal(err)
				}
				if res.Failed {
					t.Fatalf("%s:%d: %s\n%s", f, tc.Line, tc.Name, res.Diff)
				}
			})
		}
	}
	if cases == 0 {
		t.Fatal("no pipeline carries tests")
	}
}

// TestDemoEmbedded checks that the embedded demo is the file on disk.
func TestDemoEmbedded(t *testing.T) {
	reg := registry(t)
	if _, err := engine.Load("demo.yaml", demo(), engine.LoadOptions{Registry: reg}); err != nil {
		t.Fatal(err)
	}
}
