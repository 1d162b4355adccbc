package engine

import (
	"io"
	"log/slog"

	"github.com/sluicehq/sluice/engine/checkpoint"
)

// Log attribute keys shared by every component, so that logs can be
// filtered on them.
const (
	AttrPipeline  = "pipeline"
	AttrComponent = "component"
	AttrKind      = "kind"
	AttrTopic     = "topic"
	AttrPartition = "partition"
	AttrOffset    = "offset"
	AttrObject    = "object"
	AttrPosition  = "position"
	AttrRecords   = "records"
	AttrBytes     = "bytes"
	AttrAttempt   = "attempt"
	AttrWorkers   = "workers"
	AttrElapsed   = "elapsed"
	AttrError     = "error"
)

// Env is what the engine gives a component when it is built.
type Env struct {
	// Log is tagged with the pipeline and the component.
	Log *slog.Logger
	// Metrics creates collectors labelled with the pipeline and the
	// component, on the engine's own Prometheus registry.
	Metrics *Metrics
	// Checkpoints keeps resume tokens for sources without native offsets.
	Checkpoints checkpoint.Store
	// Pipeline is the pipeline's name.
	Pipeline string
	// Component is the component's path in the pipeline file, such as
	// source.kafka or sinks.search.
	Component string
}

// TestEnv returns an Env for tests: a discarding logger, metrics on a fresh
// registry, and an in-memory checkpoint store.
func TestEnv() Env {
	return Env{
		Log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics:     NewMetrics(nil, "test"),
		Checkpoints: checkpoint.NewMemStore(),
		Pipeline:    "test",
		Component:   "test",
	}
}
