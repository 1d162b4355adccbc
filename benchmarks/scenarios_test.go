package benchmarks

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/engine"
)

// TestScenariosLoad builds every scenario's pipeline, so that a broken
// scenario is found by the test suite, not at benchmark time.
func TestScenariosLoad(t *testing.T) {
	files, err := filepath.Glob("*/pipeline.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	reg := registry(t)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := engine.Load(f, src, engine.LoadOptions{Registry: reg}); err != nil {
			t.Errorf("%v", err)
		}
	}
}
