package objectstore

import (
	"math"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/sluicehq/sluice/engine/codec"
	"github.com/sluicehq/sluice/engine/field"
)

// jsonTree is a JSON object parsed into a flat list of nodes that point
// into the bytes it was parsed from, so that a record's fields can be
// inferred, checked and appended to Arrow columns without building a
// map[string]any, boxing every value and copying every string. One tree
// is reused record after record: parsing allocates only while its buffers
// grow.
//
// It parses the subset of JSON it can read exactly as the json codec
// decodes it (integers to int64, other numbers to float64, strings with
// their escapes resolved). Anything else (malformed JSON, strings holding
// invalid UTF-8, numbers beyond the float64 range, a top-level value that
// is not an object, deep nesting) makes parse return false, and the
// caller decodes the record with its codec instead, which says what is
// wrong, or resolves it as the codec does. A key that an object repeats is
// kept twice here; the walks that read objects report it, and the caller
// then decodes the record too (a decode keeps the last value).
type jsonTree struct {
	src   []byte
	nodes []jnode
	text  []byte // unescaped strings and keys, for nodes with esc or kesc
	anys  []any  // values of jAny nodes
}

// jkind is the kind of a node.
type jkind uint8

const (
	jNull jkind = iota
	jFalse
	jTrue
	jInt
	jFloat
	jString
	jObject
	jArray
	jAny // a Go value the record holds in place of what its bytes say
)

// jnode is one JSON value. Members of an object also hold their key.
// Children of an object or array are linked through next, in order.
type jnode struct {
	kind       jkind
	esc, kesc  bool  // the string, the key, are in text rather than src
	s0, s1     int32 // bounds of a string
	key0, key1 int32 // bounds of a member's key
	num        uint64
	first      int32 // first child of an object or array, -1 if none
	next       int32 // next sibling, -1 if none
}

// maxTreeDepth is the deepest nesting of objects and arrays parse reads:
// below the sink's maxDepth, so that what a tree holds never reaches the
// depth limit of the checks; deeper records are decoded.
const maxTreeDepth = maxDepth - 4

// parse parses src, which must be one JSON object, into t. It reports
// false when the record must be decoded by its codec instead.
func (t *jsonTree) parse(src []byte) bool {
	t.src, t.nodes, t.text, t.anys = src, t.nodes[:0], t.text[:0], t.anys[:0]
	if len(src) > math.MaxInt32/2 {
		return false
	}
	i := skipSpace(src, 0)
	if i >= len(src) || src[i] != '{' {
		return false
	}
	_, end, ok := t.value(i, 0)
	return ok && skipSpace(src, end) == len(src)
}

func (t *jsonTree) add(k jkind) int32 {
	t.nodes = append(t.nodes, jnode{kind: k, first: -1, next: -1})
	return int32(len(t.nodes) - 1)
}

// value parses the value starting at src[i], which is not white space,
// and returns its node and the offset just past it.
func (t *jsonTree) value(i, depth int) (int32, int, bool) {
	src := t.src
	if i >= len(src) {
		return 0, 0, false
	}
	switch c := src[i]; c {
	case '{', '[':
		if depth >= maxTreeDepth {
			return 0, 0, false
		}
		k, closing := jObject, byte('}')
		if c == '[' {
			k, closing = jArray, ']'
		}
		n := t.add(k)
		i = skipSpace(src, i+1)
		if i < len(src) && src[i] == closing {
			return n, i + 1, true
		}
		last := int32(-1)
		for {
			var k0, k1 int32
			var kesc bool
			if k == jObject {
				if i >= len(src) || src[i] != '"' {
					return 0, 0, false
				}
				var ok bool
				if k0, k1, kesc, i, ok = t.str(i); !ok {
					return 0, 0, false
				}
				i = skipSpace(src, i)
				if i >= len(src) || src[i] != ':' {
					return 0, 0, false
				}
				i = skipSpace(src, i+1)
			}
			child, end, ok := t.value(i, depth+1)
			if !ok {
				return 0, 0, false
			}
			if k == jObject {
				cn := &t.nodes[child]
				cn.key0, cn.key1, cn.kesc = k0, k1, kesc
			}
			if last < 0 {
				t.nodes[n].first = child
			} else {
				t.nodes[last].next = child
			}
			last = child
			i = skipSpace(src, end)
			if i >= len(src) {
				return 0, 0, false
			}
			if src[i] == closing {
				return n, i + 1, true
			}
			if src[i] != ',' {
				return 0, 0, false
			}
			i = skipSpace(src, i+1)
		}
	case '"':
		s0, s1, esc, end, ok := t.str(i)
		if !ok {
			return 0, 0, false
		}
		n := t.add(jString)
		nd := &t.nodes[n]
		nd.s0, nd.s1, nd.esc = s0, s1, esc
		return n, end, true
	case 't':
		return t.literal(i, "true", jTrue)
	case 'f':
		return t.literal(i, "false", jFalse)
	case 'n':
		return t.literal(i, "null", jNull)
	}
	return t.number(i)
}

func (t *jsonTree) literal(i int, lit string, k jkind) (int32, int, bool) {
	if len(t.src)-i < len(lit) || string(t.src[i:i+len(lit)]) != lit {
		return 0, 0, false
	}
	return t.add(k), i + len(lit), true
}

// number parses a JSON number: an int64 when it has no fraction or
// exponent and fits, a float64 otherwise, as the json codec decodes it.
func (t *jsonTree) number(i int) (int32, int, bool) {
	v, end, ok := codec.Number(t.src, i)
	if !ok {
		return 0, 0, false
	}
	var n int32
	if v.Kind() == field.KindInt {
		n = t.add(jInt)
		t.nodes[n].num = uint64(v.Int())
	} else {
		n = t.add(jFloat)
		t.nodes[n].num = math.Float64bits(v.Float())
	}
	return n, end, true
}

// str parses the string whose opening quote is at src[i] and returns the
// bounds of its text, in src, or in t.text when it had escapes, and the
// offset just past its closing quote.
func (t *jsonTree) str(i int) (s0, s1 int32, esc bool, end int, ok bool) {
	src := t.src
	ascii := byte(0)
	for j := i + 1; j < len(src); j++ {
		c := src[j]
		if c == '"' {
			if ascii >= utf8.RuneSelf && !utf8.Valid(src[i+1:j]) {
				return 0, 0, false, 0, false
			}
			return int32(i + 1), int32(j), false, j + 1, true
		}
		if c == '\\' {
			return t.unescape(i)
		}
		if c < 0x20 {
			return 0, 0, false, 0, false
		}
		ascii |= c
	}
	return 0, 0, false, 0, false
}

// unescape is str for a string with escapes: it resolves them into
// t.text as encoding/json does (an invalid surrogate becomes U+FFFD).
func (t *jsonTree) unescape(i int) (s0, s1 int32, esc bool, end int, ok bool) {
	src := t.src
	start := len(t.text)
	j := i + 1
	for j < len(src) {
		c := src[j]
		switch {
		case c == '"':
			if !utf8.Valid(t.text[start:]) {
				return 0, 0, false, 0, false
			}
			return int32(start), int32(len(t.text)), true, j + 1, true
		case c < 0x20:
			return 0, 0, false, 0, false
		case c != '\\':
			k := j + 1
			for k < len(src) && src[k] != '"' && src[k] != '\\' && src[k] >= 0x20 {
				k++
			}
			t.text = append(t.text, src[j:k]...)
			j = k
			continue
		}
		if j+1 >= len(src) {
			return 0, 0, false, 0, false
		}
		switch e := src[j+1]; e {
		case '"', '\\', '/':
			t.text = append(t.text, e)
		case 'b':
			t.text = append(t.text, '\b')
		case 'f':
			t.text = append(t.text, '\f')
		case 'n':
			t.text = append(t.text, '\n')
		case 'r':
			t.text = append(t.text, '\r')
		case 't':
			t.text = append(t.text, '\t')
		case 'u':
			r := hex4(src, j+2)
			if r < 0 {
				return 0, 0, false, 0, false
			}
			j += 6
			if utf16.IsSurrogate(r) {
				if r2 := hex4(src, j+2); j+1 < len(src) && src[j] == '\\' && src[j+1] == 'u' && r2 >= 0 {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						t.text = utf8.AppendRune(t.text, d)
						j += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			t.text = utf8.AppendRune(t.text, r)
			continue
		default:
			return 0, 0, false, 0, false
		}
		j += 2
	}
	return 0, 0, false, 0, false
}

// hex4 returns the value of the four hex digits at src[i:], -1 if there
// are not four.
func hex4(src []byte, i int) rune {
	if i < 0 || len(src)-i < 4 {
		return -1
	}
	var r rune
	for _, c := range src[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

func skipSpace(src []byte, i int) int {
	for i < len(src) {
		switch src[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// unsafeString returns b as a string without copying, for a call that does
// not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// bytesOf returns the text of string node n.
func (t *jsonTree) bytesOf(n int32) []byte {
	nd := &t.nodes[n]
	if nd.esc {
		return t.text[nd.s0:nd.s1]
	}
	return t.src[nd.s0:nd.s1]
}

// key returns the key of member node n.
func (t *jsonTree) key(n int32) []byte {
	nd := &t.nodes[n]
	if nd.kesc {
		return t.text[nd.key0:nd.key1]
	}
	return t.src[nd.key0:nd.key1]
}

func (t *jsonTree) intOf(n int32) int64     { return int64(t.nodes[n].num) }
func (t *jsonTree) floatOf(n int32) float64 { return math.Float64frombits(t.nodes[n].num) }

// member returns the last member of object node o whose key is k, -1 if
// there is none.
func (t *jsonTree) member(o int32, k string) int32 {
	found := int32(-1)
	for m := t.nodes[o].first; m >= 0; m = t.nodes[m].next {
		if string(t.key(m)) == k {
			found = m
		}
	}
	return found
}

// overlay puts the top-level fields of m in place of those the bytes
// hold, or adds them: the fields that a record holds as Go values, which
// a transform set or the engine decoded, and which may have types that
// JSON does not give back (a time stays a time).
func (t *jsonTree) overlay(m map[string]any) {
	for k, v := range m {
		n := t.member(0, k)
		if n < 0 {
			n = t.add(jAny)
			nd := &t.nodes[n]
			nd.key0 = int32(len(t.text))
			t.text = append(t.text, k...)
			nd.key1, nd.kesc = int32(len(t.text)), true
			last := t.nodes[0].first
			if last < 0 {
				t.nodes[0].first = n
			} else {
				for t.nodes[last].next >= 0 {
					last = t.nodes[last].next
				}
				t.nodes[last].next = n
			}
		}
		nd := &t.nodes[n]
		nd.kind, nd.num, nd.first = jAny, uint64(len(t.anys)), -1
		t.anys = append(t.anys, v)
	}
}

// toAny returns node n as the json codec would decode it.
func (t *jsonTree) toAny(n int32) any {
	nd := &t.nodes[n]
	switch nd.kind {
	case jFalse:
		return false
	case jTrue:
		return true
	case jInt:
		return t.intOf(n)
	case jFloat:
		return t.floatOf(n)
	case jString:
		return string(t.bytesOf(n))
	case jAny:
		return t.anys[nd.num]
	case jObject:
		m := map[string]any{}
		for c := nd.first; c >= 0; c = t.nodes[c].next {
			m[string(t.key(c))] = t.toAny(c)
		}
		return m
	case jArray:
		l := []any{}
		for c := nd.first; c >= 0; c = t.nodes[c].next {
			l = append(l, t.toAny(c))
		}
		return l
	}
	return nil
}
