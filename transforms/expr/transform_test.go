package expr

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/codec"
	"github.com/sluicehq/sluice/engine/spec"
)

func batchOf(t *testing.T, values ...string) engine.Batch {
	t.Helper()
	c, err := codec.Lookup("json")
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]engine.Record, len(values))
	for i, v := range values {
		recs[i] = engine.NewRecord([]byte(v), c)
	}
	return engine.Batch{Records: recs}
}

func encoded(t *testing.T, b engine.Batch) []string {
	t.Helper()
	var out []string
	for i := range b.Records {
		if b.Records[i].Err != nil {
			out = append(out, "ERR "+b.Records[i].Err.Error())
			continue
		}
		v, err := b.Records[i].Bytes()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(v))
	}
	return out
}

func pairs(kv ...string) spec.Pairs[string] {
	var p spec.Pairs[string]
	for i := 0; i+1 < len(kv); i += 2 {
		p = append(p, spec.Pair[string]{Key: kv[i], Value: kv[i+1]})
	}
	return p
}

func TestTransforms(t *testing.T) {
	tests := []struct {
		name string
		t    func() (engine.Transform, error)
		in   []string
		want []string
	}{
		{
			name: "filter keeps matching",
			t:    func() (engine.Transform, error) { return NewFilter(`event != "heartbeat" && latency_ms < 5000`) },
			in:   []string{`{"event":"heartbeat","latency_ms":1}`, `{"event":"kill","latency_ms":10}`, `{"event":"kill","latency_ms":6000}`},
			want: []string{`{"event":"kill","latency_ms":10}`},
		},
		{
			name: "filter sends undecodable and failing records on with an error",
			t:    func() (engine.Transform, error) { return NewFilter(`latency_ms < 5000`) },
			in:   []string{`{"latency_ms":1`, `{"x":1}`, `[1]`},
			want: []string{
				"ERR filter: decode: json: unexpected end of input at offset 15",
				`ERR filter: eval "latency_ms < 5000": invalid operation: <nil> < int (1:12)`,
				"ERR filter: record value is an array, not an object",
			},
		},
		{
			name: "set in order, later sees earlier, nested paths",
			t: func() (engine.Transform, error) {
				return NewSet(pairs("day", `format_time(ts, "2006-01-02")`, "tag", `day + "/" + upper(region)`, "geo.region", `lower(region)`))
			},
			in: []string{`{"ts":"2026-11-25T23:00:00Z","region":"eu"}`},
			// The members set follow the others, which keep their order.
			want: []string{`{"ts":"2026-11-25T23:00:00Z","region":"eu","day":"2026-11-25","geo":{"region":"eu"},"tag":"2026-11-25/EU"}`},
		},
		{
			name: "set error dead-letters only that record",
			t:    func() (engine.Transform, error) { return NewSet(pairs("n", `to_int(x)`)) },
			in:   []string{`{"x":"42"}`, `{"x":"forty"}`},
			want: []string{`{"x":"42","n":42}`, `ERR set n: eval "to_int(x)": to_int: cannot convert "forty" to an integer (1:1)`},
		},
		{
			name: "drop removes fields and nested fields",
			t:    func() (engine.Transform, error) { return NewDrop(DropConfig{"debug", "device.ver", "missing.x"}), nil },
			in:   []string{`{"a":1,"debug":true,"device":{"os":"ios","ver":"17"}}`, `{"a":2}`},
			want: []string{`{"a":1,"device":{"os":"ios"}}`, `{"a":2}`},
		},
		{
			name: "rename moves fields, missing left alone",
			t:    func() (engine.Transform, error) { return NewRename(pairs("player_id", "player.id", "nope", "x")) },
			in:   []string{`{"player_id":7}`, `{"other":1}`},
			want: []string{`{"player":{"id":7}}`, `{"other":1}`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := tc.t()
			if err != nil {
				t.Fatal(err)
			}
			out, err := tr.Apply(context.Background(), batchOf(t, tc.in...))
			if err != nil {
				t.Fatal(err)
			}
			got := encoded(t, out)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestCompileErrorsNameTheField(t *testing.T) {
	_, err := NewSet(pairs("ok", "1", "bad", "uper(x)"))
	var fe *spec.FieldError
	if err == nil || !errorsAs(err, &fe) || fe.Path != "bad" {
		t.Fatalf("err = %v", err)
	}
	if _, err := NewFilter(`upper(region)`); err == nil {
		t.Fatal("a non-boolean filter compiled")
	}
}

func errorsAs(err error, fe **spec.FieldError) bool {
	type unwrapper interface{ Unwrap() []error }
	if u, ok := err.(unwrapper); ok {
		for _, e := range u.Unwrap() {
			if errorsAs(e, fe) {
				return true
			}
		}
		return false
	}
	f, ok := err.(*spec.FieldError)
	if ok {
		*fe = f
	}
	return ok
}

func BenchmarkFilterSet(b *testing.B) {
	f, _ := NewFilter(`event != "heartbeat" && latency_ms < 5000`)
	s, _ := NewSet(pairs("day", `format_time(ts, "2006-01-02")`, "region", `upper(region)`))
	c, _ := codec.Lookup("json")
	v := []byte(`{"event_id":"g1-42","event":"match_end","ts":"2026-11-25T10:00:00.420Z","player_id":1042,"match_id":70012,"region":"eu-west","platform":"android","latency_ms":48.5,"score":1200,"level":17,"device":{"os":"android","ver":"14"}}`)
	recs := make([]engine.Record, 100)
	b.ReportAllocs()
	b.SetBytes(int64(len(v) * len(recs)))
	for b.Loop() {
		for i := range recs {
			recs[i] = engine.NewRecord(v, c)
		}
		out, _ := f.Apply(context.Background(), engine.Batch{Records: recs})
		out, _ = s.Apply(context.Background(), out)
		for i := range out.Records {
			out.Records[i].Bytes()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

var _ = json.Valid
