package codec

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// FuzzJSONDecode checks that Decode never panics, that every error is a
// *SyntaxError with an offset inside the input, that a decoded value
// survives Encode and Decode again (numbers by value: 1.0 comes back as the
// integer 1), that encoding is stable from the second round trip on, and that sonic and the portable
// encoding/json path agree on every input.
func FuzzJSONDecode(f *testing.F) {
	for _, seed := range []string{
		telemetryEvent,
		`{"a":1,"a":2}`, `[1,2.5,"x",null,true,false,{},[]]`, `"\u00e9\ud83d\ude00\ud800"`, "\"\xff\x01\"",
		`9007199254740993`, `9223372036854775808`, `-0`, `-0.0`, `1.0`, `1e3`, `1e400`, `4.611686018427389e18`,
		``, ` `, `{`, `{"a":1}x`, `[1,]`, `01`, `nan`, `"\q"`, `[[[[]]]]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		type result struct {
			v   any
			err error
		}
		var results []result
		for _, c := range jsonCodecs() {
			v, err := c.codec.Decode(data)
			results = append(results, result{v, err})
			if err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("%s: Decode(%q) error %q is %T, want *SyntaxError", c.name, data, err, err)
				}
				if se.Offset < 0 || se.Offset > int64(len(data)) {
					t.Fatalf("%s: Decode(%q) error %q has an offset outside the input", c.name, data, err)
				}
				continue
			}
			b, err := c.codec.Encode(v)
			if err != nil {
				t.Fatalf("%s: Encode(Decode(%q)): %v", c.name, data, err)
			}
			v2, err := c.codec.Decode(b)
			if err != nil {
				t.Fatalf("%s: Decode(Encode(Decode(%q))) of %q: %v", c.name, data, b, err)
			}
			if !sameValue(v, v2) {
				t.Fatalf("%s: round trip of %q through %q changed %#v to %#v", c.name, data, b, v, v2)
			}
			// The second encoding is final: the first may still change
			// (-0.0 encodes as -0, which decodes as the integer 0).
			b2, err := c.codec.Encode(v2)
			if err != nil {
				t.Fatalf("%s: Encode(%#v): %v", c.name, v2, err)
			}
			v3, err := c.codec.Decode(b2)
			if err != nil {
				t.Fatalf("%s: Decode(%q): %v", c.name, b2, err)
			}
			if b3, err := c.codec.Encode(v3); err != nil || !bytes.Equal(b2, b3) {
				t.Fatalf("%s: encoding is not stable for %q: %q, then %q (%v)", c.name, data, b2, b3, err)
			}
		}
		if len(results) == 2 {
			a, b := results[0], results[1]
			if (a.err == nil) != (b.err == nil) || a.err != nil && a.err.Error() != b.err.Error() {
				t.Fatalf("Decode(%q): portable error %v, sonic error %v", data, a.err, b.err)
			}
			if !reflect.DeepEqual(a.v, b.v) {
				t.Fatalf("Decode(%q): portable %#v, sonic %#v", data, a.v, b.v)
			}
		}
	})
}

// sameValue reports whether decoded values a and b are equal, comparing a
// float64 with an int64 by value.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case float64:
			return float64(x) == y
		}
		return false
	case float64:
		switch y := b.(type) {
		case int64:
			return x == float64(y)
		case float64:
			return x == y
		}
		return false
	}
	return a == b
}
