package field

import (
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
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
	// first[c] has bit i set when the name in slot i (of the first 64)
	// starts with the byte c, for MatchKey.
	first [256]uint64
	key   string // the names joined by \x00: the intern key

	// unions holds the unions computed so far, by the other layout.
	unions Cache[*Layout]
}

// maxShort is the name length up to which Lookup finds candidates by
// length alone.
const maxShort = 32

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
		if i < 64 && writtenAsIs(n) {
			c := byte('"') // the empty name: the closing quote comes first
			if n != "" {
				c = n[0]
			}
			l.first[c] |= 1 << i
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

// MatchKey returns the slot of the name that quoted starts with, followed
// by a closing quote, and the offset in quoted just past that quote: the
// JSON key "event" in `"event":1` without scanning the key for its end. It
// returns -1 when no name of the first 64 slots is there, which may also
// be because the key is written with escapes. quoted starts with the
// opening quote.
func (l *Layout) MatchKey(quoted []byte) (slot, end int) {
	if len(quoted) < 2 {
		return -1, 0
	}
	for m := l.first[quoted[1]]; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		n := l.names[i]
		if e := len(n) + 1; e < len(quoted) && quoted[e] == '"' && string(quoted[1:e]) == n {
			return i, e + 1
		}
	}
	return -1, 0
}

// writtenAsIs reports whether JSON writes the key name as its bytes
// between quotes, with no escape: valid UTF-8 without a quote, a
// backslash or a control character. MatchKey only knows such names.
func writtenAsIs(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.ValidString(name)
}

// Union returns the layout of the names of l and o together; l itself when
// o's names are all in l.
func (l *Layout) Union(o *Layout) *Layout {
	if o == l || o == nil {
		return l
	}
	return l.unions.Get(o, l.union)
}

// union computes the union of l and o.
func (l *Layout) union(o *Layout) *Layout {
	for _, n := range o.names {
		if _, ok := l.index[n]; !ok {
			return NewLayout(append(slices.Clone(l.names), o.names...)...)
		}
	}
	return l
}

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
