package expr

import (
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/field"
)

// path is a parsed dotted field path.
type path []string

func parsePath(s string) path { return strings.Split(s, ".") }

func (p path) String() string { return strings.Join(p, ".") }

// set stores v at p in m, creating objects on the way.
func (p path) set(m map[string]any, v any) error {
	for i, seg := range p[:len(p)-1] {
		next, ok := m[seg]
		if !ok || next == nil {
			nm := map[string]any{}
			m[seg] = nm
			m = nm
			continue
		}
		if m, ok = next.(map[string]any); !ok {
			return fmt.Errorf("cannot set %s: %s is not an object", p, p[:i+1])
		}
	}
	m[p[len(p)-1]] = v
	return nil
}

// del removes p from m and reports whether it was there.
func (p path) del(m map[string]any) (any, bool) {
	for _, seg := range p[:len(p)-1] {
		next, ok := m[seg].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	last := p[len(p)-1]
	v, ok := m[last]
	if ok {
		delete(m, last)
	}
	return v, ok
}

// setValue stores v at p in rec, whose fields vals are in layout l, the
// top-level field of p in slot. Objects on the way are created, or changed
// in place: they belong to the record.
func (p path) setValue(rec *engine.Record, l *field.Layout, vals []field.Value, slot int, v field.Value) error {
	if len(p) == 1 {
		rec.SetValue(l, slot, v)
		return nil
	}
	// Set it in a map of the top-level field alone, so that errors name
	// the path as set does on all the fields.
	top := vals[slot]
	env := map[string]any{}
	if top.Exists() {
		env[p[0]] = top.Any()
	}
	if err := p.set(env, v.Any()); err != nil {
		return err
	}
	rec.SetValue(l, slot, field.OfAny(env[p[0]]))
	return nil
}

// delValue removes p from rec, whose fields vals are in layout l, and
// returns the value removed.
func (p path) delValue(rec *engine.Record, l *field.Layout, vals []field.Value) (field.Value, bool) {
	slot, ok := l.Index(p[0])
	if !ok || !vals[slot].Exists() {
		return field.Value{}, false
	}
	if len(p) == 1 {
		v := vals[slot]
		rec.SetValue(l, slot, field.Missing())
		return v, true
	}
	m, ok := vals[slot].AnyValue().(map[string]any)
	if !ok {
		return field.Value{}, false
	}
	v, ok := p[1:].del(m)
	if !ok {
		return field.Value{}, false
	}
	rec.SetValue(l, slot, field.OfAny(m))
	return field.FromAny(v), true
}
