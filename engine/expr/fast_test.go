package expr

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine/field"
)

// fastRecord is the record the fast-path tests evaluate against.
func fastRecord() map[string]any {
	return map[string]any{
		"event": "kill", "region": "eu-west", "ts": "2026-11-25T13:04:05.250+02:00", "day": "2026-11-25",
		"n": int64(42), "neg": int64(-7), "f": 2.5, "zero": int64(0), "t": true, "no": false, "null": nil,
		"device": map[string]any{"os": "pc", "ver": "17.1", "n": int64(3)}, "tags": []any{"a", int64(2), 3.5},
		"upper": "ÉTÉ", "num": "42", "empty": "",
	}
}

// valuesOf returns the fields of rec that p reads, laid out for
// EvalValues, with extra fields so that slots are not simply 0, 1, 2.
func valuesOf(p *Program, rec map[string]any) (*field.Layout, []field.Value) {
	l := field.NewLayout(append([]string{"aaa", "zzz"}, p.reads...)...)
	vals := make([]field.Value, l.Len())
	for i, name := range l.Names() {
		if v, ok := rec[name]; ok {
			vals[i] = field.FromAny(v)
		}
	}
	return l, vals
}

// TestFastPathAgreesWithVM evaluates expressions on the fast path and on
// the VM and checks that the results and errors agree, and that the
// common ones do run on the fast path.
func TestFastPathAgreesWithVM(t *testing.T) {
	for _, tc := range []struct {
		src  string
		fast bool // must run on the fast path against fastRecord
	}{
		{`event != "heartbeat" && n < 5000`, true},
		{`event == "kill" || missing > 3`, true},
		{`format_time(ts, "2006-01-02")`, true},
		{`format_time(ts, "2006-01-02T15:04")`, true},
		{`upper(region)`, true},
		{`lower(upper)`, true},
		{`upper(upper)`, true},
		{`n + 1`, true}, {`n + f`, true}, {`n / 5`, true}, {`n % 5`, true}, {`n * neg - 3`, true}, {`2 ** n`, true},
		{`n % zero`, false}, {`f % 2`, false}, {`n + "x"`, false}, {`event + "-" + region`, true},
		{`n == 42.0`, true}, {`n == "42"`, true}, {`null == nil`, true}, {`missing == nil`, true}, {`event == nil`, true},
		{`t && no`, true}, {`!t`, true}, {`not no`, true}, {`t && event`, false}, {`event && t`, false}, {`!event`, false},
		{`n > f`, true}, {`event < region`, true}, {`event < n`, false}, {`null < 3`, false},
		{`event in ["kill", "death"]`, true}, {`n in [1, 42]`, false}, {`event in ["kill", 1]`, false},
		{`device.os`, true}, {`device.missing`, true}, {`device.os == "pc"`, true}, {`tags[0]`, true}, {`tags[-1]`, true},
		{`tags[5]`, false}, {`event.os`, false}, {`null.os`, false},
		{`missing ?? "default"`, true}, {`event ?? "default"`, true}, {`t ? n : f`, true}, {`event ? 1 : 2`, false},
		{`event matches "^ki"`, true}, {`n matches "4"`, false}, {`event contains "il"`, true}, {`event startsWith "k"`, true},
		{`coalesce(missing, empty, region)`, true}, {`to_int(num) + 1`, true}, {`to_int(event)`, false},
		{`len(event)`, true}, {`len(tags)`, true}, {`trim(" x ")`, true}, {`-n`, true}, {`-event`, false}, {`+event`, true},
		{`format_time(n, "2006")`, true}, {`format_time(event, "2006")`, false}, {`format_time(missing, "2006")`, false},
		{`parse_time(ts)`, true}, {`unix(ts)`, true}, {`date(ts).Format("2006")`, true},
		{`sha256(event)`, true}, {`hash_mod(event, 8)`, true}, {`substr(event, 1, 3)`, true},
		{`all(tags, # != nil)`, false}, {`let x = n; x + 1`, false}, {`device?.os`, false},
	} {
		t.Run(tc.src, func(t *testing.T) {
			p, err := Compile(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			rec := fastRecord()
			l, vals := valuesOf(p, rec)
			b, err := p.bind(l)
			if err != nil {
				t.Fatal(err)
			}
			ran := false
			if b.fast != nil {
				_, ran = b.fast(vals, &field.Arena{})
			}
			if ran != tc.fast {
				t.Errorf("ran on the fast path: %v, want %v", ran, tc.fast)
			}
			got, gerr := p.EvalValues(l, vals, &field.Arena{})
			want, werr := p.Eval(rec)
			if fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Fatalf("EvalValues error %v, Eval error %v", gerr, werr)
			}
			if werr == nil && !sameResult(got, want) {
				t.Errorf("EvalValues = %#v, Eval = %#v", got.Any(), want)
			}
		})
	}
}

// sameResult compares a fast-path result with a VM result.
func sameResult(got field.Value, want any) bool {
	g := got.Any()
	if gf, ok := g.(float64); ok {
		if wf, ok := want.(float64); ok && math.IsNaN(gf) && math.IsNaN(wf) {
			return true
		}
	}
	if want == nil {
		return got.Kind() == field.KindNull
	}
	return reflect.DeepEqual(g, want)
}

// TestEvalValuesBool checks conditions, and that a non-bool result is the
// error EvalBool gives.
func TestEvalValuesBool(t *testing.T) {
	for _, src := range []string{`event == "kill" && n < 50`, `n > 50`, `event`, `t && event`, `missing`} {
		p, err := Compile(src, AsBool())
		if err != nil {
			t.Fatal(err)
		}
		rec := fastRecord()
		l, vals := valuesOf(p, rec)
		got, gerr := p.EvalValuesBool(l, vals)
		want, werr := p.EvalBool(rec)
		if got != want || fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Errorf("%s: EvalValuesBool = %v, %v; EvalBool = %v, %v", src, got, gerr, want, werr)
		}
	}
}

// TestEvalValuesErrors checks the misuses of EvalValues.
func TestEvalValuesErrors(t *testing.T) {
	p, _ := Compile(`n + 1`)
	if _, err := p.EvalValues(field.NewLayout("m"), make([]field.Value, 1), nil); err == nil || !strings.Contains(err.Error(), `lack "n"`) {
		t.Errorf("a layout without n: %v", err)
	}
	q, _ := Compile(`$env["n"] + len(keys($env))`)
	if q.Layout() != nil {
		t.Errorf("Layout of an expression reading $env = %v, want nil", q.Layout())
	}
	if _, err := q.EvalValues(field.NewLayout("n"), make([]field.Value, 1), nil); err == nil {
		t.Error("EvalValues of an expression reading $env succeeded")
	}
}

// FuzzFastPath generates expressions and records and checks that whatever
// the fast path returns, the VM returns too, without error.
func FuzzFastPath(f *testing.F) {
	for i := range 40 {
		f.Add(uint64(i), uint64(i*7919))
	}
	f.Fuzz(func(t *testing.T, exprSeed, recSeed uint64) {
		g := exprGen{r: rand.New(rand.NewPCG(exprSeed, 1))}
		src := g.expr(3)
		p, err := Compile(src)
		if err != nil || p.layout == nil {
			return
		}
		rec := genRecord(rand.New(rand.NewPCG(recSeed, 2)))
		l, vals := valuesOf(p, rec)
		b, err := p.bind(l)
		if err != nil {
			t.Fatal(err)
		}
		if b.fast == nil {
			return
		}
		got, ok := b.fast(vals, &field.Arena{})
		if !ok {
			return
		}
		want, err := p.Eval(rec)
		if err != nil {
			t.Fatalf("%s on %#v: fast path gave %#v, VM failed: %v", src, rec, got.Any(), err)
		}
		if !got.Exists() {
			got = field.Null()
		}
		if !sameResult(got, want) {
			t.Fatalf("%s on %#v: fast path gave %#v, VM %#v", src, rec, got.Any(), want)
		}
	})
}

// exprGen makes random expressions over the fields genRecord makes.
type exprGen struct{ r *rand.Rand }

var (
	genFields = []string{"a", "b", "c", "s", "m", "arr", "missing"}
	genLits   = []string{`1`, `0`, `-3`, `2.5`, `"x"`, `"X y"`, `""`, `nil`, `true`, `false`, `"2026-11-25T01:02:03Z"`, `9223372036854775807`}
	genBin    = []string{"==", "!=", "<", "<=", ">", ">=", "&&", "||", "+", "-", "*", "/", "%", "**", "??", "contains", "startsWith", "in"}
	genCalls  = []string{"upper(%s)", "lower(%s)", "len(%s)", "trim(%s)", `format_time(%s, "2006-01-02")`, "to_int(%s)",
		"to_string(%s)", "coalesce(%s, 1)", "abs(%s)", "int(%s)", "float(%s)", "string(%s)", "unix(%s)", "fnv64(%s)"}
)

func (g exprGen) expr(depth int) string {
	if depth == 0 || g.r.IntN(4) == 0 {
		if g.r.IntN(2) == 0 {
			return genFields[g.r.IntN(len(genFields))]
		}
		return genLits[g.r.IntN(len(genLits))]
	}
	switch g.r.IntN(7) {
	case 0:
		return "!" + g.expr(depth-1)
	case 1:
		return "-" + g.expr(depth-1)
	case 2:
		return fmt.Sprintf(genCalls[g.r.IntN(len(genCalls))], g.expr(depth-1))
	case 3:
		return fmt.Sprintf("(%s ? %s : %s)", g.expr(depth-1), g.expr(depth-1), g.expr(depth-1))
	case 4:
		return fmt.Sprintf("m.%s", []string{"k", "n", "missing"}[g.r.IntN(3)])
	case 5:
		return fmt.Sprintf("%s in [%s, %s]", g.expr(depth-1), genLits[g.r.IntN(len(genLits))], genLits[g.r.IntN(len(genLits))])
	}
	op := genBin[g.r.IntN(len(genBin))]
	if op == "in" {
		return fmt.Sprintf("(%s in arr)", g.expr(depth-1))
	}
	return fmt.Sprintf("(%s %s %s)", g.expr(depth-1), op, g.expr(depth-1))
}

// genRecord makes a record whose fields take values of every kind.
func genRecord(r *rand.Rand) map[string]any {
	vals := []func() any{
		func() any { return int64(r.IntN(10) - 3) },
		func() any { return float64(r.IntN(10)) / 4 },
		func() any { return []string{"x", "X y", "", "é", "2026-11-25T01:02:03Z", "12"}[r.IntN(6)] },
		func() any { return r.IntN(2) == 0 },
		func() any { return nil },
		func() any { return map[string]any{"k": "v", "n": int64(r.IntN(3))} },
		func() any { return []any{"x", int64(1)} },
		func() any { return int64(math.MaxInt64) },
	}
	rec := map[string]any{}
	for _, name := range genFields {
		if name == "missing" || r.IntN(8) == 0 {
			continue
		}
		rec[name] = vals[r.IntN(len(vals))]()
	}
	return rec
}

// TestFastPathFuzzCoverage runs FuzzFastPath's generator for a while and
// checks that the fast path answers for a good share of its expressions,
// so that the fuzz test compares something, and that what it answers
// agrees with the VM.
func TestFastPathFuzzCoverage(t *testing.T) {
	compiled, fast := 0, 0
	for seed := range uint64(5000) {
		g := exprGen{r: rand.New(rand.NewPCG(seed, 1))}
		src := g.expr(3)
		p, err := Compile(src)
		if err != nil || p.layout == nil {
			continue
		}
		compiled++
		rec := genRecord(rand.New(rand.NewPCG(seed*31, 2)))
		l, vals := valuesOf(p, rec)
		b, err := p.bind(l)
		if err != nil {
			t.Fatal(err)
		}
		if b.fast == nil {
			continue
		}
		got, ok := b.fast(vals, &field.Arena{})
		if !ok {
			continue
		}
		fast++
		want, err := p.Eval(rec)
		if err != nil || !sameResult(field.FromAny(got.Any()), want) {
			t.Fatalf("%s on %#v: fast path gave %#v, VM %#v, %v", src, rec, got.Any(), want, err)
		}
	}
	if compiled < 2000 || fast < compiled/4 {
		t.Errorf("%d expressions compiled, %d answered on the fast path; want at least 2000 and a quarter", compiled, fast)
	}
	t.Logf("%d compiled, %d on the fast path", compiled, fast)
}

// FuzzFormatTimeFast checks the fast path of format_time against
// time.Parse and time.Format: a timestamp parseUTC takes, time.Parse takes
// too, as the same time; a layout compileLayout takes writes what Format
// writes.
func FuzzFormatTimeFast(f *testing.F) {
	for _, s := range []string{"2026-11-25T13:04:05Z", "2024-02-29T23:59:59.123456789Z", "2023-02-29T00:00:00Z",
		"2026-11-25T24:00:00Z", "2026-13-01T00:00:00Z", "2026-11-25T13:04:05+02:00", "2026-11-25T13:04:05.Z", "0000-01-01T00:00:00Z"} {
		f.Add(s, "2006-01-02", int64(1764000000))
	}
	f.Add("2026-11-25T13:04:05Z", "2006/01/02 15:04:05", int64(-62135596800))
	f.Add("2026-11-25T13:04:05Z", "Jan 2, 2006", int64(253402300799))
	f.Fuzz(func(t *testing.T, s, layout string, unix int64) {
		if c, ok := parseUTC(s); ok {
			tm, err := time.Parse(time.RFC3339, s)
			if err != nil {
				t.Fatalf("parseUTC(%q) = %+v; time.Parse fails: %v", s, c, err)
			}
			if got := clockOf(tm); got != c || tm.Location() != time.UTC {
				t.Fatalf("parseUTC(%q) = %+v; time.Parse gives %+v in %v", s, c, got, tm.Location())
			}
		}
		l, ok := compileLayout(layout)
		if !ok {
			return
		}
		tm := time.Unix(unix%(1<<40), 0).UTC()
		if tm.Year() < 0 || tm.Year() > 9999 {
			return
		}
		if got, want := string(l.append(nil, clockOf(tm))), tm.Format(layout); got != want {
			t.Fatalf("layout %q at %v: %q, Format gives %q", layout, tm, got, want)
		}
	})
}
