package engine

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine/codec"
	"github.com/sluicehq/sluice/engine/field"
)

func jsonRecord(t *testing.T, v string) Record {
	t.Helper()
	c, err := codec.Lookup("json")
	if err != nil {
		t.Fatal(err)
	}
	return NewRecord([]byte(v), c)
}

const viewEvent = `{"event":"kill","ts":"2026-11-25T00:00:01Z","region":"eu-west","latency_ms":42.5,"device":{"os":"pc"},"debug":true}`

// TestValuesPicksOnlyWhatIsAsked checks that Values holds the named fields
// and not the others, that reading changes nothing, and that a later call
// for more fields keeps what was picked.
func TestValuesPicksOnlyWhatIsAsked(t *testing.T) {
	r := jsonRecord(t, viewEvent)
	l, vals, err := r.Values(field.NewLayout("event", "latency_ms", "missing"))
	if err != nil {
		t.Fatal(err)
	}
	if got := valuesMap(l, vals); !reflect.DeepEqual(got, map[string]any{"event": "kill", "latency_ms": 42.5}) {
		t.Errorf("Values = %#v", got)
	}
	if i, _ := l.Index("missing"); vals[i].Exists() {
		t.Error("a missing field exists")
	}
	l2, vals, err := r.Values(field.NewLayout("device", "event"))
	if err != nil {
		t.Fatal(err)
	}
	if l2.Len() != 4 || len(valuesMap(l2, vals)) != 3 {
		t.Errorf("second Values = %v %#v; want the union of both", l2, valuesMap(l2, vals))
	}
	if i, _ := l2.Index("device"); !reflect.DeepEqual(vals[i].Any(), map[string]any{"os": "pc"}) {
		t.Errorf("device = %#v", vals[i].Any())
	}
	// Asking for fewer fields than it holds costs nothing.
	if l3, _, _ := r.Values(field.NewLayout("event")); l3 != l2 {
		t.Errorf("Values of a subset gave %v, want %v", l3, l2)
	}
	b, err := r.Bytes()
	if err != nil || string(b) != viewEvent {
		t.Errorf("Bytes after reading = %s, %v; want the value as read", b, err)
	}
	full, err := r.Fields()
	if err != nil || len(full) != 6 {
		t.Errorf("Fields = %v, %v; want all 6 fields", full, err)
	}
}

func valuesMap(l *field.Layout, vals []field.Value) map[string]any {
	m := map[string]any{}
	for i, v := range vals {
		if v.Exists() {
			m[l.Name(i)] = v.Any()
		}
	}
	return m
}

// set sets name on r through Values and SetValue.
func set(t *testing.T, r *Record, name string, v field.Value) {
	t.Helper()
	l, _, err := r.Values(field.NewLayout(name))
	if err != nil {
		t.Fatal(err)
	}
	i, _ := l.Index(name)
	r.SetValue(l, i, v)
}

// TestSetValueReachesBytes sets, changes and deletes fields and checks the
// encoded record, later reads and the full fields.
func TestSetValueReachesBytes(t *testing.T) {
	r := jsonRecord(t, viewEvent)
	set(t, &r, "region", field.String("EU-WEST"))
	set(t, &r, "day", field.String("2026-11-25"))
	set(t, &r, "debug", field.Missing())
	set(t, &r, "device", field.OfAny(map[string]any{"os": "pc", "ver": "17.1"}))
	// A later read must not pick the changed fields from the value again.
	m, err := r.View([]string{"region", "debug", "event"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, map[string]any{"region": "EU-WEST", "event": "kill"}) {
		t.Errorf("later view = %#v", m)
	}
	c := r.Clone()
	b, err := r.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"event": "kill", "ts": "2026-11-25T00:00:01Z", "region": "EU-WEST", "latency_ms": 42.5,
		"device": map[string]any{"os": "pc", "ver": "17.1"}, "day": "2026-11-25"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Bytes = %s", b)
	}
	// Unchanged fields keep their place; the changed ones follow.
	if !strings.HasPrefix(string(b), `{"event":"kill","ts":"2026-11-25T00:00:01Z","latency_ms":42.5,`) {
		t.Errorf("Bytes = %s; want the unchanged members first, in order", b)
	}
	// The clone made before encoding has the same changes, independently.
	cf, err := c.Fields()
	if err != nil || cf["region"] != "EU-WEST" || cf["debug"] != nil || len(cf) != 6 {
		t.Errorf("clone Fields = %#v, %v", cf, err)
	}
	// A time set on a field stays a time once encoded.
	ts := time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC)
	set(t, &r, "at", field.OfAny(ts))
	if _, err := r.Bytes(); err != nil {
		t.Fatal(err)
	}
	f, err := r.Fields()
	if err != nil || f["at"] != ts || f["region"] != "EU-WEST" {
		t.Errorf("Fields after Bytes = %#v, %v", f, err)
	}
}

// TestSetValueOnDecoded checks that SetValue on a decoded record changes
// the map Fields gives, and that Values reads changes made to that map.
func TestSetValueOnDecoded(t *testing.T) {
	r := jsonRecord(t, viewEvent)
	m, err := r.Fields()
	if err != nil {
		t.Fatal(err)
	}
	m["region"] = "EU-WEST"
	r.MarkChanged()
	l, vals, err := r.Values(field.NewLayout("region"))
	if err != nil || vals[0].Str() != "EU-WEST" {
		t.Fatalf("Values after a map change = %v, %v", vals, err)
	}
	r.SetValue(l, 0, field.String("ASIA"))
	r.SetValue(l, 0, field.Missing())
	set(t, &r, "day", field.Int(7))
	f, _ := r.Fields()
	if _, ok := f["region"]; ok || f["day"] != int64(7) {
		t.Errorf("Fields = %#v", f)
	}
	b, err := r.Bytes()
	if err != nil || !strings.Contains(string(b), `"day":7`) || strings.Contains(string(b), "region") {
		t.Errorf("Bytes = %s, %v", b, err)
	}
}

// TestValuesOfBadValue checks that Values of a value that is not a
// well-formed object fails with the error Fields gives.
func TestValuesOfBadValue(t *testing.T) {
	for _, v := range []string{`{"event":"kill",`, `[1,2]`, `not json`, `{"event":"kill","n":01}`, `{"event":"kill","d":{"x":[1,}}`} {
		r := jsonRecord(t, v)
		_, _, err := r.Values(field.NewLayout("event"))
		r2 := jsonRecord(t, v)
		_, want := r2.Fields()
		if err == nil || want == nil || err.Error() != want.Error() || !IsPermanent(err) {
			t.Errorf("%s: Values error %v, Fields error %v", v, err, want)
		}
		// PickBatch leaves it to fail the same way later.
		b := Batch{Records: []Record{jsonRecord(t, v)}}
		PickBatch(b, field.NewLayout("event"))
		if _, _, err := b.Records[0].Values(field.NewLayout("event")); err == nil || err.Error() != want.Error() {
			t.Errorf("%s: Values after PickBatch error %v, want %v", v, err, want)
		}
	}
}

// TestViewWithoutPicker checks that nil keys, and codecs that cannot pick,
// give what Fields gives.
func TestViewWithoutPicker(t *testing.T) {
	r := jsonRecord(t, viewEvent)
	m, err := r.View(nil)
	if err != nil || len(m) != 6 {
		t.Errorf("View(nil) = %v, %v", m, err)
	}
	text, _ := codec.Lookup("text")
	tr := NewRecord([]byte("hello"), text)
	_, err = tr.View([]string{"message"})
	_, want := tr.Fields()
	if err == nil || err.Error() != want.Error() {
		t.Errorf("text View error %v, want Fields' %v", err, want)
	}
}

// TestPickBatch checks that PickBatch picks every record, with values that
// belong to each record alone.
func TestPickBatch(t *testing.T) {
	b := Batch{Records: []Record{
		jsonRecord(t, `{"event":"a","n":1}`), jsonRecord(t, `{"event":"b"}`), jsonRecord(t, `{"n":3,"x":[1]}`),
	}}
	l := field.NewLayout("event", "n")
	PickBatch(b, l)
	set(t, &b.Records[0], "event", field.String("changed"))
	want := []map[string]any{{"event": "changed", "n": int64(1)}, {"event": "b"}, {"n": int64(3)}}
	for i := range b.Records {
		if b.Records[i].layout != l {
			t.Errorf("record %d: layout %v, want %v", i, b.Records[i].layout, l)
		}
		got, err := b.Records[i].View([]string{"event", "n"})
		if err != nil || !reflect.DeepEqual(got, want[i]) {
			t.Errorf("record %d = %#v, %v; want %#v", i, got, err, want[i])
		}
	}
}

// TestOverlay checks that Overlay holds the fields set with values an
// encoding may not give back, and nothing for a record nobody changed.
func TestOverlay(t *testing.T) {
	r := jsonRecord(t, viewEvent)
	if ov, ok := r.Overlay(); !ok || ov != nil {
		t.Errorf("Overlay of an unchanged record = %v, %v", ov, ok)
	}
	at := time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC)
	set(t, &r, "region", field.String("EU-WEST"))
	set(t, &r, "n", field.Int(7))
	set(t, &r, "debug", field.Missing())
	set(t, &r, "at", field.OfAny(at))
	set(t, &r, "ratio", field.Float(3))
	ov, ok := r.Overlay()
	if !ok || !reflect.DeepEqual(ov, map[string]any{"at": at, "ratio": 3.0}) {
		t.Errorf("Overlay = %#v, %v", ov, ok)
	}
	d := jsonRecord(t, viewEvent)
	full, _ := d.Fields()
	if ov, ok := d.Overlay(); !ok || len(ov) != len(full) {
		t.Errorf("Overlay of a decoded record = %v, %v", ov, ok)
	}
}
