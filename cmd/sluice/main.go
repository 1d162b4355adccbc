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
	"os"
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
