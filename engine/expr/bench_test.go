package expr

import (
	"testing"

	"github.com/sluicehq/sluice/engine/field"
)

// benchRecord is a typical decoded game-telemetry record of ten fields.
func benchRecord() map[string]any {
	return map[string]any{
		"event":      "kill",
		"event_id":   "0f8fad5b-d9cb-469f-a165-70867728950e",
		"ts":         "2024-05-01T10:11:12.345Z",
		"latency_ms": int64(42),
		"region":     "eu-west",
		"player_id":  int64(123456789),
		"match_id":   "m-998877",
		"score":      1234.5,
		"platform":   "pc",
		"day":        "2024-05-01",
	}
}

func benchEval(b *testing.B, src string, opts ...Option) {
	p, err := Compile(src, opts...)
	if err != nil {
		b.Fatal(err)
	}
	rec := benchRecord()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Eval(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilter measures a typical filter condition.
func BenchmarkFilter(b *testing.B) {
	p, err := Compile(`event != "heartbeat" && latency_ms < 5000`, AsBool())
	if err != nil {
		b.Fatal(err)
	}
	rec := benchRecord()
	b.ReportAllocs()
	for b.Loop() {
		ok, err := p.EvalBool(rec)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkFilterParallel measures the filter on every core at once, which
// is how transform stages run it.
func BenchmarkFilterParallel(b *testing.B) {
	p, err := Compile(`event != "heartbeat" && latency_ms < 5000`, AsBool())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rec := benchRecord()
		for pb.Next() {
			if _, err := p.EvalBool(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSetDay measures deriving a day from an RFC 3339 timestamp.
func BenchmarkSetDay(b *testing.B) {
	benchEval(b, `date(ts).Format("2006-01-02")`)
}

// BenchmarkSetDayFormatTime measures the same with format_time.
func BenchmarkSetDayFormatTime(b *testing.B) {
	benchEval(b, `format_time(ts, "2006-01-02")`)
}

// BenchmarkSetUpper measures a one-function computed field.
func BenchmarkSetUpper(b *testing.B) {
	benchEval(b, `upper(region)`)
}

// BenchmarkSetHash measures hashing a numeric field.
func BenchmarkSetHash(b *testing.B) {
	benchEval(b, `sha256(string(player_id))`)
}

// BenchmarkTemplate measures an object path with a field and a function.
func BenchmarkTemplate(b *testing.B) {
	t, err := CompileTemplate(`events/dt={{ day }}/hour={{ format_time(ts, "15") }}/`)
	if err != nil {
		b.Fatal(err)
	}
	rec := benchRecord()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.Render(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTemplateField measures an index name made of one field, with
// AppendRender into a reused buffer.
func BenchmarkTemplateField(b *testing.B) {
	t, err := CompileTemplate(`telemetry-{{ day }}`)
	if err != nil {
		b.Fatal(err)
	}
	rec := benchRecord()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = t.AppendRender(buf[:0], rec); err != nil {
			b.Fatal(err)
		}
	}
}

// benchEvalValues measures EvalValues on the fields of benchRecord.
func benchEvalValues(b *testing.B, src string) {
	p, err := Compile(src)
	if err != nil {
		b.Fatal(err)
	}
	l, vals := valuesOf(p, benchRecord())
	var a field.Arena
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.EvalValues(l, vals, &a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValuesFilter, BenchmarkValuesSetDay and BenchmarkValuesSetUpper
// are BenchmarkFilter, BenchmarkSetDayFormatTime and BenchmarkSetUpper on
// field values (the fast path) instead of a map.
func BenchmarkValuesFilter(b *testing.B) {
	benchEvalValues(b, `event != "heartbeat" && latency_ms < 5000`)
}

func BenchmarkValuesSetDay(b *testing.B) { benchEvalValues(b, `format_time(ts, "2006-01-02")`) }

func BenchmarkValuesSetUpper(b *testing.B) { benchEvalValues(b, `upper(region)`) }

// BenchmarkValuesFilterBool is BenchmarkValuesFilter with EvalValuesBool.
func BenchmarkValuesFilterBool(b *testing.B) {
	p, err := Compile(`event != "heartbeat" && latency_ms < 5000`, AsBool())
	if err != nil {
		b.Fatal(err)
	}
	l, vals := valuesOf(p, benchRecord())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.EvalValuesBool(l, vals); err != nil {
			b.Fatal(err)
		}
	}
}
