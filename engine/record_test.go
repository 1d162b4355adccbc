package engine

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/engine/codec"
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

// TestViewPicksOnlyWhatIsAsked checks that a view holds the named fields
// and not the others, and that reading through it changes nothing.
func TestViewPicksOnlyWhatIsAsked(t *testing.T) {
	r := jsonRecord(t, viewEvent)
	m, err := r.View([]string{"event", "latency_ms", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, map[string]any{"event": "kill", "latency_ms": 42.5}) {
		t.Errorf("View = %#v", m)
	}
	// A second view adds fields to the same map.
	m, err = r.View([]string{"device", "event"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || !reflect.DeepEqual(m["device"], map[string]any{"os": "pc"}) {
		t.Errorf("second View = %#v", m)
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

// TestViewChangesReachBytes sets, changes and deletes fields through views
// and checks the encoded record and the full fields.
func TestViewChangesReachBytes(t *testing.T) {
	r := jsonRecord(t, viewEvent)
	m, err := r.View([]string{"region", "day", "debug", "device"})
	if err != nil {
		t.Fatal(err)
	}
	m["region"] = strings.ToUpper(m["region"].(string))
	m["day"] = "2026-11-25"
	delete(m, "debug")
	m["device"].(map[string]any)["ver"] = "17.1"
	r.MarkChanged()
	// A later view must not pick the changed fields from the value again.
	m, err = r.View([]string{"region", "debug", "event"})
	if err != nil {
		t.Fatal(err)
	}
	if m["region"] != "EU-WEST" || m["event"] != "kill" {
		t.Errorf("later view = %#v", m)
	}
	if _, ok := m["debug"]; ok {
		t.Error("a deleted field came back")
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
	// The clone made before encoding has the same changes, independently.
	cf, err := c.Fields()
	if err != nil || cf["region"] != "EU-WEST" || cf["debug"] != nil || len(cf) != 6 {
		t.Errorf("clone Fields = %#v, %v", cf, err)
	}
}

// TestViewOfBadValue checks that a view of a value that is not a
// well-formed object fails with the error Fields gives.
func TestViewOfBadValue(t *testing.T) {
	for _, v := range []string{`{"event":"kill",`, `[1,2]`, `not json`, `{"event":"kill","n":01}`, `{"event":"kill","d":{"x":[1,}}`} {
		r := jsonRecord(t, v)
		_, err := r.View([]string{"event"})
		r2 := jsonRecord(t, v)
		_, want := r2.Fields()
		if err == nil || want == nil || err.Error() != want.Error() || !IsPermanent(err) {
			t.Errorf("%s: View error %v, Fields error %v", v, err, want)
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

// TestViewInto checks that ViewInto reads like View, including changes
// made through View, without keeping picked fields in the record.
func TestViewInto(t *testing.T) {
	r := jsonRecord(t, viewEvent)
	m, err := r.View([]string{"region"})
	if err != nil {
		t.Fatal(err)
	}
	m["region"] = "EU-WEST"
	r.MarkChanged()
	scratch := map[string]any{"stale": 1}
	got, err := r.ViewInto([]string{"event", "region"}, scratch)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, map[string]any{"event": "kill", "region": "EU-WEST"}) {
		t.Errorf("ViewInto = %#v", got)
	}
	// event was not kept: a View of it picks it now, from the value.
	if slices.Contains(r.picked, "event") {
		t.Error("ViewInto kept a picked field in the record")
	}
	b, err := r.Bytes()
	if err != nil || !strings.Contains(string(b), `"region":"EU-WEST"`) || !strings.Contains(string(b), `"event":"kill"`) {
		t.Errorf("Bytes = %s, %v", b, err)
	}
}
