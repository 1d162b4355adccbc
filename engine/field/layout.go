package field

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Layout is a set of top-level field names in sorted order, each with a
// slot index: the shape of a []Value holding those fields. A Layout is
// immutable and safe for concurrent use. NewLayout interns layouts, so two
// layouts of the same names are the same pointer.
type Layout struct {
	names []string
	index map[string]int
	// short[n] lists the slots of the names n bytes long, for Lookup.
	short [maxShort][]int
	key   string // the names joined by \x00: the intern key

	// unions holds the unions computed so far, a short list read without
	// locking and replaced whole when one is added.
	unions atomic.Pointer[[]unionOf]
}

// maxShort is the name length up to which Lookup finds candidates by
// length alone.
const maxShort = 32

type unionOf struct{ other, union *Layout }

// interned holds every layout made, by key.
var interned sync.Map // string → *Layout

// NewLayout returns the layout of names, sorted and without duplicates.
func NewLayout(names ...string) *Layout {
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	key := strings.Join(sorted, "\x00")
	if l, ok := interned.Load(key); ok {
		return l.(*Layout)
	}
	l := &Layout{names: slices.Clip(sorted), index: make(map[string]int, len(sorted)), key: key}
	for i, n := range sorted {
		l.index[n] = i
		if len(n) < maxShort {
			l.short[len(n)] = append(l.short[len(n)], i)
		}
	}
	actual, _ := interned.LoadOrStore(key, l)
	return actual.(*Layout)
}

// Len returns the number of fields.
func (l *Layout) Len() int { return len(l.names) }

// Names returns the field names in slot order. The caller must not change
// the slice.
func (l *Layout) Names() []string { return l.names }

// Name returns the name of slot i.
func (l *Layout) Name(i int) string { return l.names[i] }

// Index returns the slot of name.
func (l *Layout) Index(name string) (int, bool) {
	i, ok := l.index[name]
	return i, ok
}

// Lookup returns the slot of the name spelled by key, -1 if the layout
// does not have it. It does not allocate.
func (l *Layout) Lookup(key []byte) int {
	if len(key) < maxShort {
		for _, i := range l.short[len(key)] {
			if l.names[i] == string(key) {
				return i
			}
		}
		return -1
	}
	if i, ok := l.index[string(key)]; ok {
		return i
	}
	return -1
}

// Union returns the layout of the names of l and o together; l itself when
// o's names are all in l.
func (l *Layout) Union(o *Layout) *Layout {
	if o == l || o == nil {
		return l
	}
	known := l.unions.Load()
	if known != nil {
		for _, k := range *known {
			if k.other == o {
				return k.union
			}
		}
	}
	u := l
	for _, n := range o.names {
		if _, ok := l.index[n]; !ok {
			u = NewLayout(append(slices.Clone(l.names), o.names...)...)
			break
		}
	}
	// Remember it, unless other goroutines keep adding: a lost race only
	// costs computing it again. The list is bounded; past that, unions
	// are computed each time.
	if known == nil || len(*known) < maxUnions {
		var next []unionOf
		if known != nil {
			next = append(next, *known...)
		}
		next = append(next, unionOf{other: o, union: u})
		l.unions.CompareAndSwap(known, &next)
	}
	return u
}

// maxUnions is the most unions a layout remembers.
const maxUnions = 64

// Contains reports whether every name of o is in l.
func (l *Layout) Contains(o *Layout) bool { return l.Union(o) == l }

// String returns the names, comma-separated, in braces.
func (l *Layout) String() string { return "{" + strings.Join(l.names, ", ") + "}" }

// Cache holds a value made for each layout it is asked about, such as code
// compiled for the layout's slots. It is safe for concurrent use; a lookup
// takes no lock. The zero Cache is ready to use.
type Cache[T any] struct {
	entries atomic.Pointer[[]cacheEntry[T]]
}

type cacheEntry[T any] struct {
	l *Layout
	v T
}

// maxCached is the most layouts a Cache keeps values for; past that, Get
// makes the value each time.
const maxCached = 16

// Get returns the value for l, calling make the first time.
func (c *Cache[T]) Get(l *Layout, make func(*Layout) T) T {
	known := c.entries.Load()
	if known != nil {
		for _, e := range *known {
			if e.l == l {
				return e.v
			}
		}
	}
	v := make(l)
	if known == nil || len(*known) < maxCached {
		var next []cacheEntry[T]
		if known != nil {
			next = append(next, *known...)
		}
		next = append(next, cacheEntry[T]{l: l, v: v})
		c.entries.CompareAndSwap(known, &next)
	}
	return v
}
