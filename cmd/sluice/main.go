// Command sluice runs, validates and tests Sluice pipeline files.
//
//	sluice demo                     run the embedded demo pipeline
//	sluice validate pipelines/*.yaml
//	sluice test pipelines/*.yaml
//	sluice run --http :9090 pipelines/game-telemetry.yaml
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/sluicehq/sluice/engine/run"
)

// exitError carries a process exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func main() {
	setMemoryDefaults()
	err := newRootCmd().Execute()
	if err == nil {
		return
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		err = ee.err
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sluice:", err)
	}
	os.Exit(code)
}

// setMemoryDefaults tunes the garbage collector for pipelines (a heap
// floor, see run.SetGCDefaults) and, in a container with a memory limit,
// sets the Go runtime's soft memory limit to 90% of it, so that the
// collector works harder before the container is killed for memory. GOGC,
// SLUICE_HEAP_FLOOR and GOMEMLIMIT in the environment take precedence.
func setMemoryDefaults() {
	run.SetGCDefaults()
	_, _ = memlimit.Set(
		memlimit.WithProvider(memlimit.FromCgroup),
		memlimit.WithRatio(0.9),
		memlimit.WithLogger(slog.New(slog.DiscardHandler)),
	)
}
