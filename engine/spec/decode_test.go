package spec

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type inner struct {
	Count  int           `yaml:"count" doc:"How many."`
	Period time.Duration `yaml:"period" doc:"How long."`
}

type testConfig struct {
	Name     string            `yaml:"name" spec:"required" doc:"Name."`
	Brokers  []string          `yaml:"brokers" doc:"Brokers."`
	Enabled  bool              `yaml:"enabled" doc:"On or off."`
	Ratio    float64           `yaml:"ratio" doc:"A ratio."`
	Size     ByteSize          `yaml:"size" doc:"A size."`
	Password Secret            `yaml:"password" doc:"A secret."`
	Inner    inner             `yaml:"inner" doc:"Nested."`
	Labels   map[string]string `yaml:"labels" doc:"Labels."`
	Set      Pairs[string]     `yaml:"set" doc:"Ordered."`
	Any      any               `yaml:"any" doc:"Anything."`
	Uint     uint16            `yaml:"uint" doc:"Small."`
}

func decodeString(t *testing.T, src string, env map[string]string) (testConfig, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	d := NewDecoder("p.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	cfg := testConfig{Inner: inner{Count: 7}}
	d.Decode(&n, "", &cfg)
	return cfg, d.Err()
}

func TestDecodeGood(t *testing.T) {
	src := `
name: a
brokers: ["${HOST:-localhost}:9092", b]
enabled: true
ratio: 0.5
size: 5MiB
password: ${PW}
inner: {period: 1m30s}
labels: {x: "1"}
set:
  z: "1"
  a: "2"
any: {n: 1, f: 1.5, s: x, l: [true, null]}
uint: 65535
`
	cfg, err := decodeString(t, src, map[string]string{"PW": "hunter2"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Brokers[0] != "localhost:9092" || cfg.Brokers[1] != "b" {
		t.Errorf("brokers = %v", cfg.Brokers)
	}
	if !cfg.Enabled || cfg.Ratio != 0.5 || cfg.Size != 5<<20 || cfg.Uint != 65535 {
		t.Errorf("scalars = %+v", cfg)
	}
	if cfg.Password.Reveal() != "hunter2" || cfg.Password.String() != "******" {
		t.Errorf("password = %q / %q", cfg.Password.Reveal(), cfg.Password)
	}
	if cfg.Inner.Count != 7 || cfg.Inner.Period != 90*time.Second {
		t.Errorf("inner = %+v (count default must be kept)", cfg.Inner)
	}
	if got := strings.Join(cfg.Set.Keys(), ","); got != "z,a" {
		t.Errorf("pairs order = %s", got)
	}
	m := cfg.Any.(map[string]any)
	if m["n"] != int64(1) || m["f"] != 1.5 || m["s"] != "x" || m["l"].([]any)[0] != true || m["l"].([]any)[1] != nil {
		t.Errorf("any = %#v", m)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  map[string]string
		want []string // one line per error, in order
	}{
		{
			name: "unknown key with suggestion",
			src:  "name: a\nbrokerz: [x]\n",
			want: []string{`p.yaml:2:1: brokerz: unknown key (did you mean "brokers"?); expected one of name, brokers, enabled, ratio, size, password, inner, labels, set, any, uint`},
		},
		{
			name: "all problems at once, in file order",
			src:  "enabled: yes\nratio: fast\ninner:\n  count: x\n  period: soon\nsize: lots\n",
			want: []string{
				`p.yaml:1:1: name: required key is missing`,
				`p.yaml:1:10: enabled: expected true or false, got "yes"`,
				`p.yaml:2:8: ratio: expected a number, got "fast"`,
				`p.yaml:4:10: inner.count: expected an integer, got "x"`,
				`p.yaml:5:11: inner.period: expected a duration such as 500ms, 30s or 1m30s, got "soon"`,
				`p.yaml:6:7: size: expected a size such as 1048576, 512KB or 5MiB, got "lots"`,
			},
		},
		{
			name: "wrong shapes",
			src:  "name: [a]\nbrokers: x\ninner: 3\n",
			want: []string{
				`p.yaml:1:7: name: expected a single value, got a list`,
				`p.yaml:2:10: brokers: expected a list, got the value "x"`,
				`p.yaml:3:8: inner: expected a mapping with keys count, period, got the value "3"`,
			},
		},
		{
			name: "unset variable without default",
			src:  "name: ${NAME}\n",
			want: []string{`p.yaml:1:7: name: environment variable NAME is not set (write ${NAME:-default} to give a default)`},
		},
		{
			name: "secret value never printed",
			src:  "name: a\nuint: ${SECRET}\n",
			env:  map[string]string{"SECRET": "s3cr3t-value"},
			want: []string{`p.yaml:2:7: uint: expected a non-negative integer, got "${SECRET}"`},
		},
		{
			name: "repeated key",
			src:  "name: a\nname: b\n",
			want: []string{`p.yaml:2:1: name: key is repeated (first at line 1)`},
		},
		{
			name: "overflow",
			src:  "name: a\nuint: 70000\n",
			want: []string{`p.yaml:2:7: uint: expected a non-negative integer, got "70000"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeString(t, tc.src, tc.env)
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("errors:\n%s\nwant:\n%s", err, strings.Join(tc.want, "\n"))
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatal("secret printed")
			}
		})
	}
}

func TestInterpolate(t *testing.T) {
	env := map[string]string{"A": "1", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		in, want, err string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "1"},
		{in: "x${A}y${A}", want: "x1y1"},
		{in: "${B:-def}", want: "def"},
		{in: "${EMPTY:-def}", want: "def"},
		{in: "${EMPTY}", want: ""},
		{in: "$${A}", want: "${A}"},
		{in: "${B}", err: "environment variable B is not set"},
		{in: "${A", err: "unclosed ${"},
		{in: "${1A}", err: "invalid variable name"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, _, err := Interpolate(tc.in, lookup)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
		bad  bool
	}{
		{in: "1024", want: 1024}, {in: "5MiB", want: 5 << 20}, {in: "512KB", want: 512000},
		{in: "1.5GiB", want: 3 << 29}, {in: "10 B", want: 10}, {in: "MiB", bad: true}, {in: "-1", bad: true}, {in: "x", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseByteSize(tc.in)
			if tc.bad != (err != nil) || (!tc.bad && got != tc.want) {
				t.Fatalf("ParseByteSize(%q) = %d, %v", tc.in, got, err)
			}
		})
	}
	if s := ByteSize(5 << 20).String(); s != "5MiB" {
		t.Errorf("String = %s", s)
	}
}

type posErr struct{ line, col int }

func (e posErr) Error() string                { return "bad expression" }
func (e posErr) Position() (line, column int) { return e.line, e.col }

func TestFieldErrorPositions(t *testing.T) {
	src := "set:\n  day: 'date(ts'\n  plain: upper(x\n"
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	d := NewDecoder("p.yaml", nil)
	root := n.Content[0]
	d.Add(root, "", At("set", At("day", posErr{1, 8})))
	d.Add(root, "", At("set.plain", posErr{1, 8}))
	d.Add(root, "", At("set.missing", posErr{1, 1}))
	want := "p.yaml:1:1: set.missing: bad expression\np.yaml:2:16: set.day: bad expression\np.yaml:3:17: set.plain: bad expression"
	if got := d.Err().Error(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestSchemaAndDocs(t *testing.T) {
	s := Schema(testConfig{Inner: inner{Count: 7}})
	props := s["properties"].(map[string]any)
	if s["additionalProperties"] != false {
		t.Error("unknown keys must be rejected by the schema")
	}
	if props["size"].(map[string]any)["anyOf"] == nil {
		t.Error("size schema")
	}
	in := props["inner"].(map[string]any)["properties"].(map[string]any)
	if in["count"].(map[string]any)["default"] != int64(7) {
		t.Errorf("default = %v", in["count"])
	}
	if req := s["required"].([]any); len(req) != 1 || req[0] != "name" {
		t.Errorf("required = %v", req)
	}
	fields := Fields(testConfig{Inner: inner{Count: 7}})
	var paths []string
	for _, f := range fields {
		paths = append(paths, f.Path+":"+f.Type)
	}
	got := strings.Join(paths, " ")
	for _, want := range []string{"inner.count:integer", "inner.period:duration", "password:secret string", "set:object", "size:size"} {
		if !strings.Contains(got, want) {
			t.Errorf("fields %s lack %s", got, want)
		}
	}
	if err := CheckDocs(reflectTypeOf(testConfig{})); err != nil {
		t.Error(err)
	}
	type undocumented struct {
		A int `yaml:"a"`
	}
	if err := CheckDocs(reflectTypeOf(undocumented{})); err == nil || !strings.Contains(err.Error(), "a") {
		t.Errorf("CheckDocs = %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("name: a\nbrokers: [x]\ninner: {count: 3, period: 1s}\nset: {a: b}\nany: [1, {x: y}]\n")
	f.Add("name: ${A:-b}\nsize: 5MiB\n")
	f.Add("&a [*a]")
	f.Fuzz(func(t *testing.T, src string) {
		var n yaml.Node
		if yaml.Unmarshal([]byte(src), &n) != nil {
			return
		}
		d := NewDecoder("f.yaml", func(string) (string, bool) { return "v", true })
		var cfg testConfig
		d.Decode(&n, "", &cfg)
		for _, e := range d.Errors() {
			if e.Error() == "" {
				t.Fatal("empty error")
			}
		}
	})
}

func reflectTypeOf(v any) reflect.Type { return reflect.TypeOf(v) }
