package expr

import (
	"fmt"
	"strings"
)

// path is a parsed dotted field path.
type path []string

func parsePath(s string) path { return strings.Split(s, ".") }

func (p path) String() string { return strings.Join(p, ".") }

// get returns the value at p in m.
func (p path) get(m map[string]any) (any, bool) {
	for i, seg := range p {
		v, ok := m[seg]
		if !ok {
			return nil, false
		}
		if i == len(p)-1 {
			return v, true
		}
		if m, ok = v.(map[string]any); !ok {
			return nil, false
		}
	}
	return nil, false
}

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
