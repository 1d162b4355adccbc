package engine_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/enginetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

type memConfig struct {
	Count int    `yaml:"count" doc:"Records."`
	Mode  string `yaml:"mode" doc:"Mode."`
}

func (c memConfig) Validate() error {
	if c.Mode != "" && c.Mode != "fast" {
		return specErr("mode", "expected fast")
	}
	return nil
}

// testRegistry registers in-memory components under plain names.
func testRegistry(t *testing.T) *engine.Registry {
	t.Helper()
	r := engine.NewRegistry()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(engine.RegisterSource(r, engine.SourceSpec[memConfig]{
		Name: "mem", Summary: "test source", Defaults: func() memConfig { return memConfig{Count: 1} },
		New: func(memConfig, engine.Env) (engine.Source, error) { return enginetest.NewMemSource(), nil },
	}))
	must(engine.RegisterSink(r, engine.SinkSpec[memConfig]{
		Name: "mem", Summary: "test sink", Defaults: func() memConfig { return memConfig{} },
		New: func(memConfig, engine.Env) (engine.Sink, error) { return &enginetest.MemSink{}, nil },
	}))
	must(engine.RegisterTransform(r, engine.TransformSpec[memConfig]{
		Name: "noop", Summary: "test transform", Defaults: func() memConfig { return memConfig{} },
		New: func(memConfig, engine.Env) (engine.Transform, error) {
			return engine.TransformFunc(func(_ context.Context, b engine.Batch) (engine.Batch, error) { return b, nil }), nil
		},
	}))
	return r
}

func TestRegistryRejects(t *testing.T) {
	r := testRegistry(t)
	dup := engine.RegisterSink(r, engine.SinkSpec[memConfig]{Name: "mem", Defaults: func() memConfig { return memConfig{} },
		New: func(memConfig, engine.Env) (engine.Sink, error) { return nil, nil }})
	if dup == nil || !strings.Contains(dup.Error(), "already registered") {
		t.Errorf("duplicate: %v", dup)
	}
	bad := engine.RegisterSink(r, engine.SinkSpec[memConfig]{Name: "Bad-Name", Defaults: func() memConfig { return memConfig{} },
		New: func(memConfig, engine.Env) (engine.Sink, error) { return nil, nil }})
	if bad == nil {
		t.Error("a non-snake_case name was accepted")
	}
}

func TestLoadGood(t *testing.T) {
	src := `
name: good
source: {mem: {count: 3}}
transforms:
  - noop: {}
  - noop: {mode: fast}
sinks:
  a: {mem: {}, when: 'x > 1', batch: {count: 10, period: 1s}, concurrency: 2}
  b: {mem: {}}
dead_letter: {mem: {}}
scaling: {min_workers: 0, max_workers: 3}
`
	p, err := engine.Load("good.yaml", []byte(src), engine.LoadOptions{Registry: testRegistry(t)})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "good" || p.SourceName != "mem" || len(p.Transforms) != 2 || len(p.Sinks) != 2 || p.DeadLetter == nil {
		t.Fatalf("pipeline = %+v", p)
	}
	if a := p.Sinks[0]; a.Name != "a" || a.When == nil || a.Batch.Count != 10 || a.Concurrency != 2 {
		t.Errorf("sink a = %+v", a)
	}
	if b := p.Sinks[1]; b.Batch != engine.DefaultBatch || b.Concurrency != 1 {
		t.Errorf("sink b = %+v", b)
	}
	if p.Codec.Name() != "json" || p.Scaling.MaxWorkers != 3 {
		t.Errorf("defaults: codec %s, scaling %+v", p.Codec.Name(), p.Scaling)
	}
}

// TestLoadErrors compares the messages for broken files with golden files
// in testdata/errors: NAME.yaml is the input, NAME.golden the output.
func TestLoadErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			lookup := func(k string) (string, bool) {
				if k == "SECRET_DSN" {
					return "user:hunter2@tcp(db)/x", true
				}
				return "", false
			}
			_, err = engine.Load(filepath.Base(f), src, engine.LoadOptions{Registry: testRegistry(t), Lookup: lookup})
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("a secret was printed: %v", err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./engine -run TestLoadErrors -update)", err)
			}
			if got != string(want) {
				t.Fatalf("errors differ from %s:\ngot:\n%swant:\n%s", golden, got, want)
			}
		})
	}
}

func TestLoadTestsFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.yaml")
	os.WriteFile(p, []byte("name: p\nsource: {mem: {}}\nsinks: {out: {mem: {}}}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "p.test.yaml"), []byte("tests:\n  - name: one\n    input: [{a: 1}]\n    expect: {out: [{a: 1}]}\n"), 0o644)
	pl, err := engine.LoadFile(p, engine.LoadOptions{Registry: testRegistry(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Tests) != 1 || pl.Tests[0].Name != "one" || pl.Tests[0].Line != 2 {
		t.Fatalf("tests = %+v", pl.Tests)
	}
}

func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/errors/*.yaml")
	for _, s := range seeds {
		b, _ := os.ReadFile(s)
		f.Add(string(b))
	}
	f.Add("name: x\nsource: {mem: {}}\nsinks: {a: {mem: {}, when: 'a > 1'}}\ntransforms: [{noop: {}}]\n")
	reg := engine.NewRegistry()
	f.Fuzz(func(t *testing.T, src string) {
		if reg == nil {
			return
		}
		r := testRegistry(&testing.T{})
		p, err := engine.Load("fuzz.yaml", []byte(src), engine.LoadOptions{Registry: r, Lookup: func(string) (string, bool) { return "1", true }})
		if err == nil && p == nil {
			t.Fatal("nil pipeline without error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}

func TestOverrides(t *testing.T) {
	src := "name: o\nsource: {mem: {count: 3}}\nsinks: {out: {mem: {}}}\n"
	p, err := engine.Load("o.yaml", []byte(src), engine.LoadOptions{Registry: testRegistry(t),
		Overrides: map[string]string{"source.mem.mode": "fast", "runtime.max_in_flight": "5"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Runtime.MaxInFlight != 5 {
		t.Errorf("max_in_flight = %d", p.Runtime.MaxInFlight)
	}
	_, err = engine.Load("o.yaml", []byte(src), engine.LoadOptions{Registry: testRegistry(t),
		Overrides: map[string]string{"source.mem.mode": "slow"}})
	if err == nil || !strings.Contains(err.Error(), "source.mem.mode: expected fast") {
		t.Errorf("a bad override: %v", err)
	}
	_, err = engine.Load("o.yaml", []byte(src), engine.LoadOptions{Registry: testRegistry(t),
		Overrides: map[string]string{"name.x": "1"}})
	if err == nil || !strings.Contains(err.Error(), "name is not a mapping") {
		t.Errorf("override through a scalar: %v", err)
	}
}

func TestSchedule(t *testing.T) {
	reg := testRegistry(t)
	if err := engine.RegisterSource(reg, engine.SourceSpec[memConfig]{
		Name: "bounded", Summary: "bounded test source", Bounded: true, Defaults: func() memConfig { return memConfig{} },
		New: func(memConfig, engine.Env) (engine.Source, error) { return enginetest.NewMemSource(), nil },
	}); err != nil {
		t.Fatal(err)
	}
	p, err := engine.Load("s.yaml", []byte("name: s\nschedule: '0 3 * * *'\nsource: {bounded: {}}\nsinks: {out: {mem: {}}}\n"), engine.LoadOptions{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 25, 10, 0, 0, 0, time.Local)
	if next := p.Schedule.Next(from); !next.Equal(time.Date(2026, 11, 26, 3, 0, 0, 0, time.Local)) {
		t.Errorf("next tick %v", next)
	}
	for _, tc := range []struct{ src, want string }{
		{"name: s\nschedule: 'every day'\nsource: {bounded: {}}\nsinks: {out: {mem: {}}}\n", "s.yaml:2:11: schedule: expected a cron expression"},
		{"name: s\nschedule: '@daily'\nsource: {mem: {}}\nsinks: {out: {mem: {}}}\n", "s.yaml:2:11: schedule: a scheduled pipeline needs a bounded source"},
	} {
		_, err := engine.Load("s.yaml", []byte(tc.src), engine.LoadOptions{Registry: reg})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
}
