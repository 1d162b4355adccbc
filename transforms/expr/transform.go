package expr

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sluicehq/sluice/engine"
	lang "github.com/sluicehq/sluice/engine/expr"
	"github.com/sluicehq/sluice/engine/field"
	"github.com/sluicehq/sluice/engine/spec"
)

// Register adds filter, set, drop and rename to r.
func Register(r *engine.Registry) error {
	return errors.Join(
		engine.RegisterTransform(r, engine.TransformSpec[FilterConfig]{
			Name:     "filter",
			Summary:  "Keeps the records for which an expression is true; the others are filtered.",
			Example:  `filter: 'event != "heartbeat" && latency_ms < 5000'`,
			Defaults: func() FilterConfig { return "" },
			New:      func(c FilterConfig, _ engine.Env) (engine.Transform, error) { return NewFilter(string(c)) },
		}),
		engine.RegisterTransform(r, engine.TransformSpec[SetConfig]{
			Name:     "set",
			Summary:  "Adds or overwrites fields with the values of expressions, in the order written.",
			Example:  "set: {day: 'format_time(ts, \"2006-01-02\")', region: 'upper(region)'}",
			Defaults: func() SetConfig { return nil },
			New:      func(c SetConfig, _ engine.Env) (engine.Transform, error) { return NewSet(c) },
		}),
		engine.RegisterTransform(r, engine.TransformSpec[DropConfig]{
			Name:     "drop",
			Summary:  "Removes fields from records.",
			Example:  "drop: [debug, device.ver]",
			Defaults: func() DropConfig { return nil },
			New:      func(c DropConfig, _ engine.Env) (engine.Transform, error) { return NewDrop(c), nil },
		}),
		engine.RegisterTransform(r, engine.TransformSpec[RenameConfig]{
			Name:     "rename",
			Summary:  "Moves fields to new names, in the order written; a missing field is left alone.",
			Example:  "rename: {player_id: player}",
			Defaults: func() RenameConfig { return nil },
			New:      func(c RenameConfig, _ engine.Env) (engine.Transform, error) { return NewRename(c) },
		}),
	)
}

// Filter keeps the records for which its expression is true.
type Filter struct {
	prog   *lang.Program
	keys   []string      // the fields it reads; nil for all
	layout *field.Layout // keys as a layout; nil for all
}

// NewFilter compiles src, which must give a boolean.
func NewFilter(src string) (*Filter, error) {
	p, err := lang.Compile(src, lang.AsBool())
	if err != nil {
		return nil, err
	}
	return &Filter{prog: p, keys: viewKeys(nil, p), layout: p.Layout()}, nil
}

// Apply keeps the records of in for which the expression is true, in place.
func (f *Filter) Apply(_ context.Context, in engine.Batch) (engine.Batch, error) {
	out := in.Records[:0]
	var bound lang.Bound // for the layout the record before had
	for i := range in.Records {
		rec := &in.Records[i]
		keep, err := f.test(rec, &bound)
		if err != nil {
			rec.Err = engine.Permanent(fmt.Errorf("filter: %w", err))
			keep = true // passed on to be dead-lettered
		}
		switch {
		case !keep:
		case len(out) == i:
			out = out[:i+1] // in place: nothing dropped yet
		default:
			out = append(out, *rec)
		}
	}
	return engine.Batch{Records: out}, nil
}

// test evaluates the filter on rec. bound is the filter bound to the
// layout the record before had, which holds the filter's fields: asked
// for that layout, a record of the same layout costs no lookup.
func (f *Filter) test(rec *engine.Record, bound *lang.Bound) (bool, error) {
	if f.layout == nil {
		fields, err := rec.Fields()
		if err != nil {
			return false, err
		}
		return f.prog.EvalBool(fields)
	}
	want := bound.Layout()
	if want == nil {
		want = f.layout
	}
	l, vals, err := rec.Values(want)
	if err != nil {
		return false, err
	}
	if l != bound.Layout() {
		if *bound, err = f.prog.Bind(l); err != nil {
			return false, err
		}
	}
	return bound.EvalBool(vals)
}

type assignment struct {
	to   path
	prog *lang.Program
}

// Set assigns fields from expressions.
type Set struct {
	steps  []assignment
	keys   []string      // the fields it reads or sets; nil for all
	layout *field.Layout // keys as a layout; nil for all
	// targets holds, for each layout records come in, the slot each step
	// sets (of the top-level field of its path).
	targets field.Cache[[]int]
}

// NewSet compiles every expression of c; errors name the field.
func NewSet(c SetConfig) (*Set, error) {
	if len(c) == 0 {
		return nil, errors.New("expected at least one field: expression pair")
	}
	s := &Set{}
	var errs []error
	for _, kv := range c {
		if err := checkPath(kv.Key); err != nil {
			errs = append(errs, spec.At(kv.Key, err))
			continue
		}
		p, err := lang.Compile(kv.Value)
		if err != nil {
			errs = append(errs, spec.At(kv.Key, err))
			continue
		}
		s.steps = append(s.steps, assignment{to: parsePath(kv.Key), prog: p})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var targets []string
	progs := make([]*lang.Program, len(s.steps))
	for i, st := range s.steps {
		targets = append(targets, st.to[0])
		progs[i] = st.prog
	}
	s.keys = viewKeys(targets, progs...)
	if s.keys != nil {
		s.layout = field.NewLayout(s.keys...)
	}
	return s, nil
}

// Apply sets the fields of every record of in, in place.
func (s *Set) Apply(_ context.Context, in engine.Batch) (engine.Batch, error) {
	if s.layout == nil {
		return s.applyFields(in), nil
	}
	var arena field.Arena // the strings set on this batch
	// The steps bound to bl, the layout of the record before, and the slots
	// they set in it. Records are asked for bl, which holds s.layout, so
	// that one of the same layout costs no lookup.
	bound := make([]lang.Bound, len(s.steps))
	bl := s.layout
	var slots []int
	for i := range in.Records {
		rec := &in.Records[i]
		l, vals, err := rec.Values(bl)
		if err != nil {
			rec.Err = fmt.Errorf("set: %w", err)
			continue
		}
		if l != bl || slots == nil {
			if err := s.bind(l, bound); err != nil {
				rec.Err = engine.Permanent(fmt.Errorf("set: %w", err))
				continue
			}
			bl, slots = l, s.targets.Get(l, s.slotsIn)
		}
		for k, st := range s.steps {
			v, err := bound[k].Eval(vals, &arena)
			if err == nil {
				err = st.to.setValue(rec, l, vals, slots[k], v)
			}
			if err != nil {
				rec.Err = engine.Permanent(fmt.Errorf("set %s: %w", st.to, err))
				break
			}
		}
	}
	return in, nil
}

// bind binds every step to l, into bound.
func (s *Set) bind(l *field.Layout, bound []lang.Bound) error {
	for k, st := range s.steps {
		b, err := st.prog.Bind(l)
		if err != nil {
			return err
		}
		bound[k] = b
	}
	return nil
}

// slotsIn returns the slot in l of the field each step sets.
func (s *Set) slotsIn(l *field.Layout) []int {
	slots := make([]int, len(s.steps))
	for k, st := range s.steps {
		slots[k], _ = l.Index(st.to[0])
	}
	return slots
}

// applyFields is Apply for expressions that may read any field: on the
// records' fields decoded in full.
func (s *Set) applyFields(in engine.Batch) engine.Batch {
	for i := range in.Records {
		rec := &in.Records[i]
		fields, err := rec.Fields()
		if err != nil {
			rec.Err = fmt.Errorf("set: %w", err)
			continue
		}
		for _, st := range s.steps {
			v, err := st.prog.Eval(fields)
			if err == nil {
				err = st.to.set(fields, v)
			}
			if err != nil {
				rec.Err = engine.Permanent(fmt.Errorf("set %s: %w", st.to, err))
				break
			}
		}
		rec.MarkChanged()
	}
	return in
}

// Drop removes fields.
type Drop struct {
	paths  []path
	keys   []string      // the top-level fields it changes
	layout *field.Layout // keys as a layout
}

// NewDrop returns a Drop of the field paths in c.
func NewDrop(c DropConfig) *Drop {
	d := &Drop{}
	var top []string
	for _, p := range c {
		d.paths = append(d.paths, parsePath(p))
		top = append(top, d.paths[len(d.paths)-1][0])
	}
	d.keys = viewKeys(top)
	d.layout = field.NewLayout(d.keys...)
	return d
}

// Apply removes the fields from every record of in, in place.
func (d *Drop) Apply(_ context.Context, in engine.Batch) (engine.Batch, error) {
	for i := range in.Records {
		rec := &in.Records[i]
		l, vals, err := rec.Values(d.layout)
		if err != nil {
			rec.Err = fmt.Errorf("drop: %w", err)
			continue
		}
		for _, p := range d.paths {
			p.delValue(rec, l, vals)
		}
	}
	return in, nil
}

type move struct{ from, to path }

// Rename moves fields.
type Rename struct {
	moves  []move
	keys   []string      // the top-level fields it changes
	layout *field.Layout // keys as a layout
}

// NewRename returns a Rename of the pairs in c.
func NewRename(c RenameConfig) (*Rename, error) {
	if len(c) == 0 {
		return nil, errors.New("expected at least one old: new pair")
	}
	r := &Rename{}
	var errs []error
	for _, kv := range c {
		if err := checkPath(kv.Key); err != nil {
			errs = append(errs, spec.At(kv.Key, err))
			continue
		}
		if err := checkPath(kv.Value); err != nil {
			errs = append(errs, spec.At(kv.Key, err))
			continue
		}
		r.moves = append(r.moves, move{from: parsePath(kv.Key), to: parsePath(kv.Value)})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var top []string
	for _, m := range r.moves {
		top = append(top, m.from[0], m.to[0])
	}
	r.keys = viewKeys(top)
	r.layout = field.NewLayout(r.keys...)
	return r, nil
}

// Apply renames the fields of every record of in, in place.
func (r *Rename) Apply(_ context.Context, in engine.Batch) (engine.Batch, error) {
	for i := range in.Records {
		rec := &in.Records[i]
		l, vals, err := rec.Values(r.layout)
		if err != nil {
			rec.Err = fmt.Errorf("rename: %w", err)
			continue
		}
		for _, m := range r.moves {
			v, ok := m.from.delValue(rec, l, vals)
			if !ok {
				continue
			}
			slot, _ := l.Index(m.to[0])
			if err := m.to.setValue(rec, l, vals, slot, v); err != nil {
				rec.Err = engine.Permanent(fmt.Errorf("rename %s: %w", m.from, err))
				break
			}
		}
	}
	return in, nil
}

// UsedFields implements engine.FieldsUser.
func (f *Filter) UsedFields() []string { return f.keys }

// UsedFields implements engine.FieldsUser.
func (s *Set) UsedFields() []string { return s.keys }

// UsedFields implements engine.FieldsUser.
func (d *Drop) UsedFields() []string { return d.keys }

// UsedFields implements engine.FieldsUser.
func (r *Rename) UsedFields() []string { return r.keys }

// viewKeys returns the top-level fields a transform asks a record for
// (engine.Record.Values): the fields it changes and those its programs read,
// sorted and never nil; or nil, meaning every field, when a program may read
// fields it does not name.
func viewKeys(changes []string, progs ...*lang.Program) []string {
	keys := append([]string{}, changes...)
	for _, p := range progs {
		reads, exact := p.Fields()
		if !exact {
			return nil
		}
		keys = append(keys, reads...)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}
