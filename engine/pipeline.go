package engine

import (
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/engine/batch"
	"github.com/sluicehq/sluice/engine/checkpoint"
	"github.com/sluicehq/sluice/engine/codec"
	"github.com/sluicehq/sluice/engine/expr"
	"github.com/sluicehq/sluice/engine/spec"
)

// File is the top level of a pipeline file as written. Component sections
// (source, transforms, sinks, dead_letter) are kept as YAML nodes here and
// built against a Registry by Load.
type File struct {
	Name        string               `yaml:"name" spec:"required" doc:"Pipeline name: lowercase letters, digits, - and _. Labels metrics and logs, and names checkpoint state."`
	Description string               `yaml:"description" doc:"What the pipeline does, for people."`
	Codec       string               `yaml:"codec" enum:"json,raw,text" doc:"How record values are decoded for expressions and encoded for sinks: json (objects), raw (bytes), text (a UTF-8 string)."`
	Source      ComponentNode        `yaml:"source" spec:"required" doc:"Where records come from: exactly one source component."`
	Transforms  []ComponentNode      `yaml:"transforms" doc:"Transforms applied in order to every record: each item names one transform component."`
	Sinks       spec.Pairs[SinkNode] `yaml:"sinks" spec:"required" doc:"Where records go, by sink name. Every record goes to every sink whose when matches."`
	DeadLetter  *SinkNode            `yaml:"dead_letter" doc:"Where records go that fail permanently (bad input, rejected writes), with their error. Without it, such a failure stops the pipeline so that nothing is lost."`
	Scaling     Scaling              `yaml:"scaling" doc:"Transform worker pool bounds."`
	Runtime     RuntimeConfig        `yaml:"runtime" doc:"Delivery and shutdown settings."`
	Tests       []TestCase           `yaml:"tests" doc:"Test cases run offline by sluice test: input records and the records each sink should receive."`
	Schedule    string               `yaml:"schedule" doc:"Cron expression (minute hour day-of-month month day-of-week, or @hourly, @daily, @every 1h): sluice run then runs the pipeline (a bounded backfill) at each tick, never two runs at once, and logs each run's summary."`
}

// Scaling bounds the transform worker pool.
type Scaling struct {
	MinWorkers int `yaml:"min_workers" doc:"Workers kept running even when idle."`
	MaxWorkers int `yaml:"max_workers" doc:"Most workers the transform stage grows to when its input backs up. 0: the number of CPUs."`
}

// RuntimeConfig holds delivery and shutdown settings.
type RuntimeConfig struct {
	MaxInFlight      int           `yaml:"max_in_flight" doc:"Most source batches read but not yet acknowledged; reading pauses at this bound (back-pressure)."`
	MaxInFlightBytes spec.ByteSize `yaml:"max_in_flight_bytes" doc:"Most bytes of keys and values of the source batches read but not yet acknowledged; reading pauses at this bound as at max_in_flight, and goes over it by one batch at most. Memory follows it: a few times this much while records are decoded. 0: no bound but max_in_flight."`
	ShutdownGrace    time.Duration `yaml:"shutdown_grace" doc:"After SIGINT/SIGTERM, how long in-flight batches may take to settle before the pipeline stops anyway (they are then not acknowledged and are read again next time)."`
	QueueSize        int           `yaml:"queue_size" doc:"Capacity, in batches, of each queue between stages."`
}

// SinkOptions are the keys every sink accepts beside its component key.
type SinkOptions struct {
	When        string      `yaml:"when" doc:"Expression; the sink receives only records for which it is true. Default: every record."`
	Batch       BatchConfig `yaml:"batch" doc:"When a batch is written: the first limit reached flushes. Default: the sink's own policy, else count 500, bytes 4MiB, period 500ms."`
	Concurrency int         `yaml:"concurrency" doc:"Most batches written at once."`
	Retry       RetryConfig `yaml:"retry" doc:"Backoff for retryable write failures."`
}

// BatchConfig is a batching policy as written in a pipeline file.
type BatchConfig struct {
	Count  int           `yaml:"count" doc:"Flush when this many records are pending. 0: no count limit."`
	Bytes  spec.ByteSize `yaml:"bytes" doc:"Flush when pending records reach this many bytes. 0: no size limit."`
	Period time.Duration `yaml:"period" doc:"Flush this long after the first pending record arrived. 0: no time limit."`
}

// Policy converts c into a batch.Policy.
func (c BatchConfig) Policy() batch.Policy {
	return batch.Policy{Count: c.Count, Bytes: int64(c.Bytes), Period: c.Period}
}

// RetryConfig is a capped exponential backoff with jitter.
type RetryConfig struct {
	Initial     time.Duration `yaml:"initial" doc:"Wait before the first retry."`
	Max         time.Duration `yaml:"max" doc:"Longest wait between retries."`
	MaxAttempts int           `yaml:"max_attempts" doc:"Attempts before a retryable failure is treated as permanent (dead-lettered). 0: retry until the pipeline stops."`
}

// DefaultBatch is the batching policy of a sink that declares none.
var DefaultBatch = batch.Policy{Count: 500, Bytes: 4 << 20, Period: 500 * time.Millisecond}

func defaultFile() File {
	return File{
		Codec:   "json",
		Scaling: Scaling{MinWorkers: 1},
		Runtime: RuntimeConfig{MaxInFlight: 64, MaxInFlightBytes: 8 << 20, ShutdownGrace: 30 * time.Second, QueueSize: 8},
	}
}

func defaultSinkOptions() SinkOptions {
	return SinkOptions{Concurrency: 1, Retry: RetryConfig{Initial: 100 * time.Millisecond, Max: 30 * time.Second}}
}

// ComponentNode is a YAML mapping with exactly one key naming a component,
// whose value is that component's config.
type ComponentNode struct {
	Name string     // the component name (the key)
	Node *yaml.Node // its config
	Key  *yaml.Node // the key, for positions
}

// UnmarshalSpec captures the component name and config node.
func (c *ComponentNode) UnmarshalSpec(d *spec.Decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		d.Errorf(n, path, "expected a mapping with one component name as key, got %s", nodeDesc(n))
		return
	}
	if len(n.Content) > 2 {
		keys := make([]string, 0, len(n.Content)/2)
		for i := 0; i < len(n.Content); i += 2 {
			keys = append(keys, n.Content[i].Value)
		}
		d.Errorf(n.Content[2], path, "expected exactly one component, got %d keys: %s", len(keys), strings.Join(keys, ", "))
		return
	}
	c.Key, c.Name, c.Node = n.Content[0], n.Content[0].Value, n.Content[1]
}

// SinkNode is a sink entry: one component key plus the common SinkOptions
// keys.
type SinkNode struct {
	ComponentNode
	Options SinkOptions
}

// UnmarshalSpec splits the common options from the component key.
func (s *SinkNode) UnmarshalSpec(d *spec.Decoder, n *yaml.Node, path string) {
	s.Options = defaultSinkOptions()
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, path, "expected a mapping with one sink component as key, got %s", nodeDesc(n))
		return
	}
	common := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	var comps []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "when", "batch", "concurrency", "retry":
			common.Content = append(common.Content, n.Content[i], n.Content[i+1])
		default:
			comps = append(comps, n.Content[i], n.Content[i+1])
		}
	}
	d.Decode(common, path, &s.Options)
	switch len(comps) {
	case 0:
		d.Errorf(n, path, "expected a sink component key (and optionally when, batch, concurrency, retry)")
	case 2:
		s.Key, s.Name, s.Node = comps[0], comps[0].Value, comps[1]
	default:
		var keys []string
		for i := 0; i < len(comps); i += 2 {
			keys = append(keys, comps[i].Value)
		}
		d.Errorf(comps[2], path, "expected exactly one sink component, got %s", strings.Join(keys, ", "))
	}
}

// TestCase is one offline test of a pipeline: input records and what each
// sink should receive.
type TestCase struct {
	Name       string           `yaml:"name" spec:"required" doc:"What the case checks."`
	Input      []any            `yaml:"input" spec:"required" doc:"Input record values, encoded with the pipeline codec (objects become JSON)."`
	Expect     map[string][]any `yaml:"expect" doc:"Per sink name, the record values it should receive, in order. Sinks not named are not checked; [] means none."`
	DeadLetter []any            `yaml:"dead_letter" doc:"Values of the records that should be dead-lettered, in order. Default: not checked."`
	File       string           `yaml:"-"` // the file the case is written in
	Line       int              `yaml:"-"`
}

// UnmarshalSpec records the case's line for reports.
func (t *TestCase) UnmarshalSpec(d *spec.Decoder, n *yaml.Node, path string) {
	type plain TestCase
	var p plain
	d.Decode(n, path, &p)
	*t = TestCase(p)
	t.File, t.Line = d.File(), n.Line
}

// Pipeline is a pipeline file with every component built, ready to run.
type Pipeline struct {
	Name       string
	File       string
	Codec      codec.Codec
	Source     Source
	SourceName string // component name, e.g. kafka
	Bounded    bool   // the source ends by itself
	Transforms []NamedTransform
	Sinks      []*SinkInstance
	DeadLetter *SinkInstance
	Scaling    Scaling
	Runtime    RuntimeConfig
	Tests      []TestCase
	// Metrics are the pipeline's metrics, the ones its components got.
	Metrics *Metrics
	// Schedule, when set, runs the pipeline at each of its ticks.
	Schedule cron.Schedule
}

// NamedTransform is a built transform with its place in the file.
type NamedTransform struct {
	Name      string // component name, e.g. filter
	Path      string // transforms[0].filter
	Transform Transform
}

// SinkInstance is a built sink with its delivery options.
type SinkInstance struct {
	Name        string // the sink's name in the file (the key under sinks)
	Component   string // component name, e.g. stdout
	Sink        Sink
	When        *expr.Program // nil: every record
	Batch       batch.Policy
	Concurrency int
	Retry       RetryConfig
}

// LoadOptions configures Load.
type LoadOptions struct {
	Registry *Registry
	// Lookup resolves ${VAR}; nil means os.LookupEnv.
	Lookup spec.LookupFunc
	// Log is the base logger; nil discards.
	Log *slog.Logger
	// Metrics are the pipeline's metrics; nil makes a fresh registry.
	Metrics *Metrics
	// Checkpoints is the checkpoint store; nil means an in-memory one.
	Checkpoints checkpoint.Store
	// Overrides set keys of the file before it is decoded, by dotted path
	// (source.objectstore.from): the command line's way to change one run,
	// such as a backfill's time range or shard. A mapping on the way is
	// created when missing; the value is decoded as if written in the file.
	Overrides map[string]string
}

var pipelineNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// LoadFile reads and loads the pipeline file at path. If a sibling file
// NAME.test.yaml exists, its tests are added to the pipeline's tests.
func LoadFile(path string, opts LoadOptions) (*Pipeline, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := Load(path, src, opts)
	if err != nil {
		return nil, err
	}
	testPath := strings.TrimSuffix(path, filepath.Ext(path)) + ".test.yaml"
	if tsrc, err := os.ReadFile(testPath); err == nil {
		tests, err := LoadTests(testPath, tsrc, opts.Lookup)
		if err != nil {
			return nil, err
		}
		p.Tests = append(p.Tests, tests...)
	}
	return p, nil
}

// LoadTests decodes a test file: a mapping with one key, tests, holding a
// list of test cases.
func LoadTests(file string, src []byte, lookup spec.LookupFunc) ([]TestCase, error) {
	root, err := parseYAML(file, src)
	if err != nil {
		return nil, err
	}
	var tf struct {
		Tests []TestCase `yaml:"tests" spec:"required" doc:"Test cases."`
	}
	d := spec.NewDecoder(file, lookupOrEnv(lookup))
	d.Decode(root, "", &tf)
	if err := d.Err(); err != nil {
		return nil, err
	}
	return tf.Tests, nil
}

func lookupOrEnv(l spec.LookupFunc) spec.LookupFunc {
	if l == nil {
		return os.LookupEnv
	}
	return l
}

func parseYAML(file string, src []byte) (*yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		e := yamlSyntaxError(file, err)
		if strings.Contains(string(src), "${") && strings.Contains(e.Msg, "did not find expected") {
			e.Msg += " (a ${VAR} inside { } or [ ] must be quoted: count: \"${N:-10}\")"
		}
		return nil, spec.ErrorList{e}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, spec.ErrorList{{File: file, Pos: spec.Pos{Line: 1, Column: 1}, Msg: "file is empty"}}
	}
	return root.Content[0], nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlSyntaxError(file string, err error) *spec.Error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		var line int
		fmt.Sscan(m[1], &line)
		msg := "invalid YAML: " + m[2]
		if strings.HasPrefix(m[2], "did not find expected") {
			// The parser reports where the unclosed construct starts.
			msg = "invalid YAML: the flow collection or block that starts here is not closed properly: " + m[2]
		}
		return &spec.Error{File: file, Pos: spec.Pos{Line: line, Column: 1}, Msg: msg}
	}
	return &spec.Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// Load decodes and builds the pipeline in src, read from file (used in
// messages). It does no I/O: every component is built and every expression
// compiled, but nothing is opened. All problems are reported at once as a
// spec.ErrorList.
func Load(file string, src []byte, opts LoadOptions) (*Pipeline, error) {
	if opts.Registry == nil {
		return nil, fmt.Errorf("load %s: no registry", file)
	}
	root, err := parseYAML(file, src)
	if err != nil {
		return nil, err
	}
	d := spec.NewDecoder(file, lookupOrEnv(opts.Lookup))
	for _, path := range slices.Sorted(maps.Keys(opts.Overrides)) {
		if err := override(root, path, opts.Overrides[path]); err != nil {
			d.Errorf(nil, path, "cannot override: %v", err)
		}
	}
	f := defaultFile()
	d.Decode(root, "", &f)

	if f.Name != "" && !pipelineNameRE.MatchString(f.Name) {
		d.Errorf(spec.Find(root, "name"), "name", "expected lowercase letters, digits, - and _, got %q", f.Name)
	}
	var cdc codec.Codec
	if f.Codec != "" {
		if cdc, err = codec.Lookup(f.Codec); err != nil {
			d.Errorf(spec.Find(root, "codec"), "codec", "%v", err)
		}
	}
	if f.Scaling.MaxWorkers == 0 {
		f.Scaling.MaxWorkers = max(runtime.GOMAXPROCS(0), f.Scaling.MinWorkers, 1)
	}
	if f.Scaling.MinWorkers < 0 || f.Scaling.MaxWorkers < 1 || f.Scaling.MinWorkers > f.Scaling.MaxWorkers {
		d.Errorf(spec.Find(root, "scaling"), "scaling", "expected 0 <= min_workers <= max_workers and max_workers >= 1, got %d and %d", f.Scaling.MinWorkers, f.Scaling.MaxWorkers)
	}
	var sched cron.Schedule
	if f.Schedule != "" {
		sched, err = cron.ParseStandard(f.Schedule)
		if err != nil {
			d.Errorf(spec.Find(root, "schedule"), "schedule", "expected a cron expression such as \"0 3 * * *\" or @daily: %v", err)
		}
	}
	if f.Runtime.MaxInFlight < 1 {
		d.Errorf(spec.Find(root, "runtime.max_in_flight"), "runtime.max_in_flight", "expected at least 1, got %d", f.Runtime.MaxInFlight)
	}
	if f.Runtime.MaxInFlightBytes < 0 {
		d.Errorf(spec.Find(root, "runtime.max_in_flight_bytes"), "runtime.max_in_flight_bytes", "expected 0 or more, got %d", f.Runtime.MaxInFlightBytes)
	}
	if f.Runtime.QueueSize < 1 {
		d.Errorf(spec.Find(root, "runtime.queue_size"), "runtime.queue_size", "expected at least 1, got %d", f.Runtime.QueueSize)
	}

	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil, f.Name)
	} else {
		opts.Metrics = opts.Metrics.WithPipeline(f.Name)
	}
	if opts.Checkpoints == nil {
		opts.Checkpoints = checkpoint.NewMemStore()
	}
	envFor := func(path string, k Kind) Env {
		return Env{
			Log:         opts.Log.With(AttrPipeline, f.Name, AttrComponent, path),
			Metrics:     opts.Metrics.For(path, k),
			Checkpoints: opts.Checkpoints,
			Pipeline:    f.Name,
			Component:   path,
		}
	}
	p := &Pipeline{Name: f.Name, File: file, Codec: cdc, Metrics: opts.Metrics, Schedule: sched, Scaling: f.Scaling, Runtime: f.Runtime, Tests: f.Tests}
	reg := opts.Registry

	if f.Source.Node != nil {
		if c, ok := lookupComponent(d, reg, KindSource, f.Source, "source"); ok {
			path := "source." + c.Name
			if s, ok := c.build(d, f.Source.Node, path, envFor(path, KindSource)).(Source); ok {
				p.Source, p.SourceName, p.Bounded = s, c.Name, c.Bounded
			}
		}
	}
	for i, tn := range f.Transforms {
		if tn.Node == nil {
			continue
		}
		at := fmt.Sprintf("transforms[%d]", i)
		c, ok := lookupComponent(d, reg, KindTransform, tn, at)
		if !ok {
			continue
		}
		path := at + "." + c.Name
		if t, ok := c.build(d, tn.Node, path, envFor(path, KindTransform)).(Transform); ok {
			p.Transforms = append(p.Transforms, NamedTransform{Name: c.Name, Path: path, Transform: t})
		}
	}
	sinkNames := map[string]bool{}
	for _, kv := range f.Sinks {
		sinkNames[kv.Key] = true
		if !pipelineNameRE.MatchString(kv.Key) {
			d.Errorf(spec.Find(root, "sinks."+kv.Key), "sinks", "sink name %q: expected lowercase letters, digits, - and _", kv.Key)
		}
		if kv.Key == "dead_letter" {
			d.Errorf(spec.Find(root, "sinks."+kv.Key), "sinks", "sink name dead_letter is reserved; use the top-level dead_letter key")
		}
		if si := buildSink(d, reg, root, "sinks."+kv.Key, kv.Key, kv.Value, envFor); si != nil {
			p.Sinks = append(p.Sinks, si)
		}
	}
	if len(f.Sinks) == 0 && spec.Find(root, "sinks") != nil {
		d.Errorf(spec.Find(root, "sinks"), "sinks", "expected at least one sink")
	}
	if f.DeadLetter != nil && f.DeadLetter.Node != nil {
		if f.DeadLetter.Options.When != "" {
			d.Errorf(spec.Find(root, "dead_letter.when"), "dead_letter.when", "the dead-letter sink takes every failed record; when is not allowed here")
		}
		p.DeadLetter = buildSink(d, reg, root, "dead_letter", "dead_letter", *f.DeadLetter, envFor)
	}
	for i, tc := range f.Tests {
		for name := range tc.Expect {
			if !sinkNames[name] {
				path := fmt.Sprintf("tests[%d].expect.%s", i, name)
				d.Errorf(spec.Find(root, path), path, "no sink named %q%s", name, spec.Suggest(name, slices.Collect(maps.Keys(sinkNames))))
			}
		}
		if tc.DeadLetter != nil && f.DeadLetter == nil {
			path := fmt.Sprintf("tests[%d].dead_letter", i)
			d.Errorf(spec.Find(root, path), path, "the pipeline has no dead_letter sink")
		}
	}
	if sched != nil && !p.Bounded && p.Source != nil {
		d.Errorf(spec.Find(root, "schedule"), "schedule", "a scheduled pipeline needs a bounded source (such as objectstore); %s never ends", p.SourceName)
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// override sets the scalar at the dotted path below root to value,
// creating mappings on the way.
func override(root *yaml.Node, path, value string) error {
	n := root
	parts := strings.Split(path, ".")
	for i, key := range parts {
		if key == "" {
			return fmt.Errorf("empty key in %q", path)
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s is not a mapping", strings.Join(parts[:i], "."))
		}
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == key {
				next = n.Content[j+1]
			}
		}
		last := i == len(parts)-1
		if next == nil {
			next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			if last {
				next = &yaml.Node{Kind: yaml.ScalarNode}
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, next)
		}
		if last {
			*next = yaml.Node{Kind: yaml.ScalarNode, Value: value, Line: next.Line, Column: next.Column}
			return nil
		}
		n = next
	}
	return nil
}

func lookupComponent(d *spec.Decoder, reg *Registry, k Kind, cn ComponentNode, at string) (Component, bool) {
	c, ok := reg.Lookup(k, cn.Name)
	if !ok {
		names := reg.Names(k)
		d.Errorf(cn.Key, at, "unknown %s %q%s; expected one of %s", k, cn.Name, spec.Suggest(cn.Name, names), strings.Join(names, ", "))
	}
	return c, ok
}

func buildSink(d *spec.Decoder, reg *Registry, root *yaml.Node, at, name string, sn SinkNode, envFor func(string, Kind) Env) *SinkInstance {
	if sn.Node == nil {
		return nil
	}
	c, ok := lookupComponent(d, reg, KindSink, sn.ComponentNode, at)
	if !ok {
		return nil
	}
	o := sn.Options
	si := &SinkInstance{Name: name, Component: c.Name, Concurrency: o.Concurrency, Retry: o.Retry}
	si.Batch = DefaultBatch
	if c.Batch != (batch.Policy{}) {
		si.Batch = c.Batch
	}
	if o.Batch != (BatchConfig{}) {
		si.Batch = o.Batch.Policy()
	}
	if err := si.Batch.Validate(); err != nil {
		d.Add(spec.Find(root, at+".batch"), at+".batch", err)
	}
	if o.Concurrency < 1 {
		d.Errorf(spec.Find(root, at+".concurrency"), at+".concurrency", "expected at least 1, got %d", o.Concurrency)
	}
	if o.Retry.Initial <= 0 || o.Retry.Max < o.Retry.Initial || o.Retry.MaxAttempts < 0 {
		d.Errorf(spec.Find(root, at+".retry"), at+".retry", "expected 0 < initial <= max and max_attempts >= 0")
	}
	if o.When != "" {
		prog, err := expr.Compile(o.When, expr.AsBool())
		if err != nil {
			d.Add(spec.Find(root, at+".when"), at+".when", err)
		}
		si.When = prog
	}
	path := at + "." + c.Name
	s, ok := c.build(d, sn.Node, path, envFor(at, KindSink)).(Sink)
	if !ok {
		return nil
	}
	si.Sink = s
	return si
}

func nodeDesc(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an empty mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "nothing"
}
