package engine

import (
	"errors"
	"fmt"
	"regexp"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/engine/batch"
	"github.com/sluicehq/sluice/engine/spec"
)

// Kind is the role of a component in a pipeline.
type Kind string

// The component kinds.
const (
	KindSource    Kind = "source"
	KindTransform Kind = "transform"
	KindSink      Kind = "sink"
)

// SourceSpec describes a source component: its name in pipeline files, its
// config type C, and how to build it.
type SourceSpec[C any] struct {
	Name     string                       // snake_case key in pipeline files
	Summary  string                       // one sentence for docs
	Example  string                       // a YAML snippet of its config, for docs
	Bounded  bool                         // the source ends with ErrEndOfInput
	Defaults func() C                     // the config before the file is applied
	New      func(C, Env) (Source, error) // builds the source; no I/O
}

// TransformSpec describes a transform component.
type TransformSpec[C any] struct {
	Name     string
	Summary  string
	Example  string
	Defaults func() C
	New      func(C, Env) (Transform, error)
}

// SinkSpec describes a sink component.
type SinkSpec[C any] struct {
	Name     string
	Summary  string
	Example  string
	Defaults func() C
	New      func(C, Env) (Sink, error)
	// Batch is the sink's default batching policy; a pipeline's batch key
	// overrides it. The zero Policy takes the engine default.
	Batch batch.Policy
}

// Component is a registered component as the loader, the schema and the
// docs see it.
type Component struct {
	Kind    Kind
	Name    string
	Summary string
	Example string
	Bounded bool
	Batch   batch.Policy

	defaults func() any
	build    func(d *spec.Decoder, n *yaml.Node, path string, env Env) any
}

// Defaults returns the component's default config value.
func (c Component) Defaults() any { return c.defaults() }

// Registry holds the components a program knows. Build one with NewRegistry
// and register components explicitly; there is no global registry. A
// Registry is safe for concurrent reads once registration is done.
type Registry struct {
	byKind map[Kind]map[string]Component
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{byKind: map[Kind]map[string]Component{}}
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func (r *Registry) add(c Component) error {
	if !nameRE.MatchString(c.Name) {
		return fmt.Errorf("register %s %q: name must be snake_case", c.Kind, c.Name)
	}
	if c.defaults == nil {
		return fmt.Errorf("register %s %q: Defaults is nil", c.Kind, c.Name)
	}
	m := r.byKind[c.Kind]
	if m == nil {
		m = map[string]Component{}
		r.byKind[c.Kind] = m
	}
	if _, dup := m[c.Name]; dup {
		return fmt.Errorf("register %s %q: already registered", c.Kind, c.Name)
	}
	m[c.Name] = c
	return nil
}

// Lookup returns the component of kind k named name.
func (r *Registry) Lookup(k Kind, name string) (Component, bool) {
	c, ok := r.byKind[k][name]
	return c, ok
}

// Components returns the components of kind k sorted by name.
func (r *Registry) Components(k Kind) []Component {
	out := make([]Component, 0, len(r.byKind[k]))
	for _, c := range r.byKind[k] {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns the names of the components of kind k, sorted.
func (r *Registry) Names(k Kind) []string {
	cs := r.Components(k)
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// validator is implemented by configs that check themselves after
// decoding. Validate reports every problem at once (errors.Join), wrapping
// each with spec.At to name its key.
type validator interface{ Validate() error }

// buildConfig decodes n over the defaults, validates, and calls build. It
// returns nil when anything failed; the problems are recorded on d.
func buildConfig[C any, T any](d *spec.Decoder, n *yaml.Node, path string, defaults func() C, build func(C) (T, error)) (out T, ok bool) {
	before := len(d.Errors())
	cfg := defaults()
	d.Decode(n, path, &cfg)
	if len(d.Errors()) > before {
		return out, false
	}
	if v, isV := any(&cfg).(validator); isV {
		if err := v.Validate(); err != nil {
			d.Add(n, path, err)
			return out, false
		}
	}
	t, err := build(cfg)
	if err != nil {
		d.Add(n, path, err)
		return out, false
	}
	return t, true
}

// RegisterSource adds a source component to r.
func RegisterSource[C any](r *Registry, s SourceSpec[C]) error {
	if s.New == nil || s.Defaults == nil {
		return errors.New("register source " + s.Name + ": New and Defaults are required")
	}
	return r.add(Component{
		Kind: KindSource, Name: s.Name, Summary: s.Summary, Example: s.Example, Bounded: s.Bounded,
		defaults: func() any { return s.Defaults() },
		build: func(d *spec.Decoder, n *yaml.Node, path string, env Env) any {
			src, ok := buildConfig(d, n, path, s.Defaults, func(c C) (Source, error) { return s.New(c, env) })
			if !ok {
				return nil
			}
			return src
		},
	})
}

// RegisterTransform adds a transform component to r.
func RegisterTransform[C any](r *Registry, s TransformSpec[C]) error {
	if s.New == nil || s.Defaults == nil {
		return errors.New("register transform " + s.Name + ": New and Defaults are required")
	}
	return r.add(Component{
		Kind: KindTransform, Name: s.Name, Summary: s.Summary, Example: s.Example,
		defaults: func() any { return s.Defaults() },
		build: func(d *spec.Decoder, n *yaml.Node, path string, env Env) any {
			t, ok := buildConfig(d, n, path, s.Defaults, func(c C) (Transform, error) { return s.New(c, env) })
			if !ok {
				return nil
			}
			return t
		},
	})
}

// RegisterSink adds a sink component to r.
func RegisterSink[C any](r *Registry, s SinkSpec[C]) error {
	if s.New == nil || s.Defaults == nil {
		return errors.New("register sink " + s.Name + ": New and Defaults are required")
	}
	return r.add(Component{
		Kind: KindSink, Name: s.Name, Summary: s.Summary, Example: s.Example, Batch: s.Batch,
		defaults: func() any { return s.Defaults() },
		build: func(d *spec.Decoder, n *yaml.Node, path string, env Env) any {
			t, ok := buildConfig(d, n, path, s.Defaults, func(c C) (Sink, error) { return s.New(c, env) })
			if !ok {
				return nil
			}
			return t
		},
	})
}
