package codec

import (
	"bytes"
	"maps"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/sluicehq/sluice/engine/field"
)

func TestPick(t *testing.T) {
	c := jsonCodec{}
	event := []byte(`{"event_id":"g1-7","event":"kill","ts":"2026-11-25T00:00:01.500Z","player_id":1234,` +
		`"region":"eu-west","latency_ms":42.5,"device":{"os":"pc","ver":"17.1"},"tags":["a","b"],"ok":true,"gone":null,` +
		`"big":12345678901234567890,"esc":"a\"b\\u00e9","ev\u0065nt2":"escaped key","event":"kill2"}`)
	keys := []string{"event", "latency_ms", "player_id", "device", "tags", "ok", "gone", "big", "esc", "event2", "missing"}
	dst, err := pick(c, event, keys)
	if err != nil {
		t.Fatal(err)
	}
	full, err := c.Decode(event)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{}
	for _, k := range keys {
		if v, ok := full.(map[string]any)[k]; ok {
			want[k] = v
		}
	}
	if !reflect.DeepEqual(dst, want) {
		t.Errorf("Pick =\n%#v\nwant\n%#v", dst, want)
	}
	if dst["event"] != "kill2" || dst["player_id"] != int64(1234) || dst["esc"] != `a"b\u00e9` {
		t.Errorf("values: %#v", dst)
	}
	if _, ok := dst["missing"]; ok {
		t.Error("a missing key was stored")
	}
}

func TestPickRejects(t *testing.T) {
	c := jsonCodec{}
	for _, in := range []string{
		``, `[]`, `"s"`, `12`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{"a":[1,2}`,
		`{"a":"unterminated}`, `{"a":1} x`, `{"a":01}`, `{"a":tru}`, `{"a":"\x01"}`, `{"a":1e999}`,
		`{a:1}`, `{"a":{"b":1]}`, `{"z":01,"a":1}`, `{"z":[1,,2],"a":1}`, `{"z":"\q","a":1}`, `{"z":{"x" 1},"a":1}`,
		`{"z":1e999,"a":1}`, `{"z":nul,"a":1}`, `{"z":"\u12G4","a":1}`, `{"z":[1 2],"a":1}`,
	} {
		_, err := pick(c, []byte(in), []string{"a"})
		if err == nil {
			t.Errorf("Pick(%q) accepted it", in)
		}
		if _, derr := c.Decode([]byte(in)); derr == nil {
			if m, ok := mustDecode(c, in).(map[string]any); ok && m != nil {
				t.Errorf("Pick(%q) rejected an object that Decode accepts", in)
			}
		}
	}
}

// pick picks keys from data with PickValues and returns them as a map, as
// Decode would have them.
func pick(c jsonCodec, data []byte, keys []string) (map[string]any, error) {
	return pickWith(c, data, keys, nil)
}

// pickWith is pick with a key cache.
func pickWith(c jsonCodec, data []byte, keys []string, cache *KeyCache) (map[string]any, error) {
	l := field.NewLayout(keys...)
	vals := make([]field.Value, l.Len())
	if err := c.PickValues(data, l, ^uint64(0), vals, cache); err != nil {
		return nil, err
	}
	m := map[string]any{}
	for i, v := range vals {
		if v.Exists() {
			m[l.Name(i)] = v.Any()
		}
	}
	return m, nil
}

// patch patches data with changes, a nil value removing a key.
func patch(c jsonCodec, dst, data []byte, changes map[string]any) ([]byte, error) {
	names := slices.Collect(maps.Keys(changes))
	l := field.NewLayout(names...)
	vals := make([]field.Value, l.Len())
	for i, n := range l.Names() {
		if changes[n] != nil {
			vals[i] = field.FromAny(changes[n])
		}
	}
	return c.PatchValues(dst, data, l, vals, 1<<l.Len()-1)
}

// TestPickKeyWithQuote checks that a field name with a quote in it is not
// matched against the raw bytes of a key, which would accept broken JSON.
func TestPickKeyWithQuote(t *testing.T) {
	c := jsonCodec{}
	if m, err := pick(c, []byte(`{"a"b":1}`), []string{`a"b`}); err == nil {
		t.Errorf("accepted broken JSON: %v", m)
	}
	m, err := pick(c, []byte(`{"a\"b":1}`), []string{`a"b`})
	if err != nil || m[`a"b`] != int64(1) {
		t.Errorf("escaped key: %v, %v", m, err)
	}
}

// TestKeyCacheBufferReused reads an object through a key cache, then
// writes another object over the same buffer, as a source that recycles
// its read buffers does, with a key of the same length in the same place:
// the cache must not take the new key for the old one. Keys longer than
// sixteen bytes are compared in full, against what the cache kept.
func TestKeyCacheBufferReused(t *testing.T) {
	c := jsonCodec{}
	var cache KeyCache
	keys := []string{"a_rather_long_key_name_1", "a_rather_long_key_name_2"}
	buf := []byte(`{"a_rather_long_key_name_1":1}`)
	if m, err := pickWith(c, buf, keys, &cache); err != nil || m["a_rather_long_key_name_1"] != int64(1) {
		t.Fatalf("first object: %v, %v", m, err)
	}
	copy(buf, `{"a_rather_long_key_name_2":2}`)
	m, err := pickWith(c, buf, keys, &cache)
	if err != nil || m["a_rather_long_key_name_2"] != int64(2) || len(m) != 1 {
		t.Fatalf("second object in the same buffer: %v, %v; want only a_rather_long_key_name_2: 2", m, err)
	}
}

func mustDecode(c jsonCodec, in string) any {
	v, _ := c.Decode([]byte(in))
	return v
}

// fuzzKeys is the key cache FuzzPick shares between inputs.
var fuzzKeys KeyCache

// FuzzPick checks Pick against Decode: on every object Decode accepts, Pick
// gives the same values; whatever else Decode rejects, Pick rejects.
func FuzzPick(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":"x","c":{"d":[1,2,{"e":null}]},"a":2.5}`, `{"\u0061":"\ud800","b":"\xff"}`, `{}`, ` { "a" : true } `,
		`{"a":-0.5e+3,"b":[],"c":{}}`, `{"a":"\\\"}"}`, `[1]`, `{"a":1`,
	} {
		f.Add([]byte(s), "a")
	}
	c := jsonCodec{}
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		keys := []string{key, "a", "b", "c"}
		dst, perr := pick(c, data, keys)
		// With a key cache that learned the previous input's keys, and then
		// this input's, the result is the same. (The picked strings share
		// data, which the fuzzer reuses: a copy outlives the call.)
		data = bytes.Clone(data)
		for range 2 {
			cached, cerr := pickWith(c, data, keys, &fuzzKeys)
			if (cerr == nil) != (perr == nil) || !reflect.DeepEqual(cached, dst) {
				t.Fatalf("PickValues(%q) with a key cache = %v, %v; without %v, %v", data, cached, cerr, dst, perr)
			}
		}
		v, derr := c.Decode(data)
		m, isObject := v.(map[string]any)
		if derr != nil || !isObject {
			if perr == nil {
				t.Fatalf("Pick(%q) accepted it; Decode gives %v, %v", data, v, derr)
			}
			return
		}
		if perr != nil {
			t.Fatalf("Pick(%q) = %v; Decode accepts it", data, perr)
		}
		for _, k := range keys {
			want, ok := m[k]
			got, gotOK := dst[k]
			if ok != gotOK || !reflect.DeepEqual(got, want) {
				t.Fatalf("Pick(%q)[%q] = %#v, %v; Decode gives %#v, %v", data, k, got, gotOK, want, ok)
			}
		}
		// Patch: set key and "new", remove "b"; the result decodes to the
		// object with those changes.
		changes := map[string]any{key: "set \"here\"", "new": int64(7), "nested": map[string]any{"x": []any{1.5, nil}}}
		if key != "b" {
			changes["b"] = nil
		}
		patched, err := patch(c, []byte("prefix"), data, changes)
		if err != nil {
			t.Fatalf("Patch(%q): %v", data, err)
		}
		if !bytes.HasPrefix(patched, []byte("prefix")) {
			t.Fatalf("Patch dropped dst: %q", patched)
		}
		got, err := c.Decode(patched[len("prefix"):])
		if err != nil {
			t.Fatalf("Patch(%q) = %q, which does not decode: %v", data, patched, err)
		}
		delete(m, "b")
		for k, v := range changes {
			if v != nil {
				m[k] = v
			}
		}
		if !utf8.ValidString(key) {
			return // encoded as U+FFFD: not the key that was set
		}
		if !reflect.DeepEqual(got, any(m)) {
			t.Fatalf("Patch(%q) = %q, decodes to %#v; want %#v", data, patched, got, m)
		}
	})
}

// BenchmarkPick picks the four fields a filter and a set of the benchmark
// scenarios read from a game-telemetry event; BenchmarkDecodeEvent decodes
// the same event in full.
func BenchmarkPick(b *testing.B) {
	event := []byte(`{"event_id":"g1-12345","event":"match_start","ts":"2026-11-25T00:00:01.500Z","player_id":1234,"match_id":70061,` +
		`"region":"eu-west","platform":"pc","latency_ms":42.5,"score":1234,"level":12,"device":{"os":"pc","ver":"17.1"}}`)
	l := field.NewLayout("day", "event", "latency_ms", "region", "ts")
	c := jsonCodec{}
	b.SetBytes(int64(len(event)))
	b.ReportAllocs()
	dst := make([]field.Value, l.Len())
	var keys KeyCache
	for b.Loop() {
		clear(dst)
		if err := c.PickValues(event, l, ^uint64(0), dst, &keys); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNumber checks Number on numbers Decode takes and on ones it refuses.
func TestNumber(t *testing.T) {
	c := jsonCodec{}
	for _, in := range []string{"0", "-0", "42", "-7", "42.5", "1e3", "-2.5E-2", "12345678901234567890", "9223372036854775807"} {
		v, end, ok := Number([]byte(in+","), 0)
		want, err := c.Decode([]byte(in))
		if !ok || end != len(in) || err != nil || v.Any() != want {
			t.Errorf("Number(%q) = %#v, %d, %v; Decode gives %#v, %v", in, v.Any(), end, ok, want, err)
		}
	}
	for _, in := range []string{"", "-", "01", "1.", ".5", "1e", "1e999", "x"} {
		if _, _, ok := Number([]byte(in), 0); ok {
			t.Errorf("Number(%q) took it", in)
		}
	}
}

// TestPickCachedKeys picks a run of objects with one key cache, each
// differing from the one before the way records of a stream do: the same
// keys, one more, one missing, white space, a duplicate, a break. Each
// must pick as it does without a cache.
func TestPickCachedKeys(t *testing.T) {
	c := jsonCodec{}
	keys := []string{"event", "latency_ms", "region", "a_key_longer_than_sixteen"}
	objects := []string{
		`{"event":"kill","ts":"2026-11-25T00:00:01Z","region":"eu","latency_ms":12.5,"device":{"os":"pc"}}`,
		`{"event":"death","ts":"2026-11-25T00:00:02Z","region":"us-east","latency_ms":7,"device":{"os":"ps5"}}`,
		`{"event":"kill","ts":"2026-11-25T00:00:03Z","region":"eu","latency_ms":1e3,"device":{},"a_key_longer_than_sixteen":[1]}`,
		`{"event":"kill","ts":"2026-11-25T00:00:03Z","region":"eu","latency_ms":3,"device":{},"a_key_longer_than_sixteen":true}`,
		`{"event":"kill","region":"ap","latency_ms":3}`,
		`{"event":"kill","region": "ap" ,"latency_ms":	4 }`,
		`{"event" :"kill","region":"ap","latency_ms":5}`,
		`{"event":"kill","region":"ap","latency_ms":6,"region":"last"}`,
		`{"event":"kill","region":"ap","latency_ms":6,}`,
		`{"event":"kill","region":"ap","latency_ms":6`,
		`{"event":"kill","region":"ap" "latency_ms":6}`,
		`{"event":"kill","region":"ap","latency_ms":6} x`,
		`{"event":"k\u00efll","region":"ap","latency_ms":-0.0}`,
		`{"event":"kill","region":"ap","latency_ms":01}`,
		`{"event":"kill","region":"ap","latency_ms":6}`,
	}
	var cache KeyCache
	for _, o := range objects {
		want, werr := pick(c, []byte(o), keys)
		got, gerr := pickWith(c, []byte(o), keys, &cache)
		if (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: with the cache %v, %v; without %v, %v", o, got, gerr, want, werr)
		}
	}
}
