package main

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestEveryKeyDocumented fails when a config key of a shipped component has
// no doc tag: the docs and the schema are made from them.
func TestEveryKeyDocumented(t *testing.T) {
	reg, err := registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []engine.Kind{engine.KindSource, engine.KindTransform, engine.KindSink} {
		for _, c := range reg.Components(k) {
			if c.Summary == "" {
				t.Errorf("%s %s has no summary", k, c.Name)
			}
			if err := spec.CheckDocs(reflect.TypeOf(c.Defaults())); err != nil {
				t.Errorf("%s %s: %v", k, c.Name, err)
			}
		}
	}
	for _, v := range []any{engine.File{}, engine.SinkOptions{}} {
		if err := spec.CheckDocs(reflect.TypeOf(v)); err != nil {
			t.Error(err)
		}
	}
}

// TestDocsGolden keeps docs/reference.md in step with the code; refresh with
// go test ./cmd/sluice -run TestDocsGolden -update.
func TestDocsGolden(t *testing.T) {
	reg, err := registry()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := engine.WriteDocs(&buf, reg); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/reference.md"
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("sluice docs output differs from %s; run go test ./cmd/sluice -run TestDocsGolden -update and review the diff", golden)
	}
}
