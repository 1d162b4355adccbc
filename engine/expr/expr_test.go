package expr

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name       string
		src        string
		opts       []Option
		line, col  int
		msgContain string
	}{
		{name: "missing operand", src: `event == `, line: 1, col: 9, msgContain: "unexpected token EOF"},
		{name: "missing operand no space", src: `event ==`, line: 1, col: 9, msgContain: "unexpected token EOF"},
		{name: "unknown function", src: `uper(region)`, line: 1, col: 1, msgContain: `unknown function "uper" (did you mean "upper"?)`},
		{name: "unknown function far", src: `region != "" && frobnicate(region)`, line: 1, col: 17, msgContain: `unknown function "frobnicate"`},
		{name: "unknown function second line", src: "event == \"x\" &&\n  uper(region) == \"EU\"", line: 2, col: 3, msgContain: `unknown function "uper"`},
		{name: "unknown function after wide characters", src: `"é" + uper(x)`, line: 1, col: 7, msgContain: `unknown function "uper"`},
		{name: "unknown method-looking call", src: `foo.bar(1) && nope(2)`, line: 1, col: 15, msgContain: `unknown function "nope"`},
		{name: "too many arguments", src: `upper(region, 1)`, line: 1, col: 1, msgContain: "too many arguments to call upper"},
		{name: "wrong known type", src: `upper(1)`, line: 1, col: 7, msgContain: "cannot use int as argument"},
		{name: "unclosed paren", src: `upper(region`, line: 1, col: 13, msgContain: "unexpected token EOF"},
		{name: "bad token", src: `a === b`, line: 1, col: 5, msgContain: "unexpected token"},
		{name: "unterminated string", src: `event == "x`, line: 1, col: 12, msgContain: "literal not terminated"},
		{name: "mismatched types", src: `upper(region) == 1`, line: 1, col: 15, msgContain: "mismatched types string and int"},
		{name: "as bool string", src: `upper(region)`, opts: []Option{AsBool()}, line: 1, col: 1, msgContain: "expression returns string, want bool"},
		{name: "as bool int", src: `len(items) + 1`, opts: []Option{AsBool()}, line: 1, col: 1, msgContain: "expression returns int, want bool"},
		{name: "as bool format", src: `date(ts).Format("2006")`, opts: []Option{AsBool()}, line: 1, col: 1, msgContain: "expression returns string, want bool"},
		{name: "empty", src: ``, line: 1, col: 1, msgContain: "unexpected token EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.src, tc.opts...)
			if err == nil {
				t.Fatalf("Compile(%q) = %v, want an error", tc.src, p)
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile(%q) error is %T, want *CompileError", tc.src, err)
			}
			if ce.Line != tc.line || ce.Column != tc.col {
				t.Errorf("Compile(%q) error at %d:%d, want %d:%d (%v)", tc.src, ce.Line, ce.Column, tc.line, tc.col, err)
			}
			if !strings.Contains(ce.Msg, tc.msgContain) {
				t.Errorf("Compile(%q) error %q, want it to contain %q", tc.src, ce.Msg, tc.msgContain)
			}
			if ce.Src != tc.src {
				t.Errorf("Src = %q, want %q", ce.Src, tc.src)
			}
			want := fmt.Sprintf("%s (%d:%d)", ce.Msg, ce.Line, ce.Column)
			if got := err.Error(); got != want || strings.Contains(got, "\n") {
				t.Errorf("Error() = %q, want %q on one line", got, want)
			}
		})
	}
}

func TestCompileAsBoolAccepts(t *testing.T) {
	for _, src := range []string{
		`event != "heartbeat" && latency_ms < 5000`,
		`event == "match_end"`,
		`flag`, // type known only at run time
		`region matches "^eu"`,
		`missing ?? false`,
		`regex_match(region, "^eu")`,
	} {
		t.Run(src, func(t *testing.T) {
			if _, err := Compile(src, AsBool()); err != nil {
				t.Fatalf("Compile(%q, AsBool()): %v", src, err)
			}
		})
	}
}

func TestEval(t *testing.T) {
	rec := map[string]any{
		"event":      "kill",
		"latency_ms": int64(120),
		"region":     "eu",
		"type":       "pvp",
		"count":      int64(3),
		"duration":   2.5,
		"now":        "field",
		"user":       map[string]any{"country": "FR"},
		"player-id":  "p1",
	}
	tests := []struct {
		name string
		src  string
		want any
	}{
		{name: "filter example", src: `event != "heartbeat" && latency_ms < 5000`, want: true},
		{name: "unknown variable is nil", src: `missing`, want: nil},
		{name: "unknown variable compares", src: `missing == nil`, want: true},
		{name: "unknown variable not equal", src: `missing != "heartbeat"`, want: true},
		{name: "unknown variable coalesced", src: `(missing ?? 0) < 5000`, want: true},
		{name: "optional chaining on unknown", src: `missing?.field`, want: nil},
		{name: "field named like a function", src: `type == "pvp"`, want: true},
		{name: "field named like a function in arithmetic", src: `count * 2`, want: int64(6)},
		{name: "field named like a function with a call", src: `upper(type) + string(count)`, want: "PVP3"},
		{name: "field named duration", src: `duration > 2`, want: true},
		{name: "field named now", src: `now`, want: "field"},
		{name: "function called now", src: `now() != nil`, want: true},
		{name: "missing field named like a function", src: `first`, want: nil},
		{name: "env index", src: `$env["player-id"]`, want: "p1"},
		{name: "nested field", src: `user.country`, want: "FR"},
		{name: "let variable", src: `let r = upper(region); r + "-" + r`, want: "EU-EU"},
		{name: "predicate", src: `all([1, 2], # > 0)`, want: true},
		{name: "set example", src: `upper(region)`, want: "EU"},
		{name: "sink example", src: `event == "match_end"`, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.src)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.src, err)
			}
			if p.Source() != tc.src {
				t.Errorf("Source() = %q, want %q", p.Source(), tc.src)
			}
			got, err := p.Eval(rec)
			if err != nil {
				t.Fatalf("Eval(%q): %v", tc.src, err)
			}
			if got != tc.want {
				t.Fatalf("Eval(%q) = %#v (%T), want %#v (%T)", tc.src, got, got, tc.want, tc.want)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		env     map[string]any
		wantErr string
	}{
		{name: "nil compared", src: `latency_ms < 5000`, wantErr: `eval "latency_ms < 5000": invalid operation: <nil> < int (1:12)`},
		{name: "nil record", src: `missing.field`, wantErr: `cannot fetch field from <nil>`},
		{name: "function error has position", src: `region + to_int(x)`, env: map[string]any{"region": "eu", "x": "a"}, wantErr: `eval "region + to_int(x)": to_int: cannot convert "a" to an integer (1:10)`},
		{name: "wrong runtime type", src: `upper(n)`, env: map[string]any{"n": int64(1)}, wantErr: `eval "upper(n)"`},
		{name: "memory budget", src: `map(1..1000000, #)`, wantErr: "memory budget exceeded"},
		{name: "division by zero", src: `1 % n`, env: map[string]any{"n": int64(0)}, wantErr: "integer divide by zero"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.src)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.src, err)
			}
			got, err := p.Eval(tc.env)
			if err == nil {
				t.Fatalf("Eval(%q) = %#v, want an error", tc.src, got)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Eval(%q) error = %q, want it to contain %q", tc.src, err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("Eval(%q) error spans lines: %q", tc.src, err)
			}
		})
	}
}

func TestEvalBool(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		opts    []Option
		env     map[string]any
		want    bool
		wantErr string
	}{
		{name: "true", src: `event == "x"`, env: map[string]any{"event": "x"}, want: true},
		{name: "false", src: `event == "x"`, env: map[string]any{"event": "y"}, want: false},
		{name: "bool field", src: `flag`, opts: []Option{AsBool()}, env: map[string]any{"flag": true}, want: true},
		{name: "string field", src: `flag`, opts: []Option{AsBool()}, env: map[string]any{"flag": "yes"}, wantErr: `expression "flag" returned string, want bool`},
		{name: "missing field", src: `flag`, opts: []Option{AsBool()}, wantErr: `expression "flag" returned <nil>, want bool`},
		{name: "without AsBool", src: `n + 1`, env: map[string]any{"n": int64(1)}, wantErr: `expression "n + 1" returned int, want bool`},
		{name: "eval error", src: `n < 1`, wantErr: `eval "n < 1"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.src, tc.opts...)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.src, err)
			}
			got, err := p.EvalBool(tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("EvalBool(%q) = %v, %v; want error containing %q", tc.src, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("EvalBool(%q) = %v, %v; want %v", tc.src, got, err, tc.want)
			}
		})
	}
}

func TestEvalAsBoolChecksResult(t *testing.T) {
	p, err := Compile(`flag`, AsBool())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Eval(map[string]any{"flag": int64(1)}); err == nil || err.Error() != `expression "flag" returned int64, want bool` {
		t.Fatalf("Eval error = %v", err)
	}
	if got, err := p.Eval(map[string]any{"flag": false}); err != nil || got != false {
		t.Fatalf("Eval = %v, %v; want false", got, err)
	}
}

func TestEvalDoesNotModifyRecord(t *testing.T) {
	rec := map[string]any{"a": int64(1)}
	p, err := Compile(`let b = a + 1; b`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Eval(rec); err != nil {
		t.Fatal(err)
	}
	if len(rec) != 1 {
		t.Fatalf("record changed: %v", rec)
	}
}

// TestConcurrentEval runs one Program and one Template from many goroutines;
// run it with -race.
func TestConcurrentEval(t *testing.T) {
	filter, err := Compile(`event != "heartbeat" && latency_ms < 5000 && upper(region) == "EU"`, AsBool())
	if err != nil {
		t.Fatal(err)
	}
	day, err := Compile(`date(ts).Format("2006-01-02") + "/" + string(n)`)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := CompileTemplate(`events/dt={{ day }}/hour={{ format_time(ts, "15") }}/{{ n }}`)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, rounds = 16, 500
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				n := int64(g*rounds + i)
				rec := map[string]any{
					"event":      "kill",
					"latency_ms": n % 6000,
					"region":     "eu",
					"ts":         "2024-05-01T10:11:12Z",
					"day":        "2024-05-01",
					"n":          n,
				}
				ok, err := filter.EvalBool(rec)
				if err != nil || ok != (n%6000 < 5000) {
					errs <- fmt.Errorf("filter(%d) = %v, %v", n, ok, err)
					return
				}
				got, err := day.Eval(rec)
				if want := fmt.Sprintf("2024-05-01/%d", n); err != nil || got != want {
					errs <- fmt.Errorf("day(%d) = %v, %v; want %s", n, got, err, want)
					return
				}
				s, err := tmpl.Render(rec)
				if want := fmt.Sprintf("events/dt=2024-05-01/hour=10/%d", n); err != nil || s != want {
					errs <- fmt.Errorf("template(%d) = %q, %v; want %q", n, s, err, want)
					return
				}
				// An error in between must not disturb the next evaluation.
				if _, err := day.Eval(map[string]any{"ts": "bad"}); err == nil {
					errs <- errors.New("day of a bad time did not fail")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct{ name, want string }{
		{"uper", "upper"},
		{"parsetime", "parse_time"},
		{"sha265", "sha256"},
		{"to_integer", ""},
		{"zzzzzz", ""},
		{"x", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := suggest(tc.name); got != tc.want {
				t.Fatalf("suggest(%q) = %q, want %q", tc.name, got, tc.want)
			}
		})
	}
}

func TestProgramFields(t *testing.T) {
	for _, tc := range []struct {
		src    string
		fields []string
		exact  bool
	}{
		{`event != "heartbeat" && latency_ms < 5000`, []string{"event", "latency_ms"}, true},
		{`format_time(ts, "2006-01-02")`, []string{"ts"}, true},
		{`upper(region) + upper(region)`, []string{"region"}, true},
		{`$env["type"] == "kill" && device.os == "pc"`, []string{"device", "type"}, true},
		{`let x = score * 2; x > level`, []string{"level", "score"}, true},
		{`all(tags, # != "x") && any(items, .price > limit)`, []string{"items", "limit", "tags"}, true},
		{`type == "kill"`, []string{"type"}, true},
		{`len(keys($env)) > 3`, nil, false},
		{`$env[name] != nil`, []string{"name"}, false},
		{`1 + 2`, nil, true},
	} {
		p, err := Compile(tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		fields, exact := p.Fields()
		if !slices.Equal(fields, tc.fields) || exact != tc.exact {
			t.Errorf("%s: Fields() = %q, %v; want %q, %v", tc.src, fields, exact, tc.fields, tc.exact)
		}
	}
}
