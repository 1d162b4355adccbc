package expr

import (
	"errors"
	"testing"
)

// fuzzRecord is the record fuzzed expressions are evaluated against.
func fuzzRecord() map[string]any {
	return map[string]any{
		"event":      "kill",
		"ts":         "2024-05-01T10:11:12.345Z",
		"latency_ms": int64(42),
		"score":      12.5,
		"ok":         true,
		"region":     "eu-west",
		"player_id":  int64(123456789),
		"user":       map[string]any{"country": "FR", "tags": []any{"a", int64(1)}},
		"items":      []any{int64(1), 2.5, "x", nil, map[string]any{"k": "v"}},
		"null":       nil,
		"type":       "pvp",
	}
}

var fuzzSeeds = []string{
	`event != "heartbeat" && latency_ms < 5000`,
	`date(ts).Format("2006-01-02")`,
	`upper(region)`,
	`sha256(string(player_id))`,
	`event == "match_end"`,
	`format_time(ts, "15")`,
	`coalesce(null, "", region)`,
	`hash_mod(player_id, 8)`,
	`substr(region, -1, 100)`,
	`regex_replace(region, "(\\w+)", "<$1>")`,
	`to_int("42") + to_float("1.5")`,
	`filter(items, # != nil)`,
	`user?.tags[1] ?? 0`,
	`let x = 1; x + latency_ms`,
	`type == "pvp" and count(items, true) > 0`,
	`map(1..10, # * 2)`,
	`date(ts).Add(duration("1h")).Unix()`,
	`{"a": [1, 2]}.a[-1]`,
	`$env["type"]`,
	`items[10]`,
	`1 / 0`,
}

// FuzzCompileEval compiles arbitrary expressions; every failure must be a
// *CompileError, and whatever compiles must evaluate without panicking.
func FuzzCompileEval(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	rec := fuzzRecord()
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Compile(src)
		if err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile(%q) error is %T, want *CompileError: %v", src, err, err)
			}
			if ce.Line < 1 || ce.Column < 1 {
				t.Fatalf("Compile(%q) error at %d:%d", src, ce.Line, ce.Column)
			}
			return
		}
		_, _ = p.Eval(rec)
		_, _ = p.Eval(nil)
		_, _ = p.EvalBool(rec)
		if pb, err := Compile(src, AsBool()); err == nil {
			_, _ = pb.Eval(rec)
		}
	})
}

// FuzzTemplate compiles arbitrary templates and renders what compiles.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"telemetry-{{ day }}",
		`events/dt={{ day }}/hour={{ format_time(ts, "15") }}/`,
		"{{ event_id }}",
		`{{ "a}}b" }}`,
		`{{ {"a": {"b": 1}}.a.b }}`,
		"plain",
		"{{",
		"}}",
	} {
		f.Add(s)
	}
	rec := fuzzRecord()
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := CompileTemplate(src)
		if err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("CompileTemplate(%q) error is %T, want *CompileError: %v", src, err, err)
			}
			return
		}
		if s, ok := tmpl.Static(); ok {
			if s != src {
				t.Fatalf("Static() = %q, want %q", s, src)
			}
			return
		}
		_, _ = tmpl.Render(rec)
	})
}
