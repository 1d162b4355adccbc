package main

import (
	"context"
	"embed"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/run"
	"github.com/sluicehq/sluice/sinks"
	"github.com/sluicehq/sluice/sources"
	"github.com/sluicehq/sluice/transforms"
)

// pipelineFiles are the scenarios' pipeline files, embedded so that the
// harness runs from any directory.
//
//go:embed */pipeline.yaml
var pipelineFiles embed.FS

// newRegistry returns a registry with every shipped component.
func newRegistry() (*engine.Registry, error) {
	r := engine.NewRegistry()
	err := errors.Join(sources.Register(r), transforms.Register(r), sinks.Register(r))
	return r, err
}

// loadPipeline builds the pipeline of scenario name with its ${VAR}s
// taken from vars only (a variable not in vars takes the file's default),
// its metrics on reg.
func loadPipeline(name string, vars map[string]string, reg *prometheus.Registry) (*engine.Pipeline, error) {
	file := name + "/pipeline.yaml"
	src, err := pipelineFiles.ReadFile(file)
	if err != nil {
		return nil, err
	}
	components, err := newRegistry()
	if err != nil {
		return nil, err
	}
	lookup := func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
	return engine.Load("benchmarks/"+file, src, engine.LoadOptions{
		Registry: components, Lookup: lookup, Metrics: engine.NewMetrics(reg, ""),
	})
}

// newRunner builds scenario name's pipeline with its metrics on a fresh
// registry, which it returns.
func newRunner(name string, vars map[string]string) (*engine.Pipeline, *prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	p, err := loadPipeline(name, vars, reg)
	return p, reg, err
}

// runPipeline runs scenario name's pipeline once in this process, with
// its metrics on a fresh registry, which it returns. A bounded source runs
// to its end; with drainAt > 0 (a Kafka source, which never ends), the
// pipeline is drained once it has read drainAt records.
func runPipeline(ctx context.Context, name string, vars map[string]string, drainAt int64) (run.Summary, *prometheus.Registry, error) {
	p, reg, err := newRunner(name, vars)
	if err != nil {
		return run.Summary{}, nil, err
	}
	r := run.New(p)
	if drainAt > 0 {
		done := make(chan struct{})
		defer close(done)
		go func() {
			t := time.NewTicker(2 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					if r.Stats().Read >= drainAt {
						r.Drain()
						return
					}
				}
			}
		}()
	}
	sum, err := r.Run(ctx)
	return sum, reg, err
}
