package expr

import (
	"errors"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr/builtin"
)

// testRecord is the record the function tests evaluate against.
func testRecord() map[string]any {
	return map[string]any{
		"event":      "match_end",
		"ts":         "2024-05-01T10:11:12.345Z",
		"ts_zone":    "2024-05-01T12:11:12+02:00",
		"ts_space":   "2024-05-01 10:11:12",
		"ts_day":     "2024-05-01",
		"ts_sec":     int64(1714558272),
		"ts_ms":      int64(1714558272345),
		"ts_fsec":    1714558272.5,
		"ts_str_ms":  "1714558272345",
		"region":     "eu-west",
		"player_id":  int64(123456789),
		"score":      1234.5,
		"big":        1e21,
		"ok":         true,
		"empty":      "",
		"num_str":    " 42 ",
		"float_str":  "4.75",
		"word":       "héllo wörld",
		"user":       map[string]any{"country": "FR"},
		"items":      []any{int64(1), int64(2)},
		"type":       "kill",
		"count":      int64(3),
		"null_field": nil,
	}
}

func TestFunctions(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    any
		wantErr string // a substring of the evaluation error
	}{
		// coalesce
		{name: "coalesce first set", src: `coalesce(missing, empty, region, "x")`, want: "eu-west"},
		{name: "coalesce keeps zero", src: `coalesce(missing, 0)`, want: int64(0)},
		{name: "coalesce keeps false", src: `coalesce(null_field, false)`, want: false},
		{name: "coalesce none", src: `coalesce(missing, empty)`, want: nil},
		{name: "coalesce one", src: `coalesce(region)`, want: "eu-west"},

		// default
		{name: "default nil", src: `default(missing, "none")`, want: "none"},
		{name: "default set", src: `default(region, "none")`, want: "eu-west"},
		{name: "default keeps empty string", src: `default(empty, "none")`, want: ""},

		// parse_time
		{name: "parse_time rfc3339 nano", src: `parse_time(ts)`, want: time.Date(2024, 5, 1, 10, 11, 12, 345e6, time.UTC)},
		{name: "parse_time rfc3339 zone", src: `unix(parse_time(ts_zone))`, want: int64(1714558272)},
		{name: "parse_time space", src: `parse_time(ts_space)`, want: time.Date(2024, 5, 1, 10, 11, 12, 0, time.UTC)},
		{name: "parse_time T no zone", src: `parse_time("2024-05-01T10:11:12")`, want: time.Date(2024, 5, 1, 10, 11, 12, 0, time.UTC)},
		{name: "parse_time day", src: `parse_time(ts_day)`, want: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)},
		{name: "parse_time unix seconds", src: `parse_time(ts_sec)`, want: time.Date(2024, 5, 1, 10, 11, 12, 0, time.UTC)},
		{name: "parse_time unix millis", src: `parse_time(ts_ms)`, want: time.Date(2024, 5, 1, 10, 11, 12, 345e6, time.UTC)},
		{name: "parse_time unix float", src: `parse_time(ts_fsec)`, want: time.Date(2024, 5, 1, 10, 11, 12, 5e8, time.UTC)},
		{name: "parse_time unix millis string", src: `parse_time(ts_str_ms)`, want: time.Date(2024, 5, 1, 10, 11, 12, 345e6, time.UTC)},
		{name: "parse_time int literal", src: `parse_time(0)`, want: time.Unix(0, 0).UTC()},
		{name: "parse_time time", src: `parse_time(parse_time(ts)) == parse_time(ts)`, want: true},
		{name: "parse_time layout", src: `parse_time("01/05/2024", "02/01/2006")`, want: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)},
		{name: "parse_time bad string", src: `parse_time("yesterday")`, wantErr: `parse_time: cannot parse "yesterday" as a time`},
		{name: "parse_time bad rfc3339", src: `parse_time("2024-13-01T00:00:00Z")`, wantErr: "cannot parse"},
		{name: "parse_time nil", src: `parse_time(missing)`, wantErr: "parse_time: value is nil"},
		{name: "parse_time object", src: `parse_time(user)`, wantErr: "value is an object"},
		{name: "parse_time layout mismatch", src: `parse_time("2024", "02/01/2006")`, wantErr: "parse_time: parsing time"},
		{name: "parse_time layout non-string", src: `parse_time(ts_sec, "2006")`, wantErr: "value is an integer, want a string with a layout"},
		{name: "parse_time NaN", src: `parse_time(0.0 / 0.0)`, wantErr: "NaN is not a unix time"},

		// format_time
		{name: "format_time string", src: `format_time(ts, "2006-01-02")`, want: "2024-05-01"},
		{name: "format_time hour UTC", src: `format_time(ts_zone, "15")`, want: "10"},
		{name: "format_time millis", src: `format_time(ts_ms, "2006-01-02T15:04:05.000Z07:00")`, want: "2024-05-01T10:11:12.345Z"},
		{name: "format_time time", src: `format_time(date(ts_space), "15:04")`, want: "10:11"},
		{name: "format_time nil", src: `format_time(missing, "15")`, wantErr: "format_time: value is nil"},
		{name: "format_time bool", src: `format_time(ok, "15")`, wantErr: "value is a bool"},

		// unix, unix_ms
		{name: "unix string", src: `unix(ts)`, want: int64(1714558272)},
		{name: "unix millis number", src: `unix(ts_ms)`, want: int64(1714558272)},
		{name: "unix_ms string", src: `unix_ms(ts)`, want: int64(1714558272345)},
		{name: "unix_ms seconds number", src: `unix_ms(ts_sec)`, want: int64(1714558272000)},
		{name: "unix_ms time", src: `unix_ms(date(ts_day))`, want: int64(1714521600000)},
		{name: "unix nil", src: `unix(missing)`, wantErr: "unix: value is nil"},
		{name: "unix_ms bad", src: `unix_ms("soon")`, wantErr: "unix_ms: cannot parse"},

		// hashes
		{name: "sha256 string", src: `sha256("abc")`, want: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{name: "sha256 int like string", src: `sha256(player_id) == sha256("123456789")`, want: true},
		{name: "sha256 of string()", src: `sha256(string(player_id)) == sha256(player_id)`, want: true},
		{name: "sha256 nil", src: `sha256(missing)`, wantErr: "sha256: value is nil"},
		{name: "sha256 object", src: `sha256(user)`, wantErr: "sha256: value is an object"},
		{name: "md5", src: `md5("abc")`, want: "900150983cd24fb0d6963f7d28e17f72"},
		{name: "md5 nil", src: `md5(missing)`, wantErr: "md5: value is nil"},
		{name: "fnv64", src: `fnv64("abc")`, want: stdFNV("abc")},
		{name: "fnv64 empty", src: `fnv64("")`, want: int64(-3750763034362895579) & 0x7fffffffffffffff},
		{name: "fnv64 non-negative", src: `fnv64("player-7") >= 0`, want: true},
		{name: "fnv64 nil", src: `fnv64(missing)`, wantErr: "fnv64: value is nil"},
		{name: "hash_mod", src: `hash_mod("abc", 16)`, want: stdFNV("abc") % 16},
		{name: "hash_mod field", src: `hash_mod(player_id, 8) == fnv64("123456789") % 8`, want: true},
		{name: "hash_mod zero", src: `hash_mod("abc", 0)`, wantErr: "hash_mod: n is 0, want a positive integer"},
		{name: "hash_mod negative field", src: `hash_mod("abc", -count)`, wantErr: "hash_mod: n is -3"},
		{name: "hash_mod n string", src: `hash_mod("abc", region)`, wantErr: "hash_mod: n is a string, want an integer"},

		// substr
		{name: "substr middle", src: `substr("abcdef", 1, 3)`, want: "bc"},
		{name: "substr to end", src: `substr("abcdef", 4)`, want: "ef"},
		{name: "substr clamps end", src: `substr("abc", 1, 100)`, want: "bc"},
		{name: "substr clamps start", src: `substr("abc", -5, 2)`, want: "ab"},
		{name: "substr start past end", src: `substr("abc", 5, 9)`, want: ""},
		{name: "substr reversed", src: `substr("abc", 2, 1)`, want: ""},
		{name: "substr runes", src: `substr(word, 1, 5)`, want: "éllo"},
		{name: "substr field positions", src: `substr(region, count - 3, count)`, want: "eu-"},
		{name: "substr nil", src: `substr(missing, 0, 1)`, wantErr: "substr: value is nil, want a string"},
		{name: "substr bad start", src: `substr(region, region)`, wantErr: "substr: start is a string"},

		// regexes
		{name: "regex_match yes", src: `regex_match(region, "^eu-")`, want: true},
		{name: "regex_match no", src: `regex_match(region, "^us-")`, want: false},
		{name: "regex_match dynamic bad pattern", src: `regex_match(region, region + "[")`, wantErr: "regex_match: error parsing regexp"},
		{name: "regex_match nil", src: `regex_match(missing, "x")`, wantErr: "regex_match: value is nil"},
		{name: "regex_replace", src: `regex_replace(region, "^(\\w+)-(\\w+)$", "$2.$1")`, want: "west.eu"},
		{name: "regex_replace all", src: `regex_replace("a1b22c", "[0-9]+", "#")`, want: "a#b#c"},
		{name: "regex_replace nil", src: `regex_replace(missing, "x", "y")`, wantErr: "regex_replace: value is nil"},
		{name: "regex_replace bad repl", src: `regex_replace(region, "x", count)`, wantErr: "regex_replace: replacement is an integer"},

		// conversions
		{name: "to_int string", src: `to_int("42")`, want: int64(42)},
		{name: "to_int spaced string", src: `to_int(num_str)`, want: int64(42)},
		{name: "to_int float string", src: `to_int(float_str)`, want: int64(4)},
		{name: "to_int negative float", src: `to_int(-2.9)`, want: int64(-2)},
		{name: "to_int int", src: `to_int(player_id)`, want: int64(123456789)},
		{name: "to_int float", src: `to_int(score)`, want: int64(1234)},
		{name: "to_int too big", src: `to_int(big)`, wantErr: "to_int: 1e+21 is out of range"},
		{name: "to_int word", src: `to_int("abc")`, wantErr: `to_int: cannot convert "abc" to an integer`},
		{name: "to_int bool", src: `to_int(ok)`, wantErr: "to_int: cannot convert a bool to an integer"},
		{name: "to_int nil", src: `to_int(missing)`, wantErr: "to_int: value is nil"},
		{name: "to_float string", src: `to_float(float_str)`, want: 4.75},
		{name: "to_float int", src: `to_float(count)`, want: 3.0},
		{name: "to_float word", src: `to_float("x1")`, wantErr: `to_float: cannot convert "x1" to a float`},
		{name: "to_float nil", src: `to_float(missing)`, wantErr: "to_float: value is nil"},
		{name: "to_float array", src: `to_float(items)`, wantErr: "to_float: cannot convert an array to a float"},
		{name: "to_string int", src: `to_string(player_id)`, want: "123456789"},
		{name: "to_string float no exponent", src: `to_string(big)`, want: "1000000000000000000000"},
		{name: "to_string float", src: `to_string(score)`, want: "1234.5"},
		{name: "to_string bool", src: `to_string(ok)`, want: "true"},
		{name: "to_string time", src: `to_string(date(ts))`, want: "2024-05-01T10:11:12.345Z"},
		{name: "to_string string", src: `to_string(region)`, want: "eu-west"},
		{name: "to_string nil", src: `to_string(missing)`, wantErr: "to_string: value is nil"},
		{name: "to_string object", src: `to_string(user)`, wantErr: "to_string: value is an object, want a string, number, bool or time"},

		// expr-lang functions that pipelines rely on
		{name: "date rfc3339 format", src: `date(ts).Format("2006-01-02")`, want: "2024-05-01"},
		{name: "date keeps zone", src: `date(ts_zone).Format("15:04")`, want: "12:11"},
		{name: "date space", src: `date(ts_space).Hour()`, want: int64(10)},
		{name: "date day", src: `date(ts_day).Unix()`, want: int64(1714521600)},
		{name: "date time only", src: `date("10:11:12").Minute()`, want: int64(11)},
		{name: "date rfc1123", src: `date("Wed, 01 May 2024 10:11:12 UTC").Day()`, want: int64(1)},
		{name: "date layout", src: `date("01/05/2024", "02/01/2006").Month()`, want: time.May},
		{name: "date timezone", src: `date("2024-05-01 10:00", "2006-01-02 15:04", "Europe/Paris").UTC().Hour()`, want: int64(8)},
		{name: "date unix millis", src: `date(ts_ms).Format("2006")`, want: "2024"},
		{name: "date bad", src: `date("someday")`, wantErr: `date: cannot parse "someday" as a date`},
		{name: "date nil", src: `date(missing)`, wantErr: "date: value is nil"},
		{name: "date chained Format", src: `date(ts).Add(duration("1h")).Format("15")`, want: "11"},
		{name: "upper", src: `upper(region)`, want: "EU-WEST"},
		{name: "upper nil", src: `upper(missing)`, wantErr: "upper"},
		{name: "int of string", src: `int("42")`, want: int64(42)},
		{name: "string of int", src: `string(player_id)`, want: "123456789"},
		{name: "split", src: `split(region, "-")[1]`, want: "west"},
		{name: "hasPrefix", src: `hasPrefix(region, "eu")`, want: true},
		{name: "startsWith", src: `region startsWith "eu"`, want: true},
		{name: "contains", src: `region contains "west"`, want: true},
		{name: "matches", src: `region matches "^eu"`, want: true},
		{name: "nil coalescing", src: `missing ?? "d"`, want: "d"},
		{name: "optional chaining", src: `missing?.country`, want: nil},
		{name: "nested field", src: `user.country`, want: "FR"},
		{name: "len", src: `len(items)`, want: int64(2)},
	}
	rec := testRecord()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.src)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.src, err)
			}
			got, err := p.Eval(rec)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("Eval(%q) = %#v, want an error containing %q", tc.src, got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Eval(%q) error = %q, want it to contain %q", tc.src, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("Eval(%q) error spans lines: %q", tc.src, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Eval(%q): %v", tc.src, err)
			}
			if !equal(got, tc.want) {
				t.Fatalf("Eval(%q) = %#v (%T), want %#v (%T)", tc.src, got, got, tc.want, tc.want)
			}
		})
	}
}

// stdFNV is the 64-bit FNV-1a of s by the standard library, sign bit cleared.
func stdFNV(s string) int64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return int64(h.Sum64() &^ (1 << 63))
}

// equal compares results, times by instant.
func equal(got, want any) bool {
	if gt, ok := got.(time.Time); ok {
		wt, ok := want.(time.Time)
		return ok && gt.Equal(wt)
	}
	return got == want
}

func TestFunctionErrorsUnwrap(t *testing.T) {
	p, err := Compile(`to_int(missing)`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Eval(nil)
	if !errors.Is(err, errNil) {
		t.Fatalf("Eval error %v does not wrap errNil", err)
	}
}

func TestFunctionsCompileChecks(t *testing.T) {
	tests := []struct {
		name, src, wantErr string
	}{
		{"coalesce no arguments", `coalesce()`, "not enough arguments to call coalesce"},
		{"default one argument", `default(x)`, "not enough arguments to call default"},
		{"parse_time three arguments", `parse_time(a, "x", "y")`, "parse_time"},
		{"format_time no layout", `format_time(ts)`, "format_time"},
		{"format_time int layout", `format_time(ts, 1)`, "format_time"},
		{"sha256 two arguments", `sha256(a, b)`, "too many arguments to call sha256"},
		{"hash_mod string n", `hash_mod(a, "8")`, "hash_mod"},
		{"substr one argument", `substr(s)`, "substr"},
		{"substr int string", `substr(1, 2)`, "substr"},
		{"regex_match constant bad pattern", `regex_match(s, "(")`, "regex_match: error parsing regexp: missing closing )"},
		{"regex_replace constant bad pattern", `regex_replace(s, "a**", "b")`, "regex_replace: error parsing regexp"},
		{"regex_replace two arguments", `regex_replace(s, "a")`, "regex_replace"},
		{"to_int two arguments", `to_int(a, b)`, "too many arguments to call to_int"},
		{"upper two arguments", `upper(a, b)`, "too many arguments to call upper"},
		{"upper int", `upper(1)`, "cannot use int as argument (type string) to call upper"},
		{"date no arguments", `date()`, "invalid number of arguments"},
		{"len int", `len(1)`, "invalid argument for len"},
		{"Format int layout", `date(ts).Format(1)`, "cannot use int as argument (type string) to call Format"},
		{"internal function", `$format(ts, "x")`, `unknown function "$format"`},
		{"internal date", `$date(ts)`, `unknown function "$date"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.src)
			if err == nil {
				t.Fatalf("Compile(%q) succeeded, want an error containing %q", tc.src, tc.wantErr)
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile(%q) error is %T, want *CompileError", tc.src, err)
			}
			if !strings.Contains(ce.Msg, tc.wantErr) {
				t.Fatalf("Compile(%q) error = %q, want it to contain %q", tc.src, ce.Msg, tc.wantErr)
			}
		})
	}
}

func TestFunctionsDocumented(t *testing.T) {
	docs := Functions()
	seen := map[string]bool{}
	for i, d := range docs {
		if seen[d.Name] {
			t.Errorf("%s is documented twice", d.Name)
		}
		seen[d.Name] = true
		if i > 0 && docs[i-1].Name > d.Name {
			t.Errorf("Functions is not sorted: %s before %s", docs[i-1].Name, d.Name)
		}
		if !strings.HasPrefix(d.Signature, d.Name+"(") {
			t.Errorf("%s: signature %q does not start with its name", d.Name, d.Signature)
		}
		if d.Doc == "" || !strings.HasSuffix(d.Doc, ".") {
			t.Errorf("%s: doc %q is not a sentence", d.Name, d.Doc)
		}
		if !knownFunctions[d.Name] {
			t.Errorf("%s is documented but cannot be called", d.Name)
		}
	}
	for name := range knownFunctions {
		if !seen[name] {
			t.Errorf("%s can be called but is not documented", name)
		}
	}
	for _, f := range builtin.Builtins {
		if !seen[f.Name] {
			t.Errorf("expr-lang builtin %s is not documented", f.Name)
		}
	}
	// The caller owns the slice.
	docs[0].Name = "changed"
	if Functions()[0].Name == "changed" {
		t.Error("Functions returns shared state")
	}
}

func TestRegexCacheBounded(t *testing.T) {
	old := maxCachedRegexps
	maxCachedRegexps = regexCacheSize.Load() + 2
	t.Cleanup(func() { maxCachedRegexps = old })
	p, err := Compile(`regex_match("a", pattern)`)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := p.Eval(map[string]any{"pattern": strings.Repeat("a", i+1) + "x?"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := regexCacheSize.Load(); got > maxCachedRegexps {
		t.Fatalf("cache holds %d patterns, limit %d", got, maxCachedRegexps)
	}
}

func TestFormatRewriteChecksLayout(t *testing.T) {
	p, err := Compile(`date(ts).Format(layout)`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Eval(map[string]any{"ts": "2024-05-01", "layout": int64(1)})
	if err == nil || !strings.Contains(err.Error(), "time.Format: layout is an integer, want a string") {
		t.Fatalf("Eval error = %v", err)
	}
	got, err := p.Eval(map[string]any{"ts": "2024-05-01", "layout": "02/01"})
	if err != nil || got != "01/05" {
		t.Fatalf("Eval = %v, %v; want 01/05", got, err)
	}
}
