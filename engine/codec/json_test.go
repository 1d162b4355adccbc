package codec

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// jsonCodecs returns the implementations of the json codec to test: sonic
// where it runs natively, and the portable encoding/json path everywhere.
func jsonCodecs() []struct {
	name  string
	codec jsonCodec
} {
	cs := []struct {
		name  string
		codec jsonCodec
	}{{"portable", jsonCodec{portable: true}}}
	if sonicNative {
		cs = append(cs, struct {
			name  string
			codec jsonCodec
		}{"sonic", jsonCodec{}})
	}
	return cs
}

const telemetryEvent = `{"event_id":"e-1","event":"match_end","ts":"2026-11-25T10:00:00.123Z","player_id":12345,"match_id":987654321,"region":"eu-west","latency_ms":42.5,"score":1200,"tags":["ranked","solo"],"device":{"os":"android","ver":"14"}}`

func TestJSONDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"telemetry event", telemetryEvent, map[string]any{
			"event_id": "e-1", "event": "match_end", "ts": "2026-11-25T10:00:00.123Z",
			"player_id": int64(12345), "match_id": int64(987654321), "region": "eu-west",
			"latency_ms": 42.5, "score": int64(1200), "tags": []any{"ranked", "solo"},
			"device": map[string]any{"os": "android", "ver": "14"},
		}},
		{"integer above 2^53 stays exact", `9007199254740993`, int64(9007199254740993)},
		{"id above 2^53 in an object", `{"id":1234567890123456789}`, map[string]any{"id": int64(1234567890123456789)}},
		{"max int64", `9223372036854775807`, int64(math.MaxInt64)},
		{"min int64", `-9223372036854775808`, int64(math.MinInt64)},
		{"beyond int64 is float64", `9223372036854775808`, float64(9223372036854775808)},
		{"below int64 is float64", `-9223372036854775809`, float64(-9223372036854775808)},
		{"huge integer is float64", `123456789012345678901234567890`, 1.2345678901234568e29},
		{"negative", `-42`, int64(-42)},
		{"zero", `0`, int64(0)},
		{"minus zero integer", `-0`, int64(0)},
		{"float", `42.5`, 42.5},
		{"integral float stays float64", `1.0`, 1.0},
		{"exponent is float64", `1e3`, 1000.0},
		{"upper exponent", `1E+2`, 100.0},
		{"negative exponent", `1e-2`, 0.01},
		{"large exponent", `-1.5e+300`, -1.5e300},
		{"underflow is zero", `1e-400`, 0.0},
		{"shortest float", `0.30000000000000004`, 0.30000000000000004},
		{"max float64", `1.7976931348623157e308`, math.MaxFloat64},
		{"unicode escapes", `"\u00e9\ud83d\ude00"`, "é😀"},
		{"raw unicode", `"é😀"`, "é😀"},
		{"lone surrogate", `"\ud800x"`, "\ufffdx"},
		{"invalid utf-8", "\"a\xffb\"", "a\ufffdb"},
		{"escapes", `"a\/b\"\\\b\f\n\r\t"`, "a/b\"\\\b\f\n\r\t"},
		{"escaped control character", `"\u0001"`, "\x01"},
		{"nested", `{"a":{"b":[1,{"c":[true,false,null]}]}}`, map[string]any{
			"a": map[string]any{"b": []any{int64(1), map[string]any{"c": []any{true, false, nil}}}},
		}},
		{"top-level array", `[1,"a",2.5]`, []any{int64(1), "a", 2.5}},
		{"top-level string", `"s"`, "s"},
		{"top-level true", `true`, true},
		{"top-level null", `null`, nil},
		{"surrounding white space", " \t\r\n7 \n", int64(7)},
		{"empty object", `{}`, map[string]any{}},
		{"empty array", `[]`, []any{}},
		{"later duplicate key wins", `{"a":1,"a":2}`, map[string]any{"a": int64(2)}},
		{"deepest nesting", strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth), nested(maxDepth)},
	}
	for _, c := range jsonCodecs() {
		for _, tc := range tests {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) {
				got, err := c.codec.Decode([]byte(tc.in))
				if err != nil {
					t.Fatalf("Decode(%q): %v", tc.in, err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("Decode(%q) = %#v, want %#v", tc.in, got, tc.want)
				}
			})
		}
	}
}

// nested returns depth arrays, each inside the last.
func nested(depth int) any {
	v := []any{}
	for range depth - 1 {
		v = []any{v}
	}
	return v
}

func TestJSONDecodeErrors(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantErr    string
		wantOffset int64
	}{
		{"empty", ``, "json: unexpected end of input at offset 0", 0},
		{"only white space", "  \n", "json: unexpected end of input at offset 3", 3},
		{"truncated object", `{"a":`, "json: unexpected end of input at offset 5", 5},
		{"truncated literal", `tru`, "json: unexpected end of input at offset 3", 3},
		{"truncated string", `"abc`, "json: unexpected end of input at offset 4", 4},
		{"trailing garbage", `{"a":1}x`, "json: invalid character 'x' after top-level value at offset 7", 7},
		{"second value", `{"a":1} {"b":2}`, "json: invalid character '{' after top-level value at offset 8", 8},
		{"leading zero", `01`, "json: invalid character '1' after top-level value at offset 1", 1},
		{"trailing comma in array", `[1,]`, "json: invalid character ']' looking for beginning of value at offset 3", 3},
		{"trailing comma in object", `{"a":1,}`, "json: invalid character '}' looking for beginning of object key string at offset 7", 7},
		{"missing colon", `{"a" 1}`, "json: invalid character '1' after object key at offset 5", 5},
		{"unquoted key", `{a:1}`, "json: invalid character 'a' looking for beginning of object key string at offset 1", 1},
		{"bad literal", `{"a":tru}`, "json: invalid character '}' in literal true (expecting 'e') at offset 8", 8},
		{"nan", `nan`, "json: invalid character 'a' in literal null (expecting 'u') at offset 1", 1},
		{"plus sign", `+1`, "json: invalid character '+' looking for beginning of value at offset 0", 0},
		{"leading dot", `.5`, "json: invalid character '.' looking for beginning of value at offset 0", 0},
		{"control character in string", "\"a\x01\"", `json: invalid character '\x01' in string literal at offset 2`, 2},
		{"bad escape", `"\q"`, "json: invalid character 'q' in string escape code at offset 2", 2},
		{"short unicode escape", `"\u12"`, `json: invalid character '"' in \u hexadecimal character escape at offset 5`, 5},
		{"byte order mark", "\ufeff{}", "json: invalid character 'ï' looking for beginning of value at offset 0", 0},
		{"number out of range", `1e400`, "json: number 1e400 out of range at offset 0", 0},
		{"nested number out of range", `{"x":[1,-1e999]}`, "json: number -1e999 out of range at offset 8", 8},
		{"too deep", strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1), "json: exceeded max nesting depth of 4095 at offset 4095", maxDepth},
		{"too deep in a string-keyed object", `{"[":` + strings.Repeat(`{"a":`, maxDepth) + `1` + strings.Repeat("}", maxDepth+1), "json: exceeded max nesting depth of 4095 at offset 20475", 20475},
	}
	for _, c := range jsonCodecs() {
		for _, tc := range tests {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) {
				v, err := c.codec.Decode([]byte(tc.in))
				if err == nil {
					t.Fatalf("Decode(%.40q) = %#v, want error", tc.in, v)
				}
				if err.Error() != tc.wantErr {
					t.Errorf("Decode(%.40q) error = %q, want %q", tc.in, err, tc.wantErr)
				}
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("Decode(%.40q) error is %T, want *SyntaxError", tc.in, err)
				}
				if se.Offset != tc.wantOffset || se.Codec != "json" {
					t.Errorf("Decode(%.40q) error at %s offset %d, want json offset %d", tc.in, se.Codec, se.Offset, tc.wantOffset)
				}
			})
		}
	}
}

func TestJSONDecodeCopiesInput(t *testing.T) {
	for _, c := range jsonCodecs() {
		t.Run(c.name, func(t *testing.T) {
			data := []byte(`{"region":"eu-west","tags":["ranked"]}`)
			v, err := c.codec.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			for i := range data {
				data[i] = 'x' // a source reusing its read buffer
			}
			want := map[string]any{"region": "eu-west", "tags": []any{"ranked"}}
			if !reflect.DeepEqual(v, want) {
				t.Fatalf("after the input changed, value = %#v, want %#v", v, want)
			}
		})
	}
}

type point struct {
	X    int    `json:"x"`
	Name string `json:"name,omitempty"`
}

func TestJSONEncode(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"keys sorted at every level", map[string]any{
			"z": 1, "a": map[string]any{"y": 2, "b": 3}, "m": []any{map[string]any{"d": 1, "c": 2}},
		}, `{"a":{"b":3,"y":2},"m":[{"c":2,"d":1}],"z":1}`},
		{"keys sorted bytewise", map[string]any{"b": 1, "B": 2, "a": 3, "_": 4, "é": 5, "10": 6, "9": 7},
			`{"10":6,"9":7,"B":2,"_":4,"a":3,"b":1,"é":5}`},
		{"telemetry event", map[string]any{
			"event_id": "e-1", "event": "match_end", "ts": "2026-11-25T10:00:00.123Z",
			"player_id": int64(12345), "match_id": int64(987654321), "region": "eu-west",
			"latency_ms": 42.5, "score": int64(1200), "tags": []any{"ranked", "solo"},
			"device": map[string]any{"os": "android", "ver": "14"},
		}, `{"device":{"os":"android","ver":"14"},"event":"match_end","event_id":"e-1","latency_ms":42.5,"match_id":987654321,"player_id":12345,"region":"eu-west","score":1200,"tags":["ranked","solo"],"ts":"2026-11-25T10:00:00.123Z"}`},
		{"integers", []any{int64(math.MinInt64), int64(math.MaxInt64), uint64(math.MaxUint64), 42, int8(-1), uint16(7)},
			`[-9223372036854775808,9223372036854775807,18446744073709551615,42,-1,7]`},
		{"big id stays exact", map[string]any{"id": int64(9007199254740993)}, `{"id":9007199254740993}`},
		{"floats", []any{42.5, 1.0, -0.0, 1e21, 1e20, 1e-7, 0.1, 5e-324, math.MaxFloat64, float32(0.1)},
			`[42.5,1,0,1e+21,100000000000000000000,1e-7,0.1,5e-324,1.7976931348623157e+308,0.1]`},
		{"time as RFC 3339 with nanoseconds", time.Date(2026, 11, 25, 10, 0, 0, 123000000, time.UTC), `"2026-11-25T10:00:00.123Z"`},
		{"time with a zone", time.Date(2026, 11, 25, 10, 0, 0, 1, time.FixedZone("", 3600)), `"2026-11-25T10:00:00.000000001+01:00"`},
		{"bytes as base64", map[string]any{"b": []byte("hello")}, `{"b":"aGVsbG8="}`},
		{"html not escaped", "<a>&b", `"<a>&b"`},
		{"invalid utf-8 replaced", "bad\xffutf8", `"bad\ufffdutf8"`},
		{"control characters escaped", "\x00\x1f\"\\\n\t", `"\u0000\u001f\"\\\n\t"`},
		{"unicode kept", "é😀", `"é😀"`},
		{"nil", nil, `null`},
		{"nil slice", []any(nil), `null`},
		{"empty map", map[string]any{}, `{}`},
		{"empty slice", []any{}, `[]`},
		{"map of strings", map[string]string{"b": "1", "a": "2"}, `{"a":"2","b":"1"}`},
		{"struct by tags", point{X: 1}, `{"x":1}`},
	}
	for _, c := range jsonCodecs() {
		for _, tc := range tests {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) {
				got, err := c.codec.Encode(tc.in)
				if err != nil {
					t.Fatalf("Encode(%#v): %v", tc.in, err)
				}
				if string(got) != tc.want {
					t.Fatalf("Encode(%#v) = %s, want %s", tc.in, got, tc.want)
				}
			})
		}
	}
}

func TestJSONEncodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		wantErr string
	}{
		{"NaN", math.NaN(), "unsupported value"},
		{"infinity", map[string]any{"x": math.Inf(1)}, "unsupported value"},
		{"channel", make(chan int), "unsupported type"},
		{"function", map[string]any{"f": func() {}}, "unsupported type"},
	}
	for _, c := range jsonCodecs() {
		for _, tc := range tests {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) {
				prefix := []byte("keep")
				out, err := c.codec.AppendEncode(prefix, tc.in)
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "json: ") {
					t.Fatalf("AppendEncode(%T) error = %v, want json: ...%s...", tc.in, err, tc.wantErr)
				}
				if string(out) != "keep" {
					t.Fatalf("AppendEncode(%T) on error returned %q, want dst unchanged", tc.in, out)
				}
			})
		}
	}
}

func TestJSONAppendEncode(t *testing.T) {
	for _, c := range jsonCodecs() {
		t.Run(c.name, func(t *testing.T) {
			// The prefix is not JSON and not valid UTF-8: it must come back as is.
			dst := append(make([]byte, 0, 64), "\xff prefix "...)
			out, err := c.codec.AppendEncode(dst, map[string]any{"b": "x\xff", "a": 1})
			if err != nil {
				t.Fatal(err)
			}
			if want := "\xff prefix " + `{"a":1,"b":"x\ufffd"}`; string(out) != want {
				t.Fatalf("AppendEncode = %q, want %q", out, want)
			}
			out, err = c.codec.AppendEncode(out, []any{1})
			if err != nil {
				t.Fatal(err)
			}
			if want := "\xff prefix " + `{"a":1,"b":"x\ufffd"}[1]`; string(out) != want {
				t.Fatalf("second AppendEncode = %q, want %q", out, want)
			}
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, c := range jsonCodecs() {
		t.Run(c.name, func(t *testing.T) {
			v, err := c.codec.Decode([]byte(telemetryEvent))
			if err != nil {
				t.Fatal(err)
			}
			b, err := c.codec.Encode(v)
			if err != nil {
				t.Fatal(err)
			}
			want := `{"device":{"os":"android","ver":"14"},"event":"match_end","event_id":"e-1","latency_ms":42.5,"match_id":987654321,"player_id":12345,"region":"eu-west","score":1200,"tags":["ranked","solo"],"ts":"2026-11-25T10:00:00.123Z"}`
			if string(b) != want {
				t.Fatalf("Encode(Decode(event)) = %s, want %s", b, want)
			}
			v2, err := c.codec.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(v, v2) {
				t.Fatalf("round trip changed the value: %#v, then %#v", v, v2)
			}
		})
	}
}

func TestJSONConcurrentUse(t *testing.T) {
	c, err := Lookup("json")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			var buf []byte
			for i := range 200 {
				v, err := c.Decode([]byte(telemetryEvent))
				if err != nil {
					t.Error(err)
					return
				}
				m := v.(map[string]any)
				m["worker"] = int64(g)
				m["i"] = int64(i)
				if buf, err = c.AppendEncode(buf[:0], m); err != nil {
					t.Error(err)
					return
				}
				back, err := c.Decode(buf)
				if err != nil {
					t.Error(err)
					return
				}
				if !reflect.DeepEqual(back, m) {
					t.Errorf("worker %d: round trip gave %#v, want %#v", g, back, m)
					return
				}
			}
		})
	}
	wg.Wait()
}
