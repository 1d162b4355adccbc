package expr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTemplateRender(t *testing.T) {
	rec := map[string]any{
		"day":      "2024-05-01",
		"ts":       "2024-05-01T10:11:12.345Z",
		"event_id": "e-1",
		"n":        int64(-42),
		"big":      int64(1234567890123),
		"f":        1.5,
		"huge":     1e21,
		"tiny":     0.000001,
		"whole":    3.0,
		"ok":       true,
		"t":        time.Date(2024, 5, 1, 10, 11, 12, 5, time.UTC),
		"type":     "kill",
		"empty":    "",
	}
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"static", "telemetry", "telemetry"},
		{"empty", "", ""},
		{"index", "telemetry-{{ day }}", "telemetry-2024-05-01"},
		{"id", "{{ event_id }}", "e-1"},
		{"no spaces", "{{day}}", "2024-05-01"},
		{"path", `events/dt={{ day }}/hour={{ format_time(ts, "15") }}/`, "events/dt=2024-05-01/hour=10/"},
		{"adjacent parts", "{{ day }}{{ event_id }}", "2024-05-01e-1"},
		{"negative int", "n={{ n }}", "n=-42"},
		{"big int", "{{ big }}", "1234567890123"},
		{"float", "{{ f }}", "1.5"},
		{"float without exponent", "{{ huge }}", "1000000000000000000000"},
		{"small float without exponent", "{{ tiny }}", "0.000001"},
		{"whole float", "{{ whole }}", "3"},
		{"arithmetic", "{{ n + 2 }}", "-40"},
		{"bool", "{{ ok }}", "true"},
		{"time", "{{ t }}", "2024-05-01T10:11:12.000000005Z"},
		{"time from date", "{{ date(ts) }}", "2024-05-01T10:11:12.345Z"},
		{"field named like a function", "{{ type }}", "kill"},
		{"empty string is kept", "a{{ empty }}b", "ab"},
		{"string with closing braces", `{{ "a}}b" }}`, "a}}b"},
		{"single-quoted string with braces", `x{{ 'a}}' + "}" }}y`, "xa}}}y"},
		{"escaped quote in string", `{{ "q\"}}" }}`, `q"}}`},
		{"raw string", "{{ `a}}` }}", "a}}"},
		{"map literal", `{{ {"a": {"b": 1}}.a.b }}`, "1"},
		{"literal braces", `{{ "{{" }}x{{ "}}" }}`, "{{x}}"},
		{"single braces are text", "{a}-{{ day }}-}", "{a}-2024-05-01-}"},
		{"unicode text", "é-{{ day }}-ü", "é-2024-05-01-ü"},
		{"multi-line", "a\n{{ day }}\nb", "a\n2024-05-01\nb"},
		{"coalesce default", `{{ coalesce(missing, "none") }}`, "none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := CompileTemplate(tc.src)
			if err != nil {
				t.Fatalf("CompileTemplate(%q): %v", tc.src, err)
			}
			if tmpl.Source() != tc.src {
				t.Errorf("Source() = %q, want %q", tmpl.Source(), tc.src)
			}
			got, err := tmpl.Render(rec)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got != tc.want {
				t.Fatalf("Render = %q, want %q", got, tc.want)
			}
			buf, err := tmpl.AppendRender([]byte("prefix:"), rec)
			if err != nil || string(buf) != "prefix:"+tc.want {
				t.Fatalf("AppendRender = %q, %v; want %q", buf, err, "prefix:"+tc.want)
			}
		})
	}
}

func TestTemplateStatic(t *testing.T) {
	tests := []struct {
		src        string
		wantStatic bool
	}{
		{"telemetry", true},
		{"", true},
		{"a { b } c", true},
		{"telemetry-{{ day }}", false},
		{`{{ "x" }}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			tmpl, err := CompileTemplate(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			s, ok := tmpl.Static()
			if ok != tc.wantStatic {
				t.Fatalf("Static() ok = %v, want %v", ok, tc.wantStatic)
			}
			if ok && s != tc.src {
				t.Fatalf("Static() = %q, want %q", s, tc.src)
			}
			if !ok && s != "" {
				t.Fatalf("Static() = %q for a template with parts", s)
			}
		})
	}
}

func TestTemplateRenderErrors(t *testing.T) {
	rec := map[string]any{
		"obj":  map[string]any{"a": int64(1)},
		"arr":  []any{int64(1)},
		"null": nil,
		"n":    int64(1),
	}
	tests := []struct {
		name, src, wantErr string
	}{
		{"missing field", "telemetry-{{ day }}", `render "telemetry-{{ day }}": {{ day }} is nil`},
		{"null field", "{{null}}", `{{ null }} is nil`},
		{"nil expression", `x-{{ missing ?? nil }}`, `{{ missing ?? nil }} is nil`},
		{"object", "{{ obj }}", `{{ obj }}: value is an object, want a string, number, bool or time`},
		{"array", "{{ arr }}", `{{ arr }}: value is an array`},
		{"eval error", `{{ format_time(missing, "15") }}`, `{{ format_time(missing, "15") }}: format_time: value is nil`},
		{"second part", "{{ n }}/{{ day }}", `{{ day }} is nil`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := CompileTemplate(tc.src)
			if err != nil {
				t.Fatalf("CompileTemplate(%q): %v", tc.src, err)
			}
			got, err := tmpl.Render(rec)
			if err == nil {
				t.Fatalf("Render = %q, want an error", got)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Render error = %q, want one line containing %q", err, tc.wantErr)
			}
			if got != "" {
				t.Fatalf("Render = %q along with an error", got)
			}
		})
	}
}

func TestCompileTemplateErrors(t *testing.T) {
	tests := []struct {
		name, src  string
		line, col  int
		msgContain string
	}{
		{"unclosed", "telemetry-{{ day", 1, 11, "unclosed {{"},
		{"unclosed second", "{{ a }}-{{ b", 1, 9, "unclosed {{"},
		{"unclosed string", `{{ "a }}`, 1, 1, "unclosed {{"},
		{"stray close", "telemetry-}}", 1, 11, "unexpected }}"},
		{"stray close after part", "{{ a }}}}", 1, 8, "unexpected }}"},
		{"empty part", "a-{{ }}", 1, 3, "empty expression"},
		{"unknown function", "index-{{ uper(region) }}", 1, 10, `unknown function "uper"`},
		{"syntax error", "x{{ a == }}", 1, 9, "unexpected token EOF"},
		{"error after wide characters", "é-{{ uper(x) }}", 1, 6, `unknown function "uper"`},
		{"error on a later line", "a\nbc{{ 1 +\n uper(x) }}", 3, 2, `unknown function "uper"`},
		{"error on the part's line", "a\nbc{{ uper(x) }}", 2, 6, `unknown function "uper"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileTemplate(tc.src)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("CompileTemplate(%q) error = %v (%T), want *CompileError", tc.src, err, err)
			}
			if ce.Line != tc.line || ce.Column != tc.col {
				t.Errorf("error at %d:%d, want %d:%d (%v)", ce.Line, ce.Column, tc.line, tc.col, err)
			}
			if !strings.Contains(ce.Msg, tc.msgContain) {
				t.Errorf("error %q, want it to contain %q", ce.Msg, tc.msgContain)
			}
			if ce.Src != tc.src {
				t.Errorf("Src = %q, want the template %q", ce.Src, tc.src)
			}
		})
	}
}
