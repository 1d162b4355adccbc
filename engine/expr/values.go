package expr

import (
	"fmt"
	"sync"

	"github.com/sluicehq/sluice/engine/field"
)

// binding is a program compiled for one layout of field values, or why it
// cannot be.
type binding struct {
	l     *field.Layout
	fast  fastFn // nil when the program runs on the VM only
	test  boolFn // fast as a condition
	slots []int  // slots[i] is the slot in l of p.reads[i]
	err   error  // l lacks a field the program reads
}

// bind returns p compiled for l, which must have every field p reads.
func (p *Program) bind(l *field.Layout) (*binding, error) {
	b := p.bindings.Get(l, p.compileFor)
	return b, b.err
}

// compileFor compiles p for l.
func (p *Program) compileFor(l *field.Layout) *binding {
	b := &binding{l: l, slots: make([]int, len(p.reads))}
	for i, name := range p.reads {
		slot, ok := l.Index(name)
		if !ok {
			b.err = fmt.Errorf("eval %q: the fields given lack %q", p.src, name)
			return b
		}
		b.slots[i] = slot
	}
	if !p.anyField {
		b.fast, b.test = compileFast(p.prog.Node(), l)
	}
	return b
}

// Layout returns the layout of the fields the expression reads, for
// Record.Values. It is nil when the expression may read any field (see
// Fields); EvalValues cannot evaluate such an expression.
func (p *Program) Layout() *field.Layout { return p.layout }

// EvalValues evaluates the expression against the fields of one record,
// vals in the layout l, which must have every field the expression reads
// (Fields). The result is what Eval returns, as a field.Value: a nil
// result is null, never missing. Strings the expression makes may be
// allocated from a (which may be nil).
//
// Common expressions run directly on the values; the others, and any
// evaluation that would fail, run on expr-lang's virtual machine, so
// results and errors are exactly Eval's. Code that evaluates many records
// of one layout can Bind once and call Bound.Eval.
func (p *Program) EvalValues(l *field.Layout, vals []field.Value, a *field.Arena) (field.Value, error) {
	b, err := p.Bind(l)
	if err != nil {
		return field.Value{}, err
	}
	return b.Eval(vals, a)
}

// EvalValuesBool is EvalValues for a condition: the result must be a bool,
// as EvalBool requires.
func (p *Program) EvalValuesBool(l *field.Layout, vals []field.Value) (bool, error) {
	b, err := p.Bind(l)
	if err != nil {
		return false, err
	}
	return b.EvalBool(vals)
}

// Bound is a Program compiled for the field values of one layout (Bind).
// It is safe for concurrent use. The zero Bound is bound to nothing.
type Bound struct {
	p *Program
	b *binding
}

// Bind returns p compiled for l, which must have every field p reads. It
// fails for an expression that may read any field (Layout is nil).
func (p *Program) Bind(l *field.Layout) (Bound, error) {
	if p.layout == nil {
		return Bound{}, fmt.Errorf("eval %q: the expression may read any field; evaluate it with Eval", p.src)
	}
	b, err := p.bind(l)
	if err != nil {
		return Bound{}, err
	}
	return Bound{p: p, b: b}, nil
}

// Layout returns the layout b was bound to.
func (b Bound) Layout() *field.Layout {
	if b.b == nil {
		return nil
	}
	return b.b.l
}

// Eval is EvalValues with the layout b was bound to.
func (b Bound) Eval(vals []field.Value, a *field.Arena) (field.Value, error) {
	if b.b.fast != nil {
		if v, ok := b.b.fast(vals, a); ok && (!b.p.asBool || v.Kind() == field.KindBool) {
			switch v.Kind() {
			case field.KindMissing:
				v = field.Null()
			case field.KindAny:
				// In the types of the record model, as Eval returns them.
				v = field.FromAny(normalize(v.AnyValue()))
			}
			return v, nil
		}
	}
	out, err := b.p.evalOnVM(b.b, vals)
	if err != nil {
		return field.Value{}, err
	}
	return field.FromAny(out), nil
}

// EvalBool is EvalValuesBool with the layout b was bound to.
func (b Bound) EvalBool(vals []field.Value) (bool, error) {
	if b.b.test != nil {
		if v, ok := b.b.test(vals, nil); ok {
			return v, nil
		}
	}
	env := envOf(b.p, b.b, vals)
	defer putEnv(env)
	return b.p.EvalBool(env)
}

// evalOnVM evaluates p on the VM with the fields of vals in a map.
func (p *Program) evalOnVM(b *binding, vals []field.Value) (any, error) {
	env := envOf(p, b, vals)
	defer putEnv(env)
	return p.Eval(env)
}

// envs holds maps for envOf. The VM does not keep the map it is given.
var envs = sync.Pool{New: func() any { return make(map[string]any, 8) }}

// envOf returns a map of the fields p reads, taken from vals.
func envOf(p *Program, b *binding, vals []field.Value) map[string]any {
	env := envs.Get().(map[string]any)
	for i, name := range p.reads {
		if v := vals[b.slots[i]]; v.Exists() {
			env[name] = v.Any()
		}
	}
	return env
}

func putEnv(env map[string]any) {
	clear(env)
	envs.Put(env)
}

// functionsByName maps the name of each of Sluice's functions, internal
// ones included, to its implementation.
var functionsByName = func() map[string]func(...any) (any, error) {
	m := make(map[string]func(...any) (any, error), len(functions)+len(internalFunctions))
	for _, f := range functions {
		m[f.doc.Name] = f.fn
	}
	for _, f := range internalFunctions {
		m[f.doc.Name] = f.fn
	}
	return m
}()

// functionByName returns the implementation of Sluice's function name,
// nil if there is none.
func functionByName(name string) func(...any) (any, error) { return functionsByName[name] }
