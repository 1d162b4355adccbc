package expr

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/builtin"
)

// FunctionDoc describes one function that expressions can call.
type FunctionDoc struct {
	Name      string // the name expressions call it by, such as "upper"
	Signature string // the call with its argument and result types, such as "upper(s string) string"
	Doc       string // one sentence saying what it does
}

// function is a function that Sluice adds to the ones expr-lang has.
type function struct {
	doc   FunctionDoc
	fn    func(args ...any) (any, error)
	types []any // signatures for the compile-time check, one per overload
}

// functions are the functions Sluice adds. Each is typed, so the compiler
// checks the number of arguments and rejects arguments whose type is known
// and wrong. Arguments whose type is only known at run time, such as record
// fields, are checked by the function itself.
var functions = []function{
	{
		doc:   FunctionDoc{"coalesce", "coalesce(v any, more ...any) any", "Returns the first argument that is neither nil nor an empty string, or nil if there is none."},
		fn:    fnCoalesce,
		types: []any{new(func(any, ...any) any)},
	},
	{
		doc:   FunctionDoc{"default", "default(v any, d any) any", "Returns v unless it is nil, in which case it returns d; the same as `v ?? d`."},
		fn:    fnDefault,
		types: []any{new(func(any, any) any)},
	},
	{
		doc: FunctionDoc{"parse_time", "parse_time(v any[, layout string]) time.Time",
			"Parses v as a time: with a Go layout, v must be a string in that layout; without one, v may be a time, an RFC 3339 string, \"2006-01-02T15:04:05\", \"2006-01-02 15:04:05\" or \"2006-01-02\" (UTC), or unix seconds or milliseconds (a number, or a string of digits; values above 1e12 are milliseconds)."},
		fn:    fnParseTime,
		types: []any{new(func(any) time.Time), new(func(string, string) time.Time)},
	},
	{
		doc:   FunctionDoc{"format_time", "format_time(t any, layout string) string", "Formats t in UTC with a Go layout such as \"2006-01-02\"; t is a time or anything parse_time accepts without a layout."},
		fn:    fnFormatTime,
		types: []any{new(func(any, string) string)},
	},
	{
		doc:   FunctionDoc{"unix", "unix(t any) int", "Returns t as whole seconds since the Unix epoch; t is a time or anything parse_time accepts without a layout."},
		fn:    fnUnix,
		types: []any{new(func(any) int64)},
	},
	{
		doc:   FunctionDoc{"unix_ms", "unix_ms(t any) int", "Returns t as milliseconds since the Unix epoch; t is a time or anything parse_time accepts without a layout."},
		fn:    fnUnixMS,
		types: []any{new(func(any) int64)},
	},
	{
		doc:   FunctionDoc{"sha256", "sha256(v any) string", "Returns the SHA-256 digest of v in lower-case hex; numbers and bools are hashed as to_string writes them."},
		fn:    fnSHA256,
		types: []any{new(func(any) string)},
	},
	{
		doc:   FunctionDoc{"md5", "md5(v any) string", "Returns the MD5 digest of v in lower-case hex, for compatibility with other systems, not for security; numbers and bools are hashed as to_string writes them."},
		fn:    fnMD5,
		types: []any{new(func(any) string)},
	},
	{
		doc:   FunctionDoc{"fnv64", "fnv64(v any) int", "Returns the 64-bit FNV-1a hash of v with the sign bit cleared, a non-negative integer that is stable across runs and machines."},
		fn:    fnFNV64,
		types: []any{new(func(any) int64)},
	},
	{
		doc:   FunctionDoc{"hash_mod", "hash_mod(v any, n int) int", "Returns fnv64(v) modulo n, a stable bucket in [0, n) for partitioning; n must be positive."},
		fn:    fnHashMod,
		types: []any{new(func(any, int) int64)},
	},
	{
		doc:   FunctionDoc{"substr", "substr(s string, start int[, end int]) string", "Returns the characters of s from start up to but not including end (default: the end of s), counting characters, not bytes; out-of-range positions are clamped."},
		fn:    fnSubstr,
		types: []any{new(func(string, int) string), new(func(string, int, int) string)},
	},
	{
		doc:   FunctionDoc{"regex_match", "regex_match(s string, pattern string) bool", "Reports whether s contains a match of the RE2 pattern; the same as `s matches pattern`."},
		fn:    fnRegexMatch,
		types: []any{new(func(string, string) bool)},
	},
	{
		doc:   FunctionDoc{"regex_replace", "regex_replace(s string, pattern string, repl string) string", "Replaces every match of the RE2 pattern in s with repl, in which $1 or ${name} stands for a submatch."},
		fn:    fnRegexReplace,
		types: []any{new(func(string, string, string) string)},
	},
	{
		doc:   FunctionDoc{"to_int", "to_int(v any) int", "Converts a number or a numeric string such as \"42\" or \" 42.9 \" to an integer, truncating toward zero; nil, bools and other strings are errors."},
		fn:    fnToInt,
		types: []any{new(func(any) int64)},
	},
	{
		doc:   FunctionDoc{"to_float", "to_float(v any) float", "Converts a number or a numeric string such as \"4.2\" to a float; nil, bools and other strings are errors."},
		fn:    fnToFloat,
		types: []any{new(func(any) float64)},
	},
	{
		doc:   FunctionDoc{"to_string", "to_string(v any) string", "Converts a string, number, bool or time to a string as templates write it (floats without exponent, times in RFC 3339); nil, objects and arrays are errors (use toJSON for those)."},
		fn:    fnToString,
		types: []any{new(func(any) string)},
	},
}

// internalFunctions are faster forms of common calls that Compile rewrites
// expressions to use. Their names start with $, so that no expression can
// call them directly: the check for unknown functions rejects them.
var internalFunctions = []function{
	{
		// date(s) with one argument, the same result without trying every
		// layout in turn.
		doc:   FunctionDoc{Name: "$date"},
		fn:    fnDate,
		types: []any{new(func(any) time.Time)},
	},
	{
		// t.Format(layout) on a value known to be a time, without reflection.
		doc:   FunctionDoc{Name: "$format"},
		fn:    fnFormat,
		types: []any{new(func(time.Time, string) string)},
	},
}

// functionOptions are the expr options that add the functions.
var functionOptions = func() []expr.Option {
	opts := make([]expr.Option, 0, len(functions)+len(internalFunctions))
	for _, f := range functions {
		opts = append(opts, expr.Function(f.doc.Name, f.fn, f.types...))
	}
	for _, f := range internalFunctions {
		opts = append(opts, expr.Function(f.doc.Name, f.fn, f.types...))
	}
	return opts
}()

// knownFunctions holds the name of every function an expression may call.
var knownFunctions = func() map[string]bool {
	m := make(map[string]bool, len(functions)+len(builtin.Builtins))
	for _, f := range builtin.Builtins {
		m[f.Name] = true
	}
	for _, f := range functions {
		m[f.doc.Name] = true
	}
	return m
}()

// Functions returns the name, signature and a one-line description of every
// function expressions can call, both those of expr-lang and those Sluice
// adds, sorted by name. The caller may modify the returned slice.
func Functions() []FunctionDoc {
	docs := make([]FunctionDoc, 0, len(functions)+len(builtinDocs))
	for _, f := range functions {
		docs = append(docs, f.doc)
	}
	docs = append(docs, builtinDocs...)
	sort.Slice(docs, func(i, j int) bool { return docs[i].Name < docs[j].Name })
	return docs
}

// builtinDocs documents the functions of expr-lang that expressions may call.
// A test checks that it names every one of them.
var builtinDocs = []FunctionDoc{
	// Strings.
	{"upper", "upper(s string) string", "Returns s in upper case."},
	{"lower", "lower(s string) string", "Returns s in lower case."},
	{"trim", "trim(s string[, cutset string]) string", "Removes white space, or the characters of cutset, from both ends of s."},
	{"trimPrefix", "trimPrefix(s string, prefix string) string", "Removes prefix from the start of s if it is there."},
	{"trimSuffix", "trimSuffix(s string, suffix string) string", "Removes suffix from the end of s if it is there."},
	{"split", "split(s string, sep string[, n int]) []string", "Splits s around each sep, into at most n parts if n is given."},
	{"splitAfter", "splitAfter(s string, sep string[, n int]) []string", "Splits s after each sep, into at most n parts if n is given."},
	{"replace", "replace(s string, old string, new string) string", "Replaces every old in s with new."},
	{"repeat", "repeat(s string, n int) string", "Returns s repeated n times."},
	{"join", "join(a []string[, glue string]) string", "Joins the strings of a, separated by glue."},
	{"indexOf", "indexOf(s string, sub string) int", "Returns the index of the first sub in s, or -1."},
	{"lastIndexOf", "lastIndexOf(s string, sub string) int", "Returns the index of the last sub in s, or -1."},
	{"hasPrefix", "hasPrefix(s string, prefix string) bool", "Reports whether s starts with prefix; the same as `s startsWith prefix`."},
	{"hasSuffix", "hasSuffix(s string, suffix string) bool", "Reports whether s ends with suffix; the same as `s endsWith suffix`."},
	{"toBase64", "toBase64(s string) string", "Encodes s in standard base64."},
	{"fromBase64", "fromBase64(s string) string", "Decodes standard base64."},
	{"toJSON", "toJSON(v any) string", "Encodes v as indented JSON."},
	{"fromJSON", "fromJSON(s string) any", "Decodes the JSON text s."},
	{"string", "string(v any) string", "Formats v with Go's %v (nil becomes \"<nil>\"; see to_string for stricter conversion)."},
	// Numbers.
	{"int", "int(v any) int", "Converts a number or an integer string to an integer, truncating floats."},
	{"float", "float(v any) float", "Converts a number or a numeric string to a float."},
	{"abs", "abs(n number) number", "Returns the absolute value of n."},
	{"ceil", "ceil(n number) float", "Rounds n up to an integer value."},
	{"floor", "floor(n number) float", "Rounds n down to an integer value."},
	{"round", "round(n number) float", "Rounds n to the nearest integer value, halves away from zero."},
	{"max", "max(n number, more ...number) number", "Returns the largest argument, or the largest element of an array."},
	{"min", "min(n number, more ...number) number", "Returns the smallest argument, or the smallest element of an array."},
	{"mean", "mean(a []number) float", "Returns the average of the numbers in a."},
	{"median", "median(a []number) float", "Returns the median of the numbers in a."},
	{"bitand", "bitand(a int, b int) int", "Returns a AND b."},
	{"bitor", "bitor(a int, b int) int", "Returns a OR b."},
	{"bitxor", "bitxor(a int, b int) int", "Returns a XOR b."},
	{"bitnand", "bitnand(a int, b int) int", "Returns a AND NOT b."},
	{"bitnot", "bitnot(a int) int", "Returns NOT a."},
	{"bitshl", "bitshl(a int, n int) int", "Shifts a left by n bits."},
	{"bitshr", "bitshr(a int, n int) int", "Shifts a right by n bits, keeping the sign."},
	{"bitushr", "bitushr(a int, n int) int", "Shifts a right by n bits, filling with zeros."},
	// Times.
	{"now", "now() time.Time", "Returns the current time; not repeatable when records are replayed, so keep it out of identities."},
	{"date", "date(s string[, layout string[, timezone string]]) time.Time", "Parses s as a time with a Go layout, or without one as \"2006-01-02\", \"15:04:05\", \"2006-01-02 15:04:05\", RFC 3339, RFC 822, RFC 850 or RFC 1123; the result has methods such as .Format(layout), .Year() and .Unix()."},
	{"duration", "duration(s string) time.Duration", "Parses a Go duration such as \"1h30m\"."},
	{"timezone", "timezone(name string) *time.Location", "Loads a time zone such as \"Europe/Paris\", for t.In(zone) and date(zone, s)."},
	// Arrays and maps.
	{"len", "len(v any) int", "Returns the length of a string, array or map."},
	{"type", "type(v any) string", "Returns the type of v: \"nil\", \"bool\", \"int\", \"float\", \"string\", \"array\", \"map\" and so on."},
	{"all", "all(a []any, predicate) bool", "Reports whether the predicate holds for every element, as in all(items, .qty > 0)."},
	{"any", "any(a []any, predicate) bool", "Reports whether the predicate holds for at least one element."},
	{"none", "none(a []any, predicate) bool", "Reports whether the predicate holds for no element."},
	{"one", "one(a []any, predicate) bool", "Reports whether the predicate holds for exactly one element."},
	{"filter", "filter(a []any, predicate) []any", "Returns the elements for which the predicate holds."},
	{"map", "map(a []any, expression) []any", "Returns the expression evaluated for each element (# or .field)."},
	{"find", "find(a []any, predicate) any", "Returns the first element for which the predicate holds, or nil."},
	{"findIndex", "findIndex(a []any, predicate) int", "Returns the index of the first element for which the predicate holds, or -1."},
	{"findLast", "findLast(a []any, predicate) any", "Returns the last element for which the predicate holds, or nil."},
	{"findLastIndex", "findLastIndex(a []any, predicate) int", "Returns the index of the last element for which the predicate holds, or -1."},
	{"count", "count(a []any[, predicate]) int", "Returns the number of elements for which the predicate holds, or that are true."},
	{"sum", "sum(a []any[, expression]) number", "Returns the sum of the elements, or of the expression for each element."},
	{"groupBy", "groupBy(a []any, expression) map[any][]any", "Groups the elements by the value of the expression."},
	{"sortBy", "sortBy(a []any, expression[, order string]) []any", "Sorts the elements by the value of the expression, \"asc\" or \"desc\"."},
	{"reduce", "reduce(a []any, expression[, initial any]) any", "Folds the elements with the expression, in which #acc is the accumulator."},
	{"first", "first(a []any) any", "Returns the first element of a, or nil if a is empty."},
	{"last", "last(a []any) any", "Returns the last element of a, or nil if a is empty."},
	{"get", "get(v any, key any) any", "Returns v[key], or nil if there is no such key or index."},
	{"take", "take(a []any, n int) []any", "Returns the first n elements of a."},
	{"keys", "keys(m map) []any", "Returns the keys of m."},
	{"values", "values(m map) []any", "Returns the values of m."},
	{"toPairs", "toPairs(m map) [][]any", "Returns the [key, value] pairs of m."},
	{"fromPairs", "fromPairs(a [][]any) map", "Builds a map from [key, value] pairs."},
	{"reverse", "reverse(a []any) []any", "Returns the elements of a in reverse order."},
	{"uniq", "uniq(a []any) []any", "Returns the elements of a without duplicates, in first-seen order."},
	{"concat", "concat(a []any, more ...[]any) []any", "Joins arrays into one."},
	{"flatten", "flatten(a []any) []any", "Flattens nested arrays into one."},
	{"sort", "sort(a []any[, order string]) []any", "Sorts the elements of a, \"asc\" or \"desc\"."},
}

func fnCoalesce(args ...any) (any, error) {
	for _, a := range args {
		if a == nil {
			continue
		}
		if s, ok := a.(string); ok && s == "" {
			continue
		}
		return a, nil
	}
	return nil, nil
}

func fnDefault(args ...any) (any, error) {
	if args[0] == nil {
		return args[1], nil
	}
	return args[0], nil
}

func fnParseTime(args ...any) (any, error) {
	if len(args) == 2 {
		s, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("parse_time: value is %s, want a string with a layout", describe(args[0]))
		}
		layout, ok := args[1].(string)
		if !ok {
			return nil, fmt.Errorf("parse_time: layout is %s, want a string", describe(args[1]))
		}
		t, err := time.Parse(layout, s)
		if err != nil {
			return nil, fmt.Errorf("parse_time: %w", err)
		}
		return t, nil
	}
	t, err := toTime(args[0])
	if err != nil {
		return nil, fmt.Errorf("parse_time: %w", err)
	}
	return t, nil
}

func fnFormatTime(args ...any) (any, error) {
	t, err := toTime(args[0])
	if err != nil {
		return nil, fmt.Errorf("format_time: %w", err)
	}
	layout, ok := args[1].(string)
	if !ok {
		return nil, fmt.Errorf("format_time: layout is %s, want a string", describe(args[1]))
	}
	return t.UTC().Format(layout), nil
}

func fnUnix(args ...any) (any, error) {
	t, err := toTime(args[0])
	if err != nil {
		return nil, fmt.Errorf("unix: %w", err)
	}
	return t.Unix(), nil
}

func fnUnixMS(args ...any) (any, error) {
	t, err := toTime(args[0])
	if err != nil {
		return nil, fmt.Errorf("unix_ms: %w", err)
	}
	return t.UnixMilli(), nil
}

// fnDate is date(s) with one argument. For a string it returns what expr's
// date does, trying its layouts in the order the string's shape suggests.
// It also takes a time, returned as is, and a unix number, as parse_time.
func fnDate(args ...any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		t, err := toTime(args[0])
		if err != nil {
			return nil, fmt.Errorf("date: %w", err)
		}
		return t, nil
	}
	switch {
	case len(s) > 10 && s[10] == 'T':
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
	case len(s) > 10 && s[10] == ' ':
		if t, err := time.Parse(time.DateTime, s); err == nil {
			return t, nil
		}
	case len(s) == 10:
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return nil, fmt.Errorf("date: cannot parse %q as a date", s)
}

// dateLayouts are the layouts expr's date tries for a string.
var dateLayouts = []string{time.DateOnly, time.TimeOnly, time.DateTime, time.RFC3339, time.RFC822, time.RFC850, time.RFC1123}

func fnFormat(args ...any) (any, error) {
	t, ok := args[0].(time.Time)
	if !ok {
		return nil, fmt.Errorf("time.Format: value is %s, want a time", describe(args[0]))
	}
	layout, ok := args[1].(string)
	if !ok {
		return nil, fmt.Errorf("time.Format: layout is %s, want a string", describe(args[1]))
	}
	return t.Format(layout), nil
}

// millisAbove is the magnitude above which a unix number is taken as
// milliseconds rather than seconds. 1e12 seconds is the year 33658; 1e12
// milliseconds is September 2001.
const millisAbove = 1e12

// toTime converts a time, a time string or a unix number to a time.
func toTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		return parseTimeString(x)
	case int64:
		return unixInt(x), nil
	case int:
		return unixInt(int64(x)), nil
	case float64:
		return unixFloat(x)
	case nil:
		return time.Time{}, errNil
	}
	if n, ok := Int64(v); ok {
		return unixInt(n), nil
	}
	return time.Time{}, fmt.Errorf("value is %s, want a time, a time string or a unix number", describe(v))
}

func unixInt(n int64) time.Time {
	if n > millisAbove || n < -millisAbove {
		return time.UnixMilli(n).UTC()
	}
	return time.Unix(n, 0).UTC()
}

func unixFloat(f float64) (time.Time, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, fmt.Errorf("%v is not a unix time", f)
	}
	if math.Abs(f) > millisAbove {
		f /= 1000
	}
	// Beyond ±2^62 seconds the conversion to int64 is undefined; no real
	// timestamp is anywhere near.
	if math.Abs(f) >= 1<<62 {
		return time.Time{}, fmt.Errorf("%v is out of range for a unix time", f)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
}

// parseTimeString parses an RFC 3339 time (with or without fractional
// seconds), "2006-01-02T15:04:05", "2006-01-02 15:04:05" or "2006-01-02" (the
// last three read as UTC), or a string of unix seconds or milliseconds. It
// picks the layout from the string's shape, so parsing costs one attempt and,
// when it succeeds, no allocation.
func parseTimeString(s string) (time.Time, error) {
	var t time.Time
	var err error
	switch {
	case len(s) > 10 && s[10] == 'T':
		// time.Parse with RFC3339 also accepts fractional seconds, so it
		// covers RFC3339Nano too.
		if t, err = time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
		if t, err = time.Parse("2006-01-02T15:04:05", s); err == nil {
			return t, nil
		}
	case len(s) > 10 && s[10] == ' ':
		if t, err = time.Parse(time.DateTime, s); err == nil {
			return t, nil
		}
	case len(s) == 10 && s[4] == '-':
		if t, err = time.Parse(time.DateOnly, s); err == nil {
			return t, nil
		}
	case looksNumeric(s):
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return unixInt(n), nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return unixFloat(f)
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as a time (want RFC 3339, \"2006-01-02 15:04:05\", \"2006-01-02\" or unix seconds or milliseconds)", s)
}

// looksNumeric reports whether s is made of digits, with an optional sign and
// decimal point.
func looksNumeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && c != '.' && !(i == 0 && (c == '-' || c == '+')) {
			return false
		}
	}
	return true
}

// hashInput returns the bytes a hash function hashes for v.
func hashInput(name string, v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	if b, ok := v.([]byte); ok {
		return string(b), nil
	}
	b, err := appendScalar(nil, v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return string(b), nil
}

func fnSHA256(args ...any) (any, error) {
	s, err := hashInput("sha256", args[0])
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:]), nil
}

func fnMD5(args ...any) (any, error) {
	s, err := hashInput("md5", args[0])
	if err != nil {
		return nil, err
	}
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:]), nil
}

// fnv64a returns the 64-bit FNV-1a hash of s with the sign bit cleared.
func fnv64a(s string) int64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime64
	}
	return int64(h & math.MaxInt64)
}

func fnFNV64(args ...any) (any, error) {
	s, err := hashInput("fnv64", args[0])
	if err != nil {
		return nil, err
	}
	return fnv64a(s), nil
}

func fnHashMod(args ...any) (any, error) {
	s, err := hashInput("hash_mod", args[0])
	if err != nil {
		return nil, err
	}
	n, ok := Int64(args[1])
	if !ok {
		return nil, fmt.Errorf("hash_mod: n is %s, want an integer", describe(args[1]))
	}
	if n <= 0 {
		return nil, fmt.Errorf("hash_mod: n is %d, want a positive integer", n)
	}
	return fnv64a(s) % n, nil
}

func fnSubstr(args ...any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("substr: value is %s, want a string", describe(args[0]))
	}
	start, ok := Int64(args[1])
	if !ok {
		return nil, fmt.Errorf("substr: start is %s, want an integer", describe(args[1]))
	}
	end := int64(math.MaxInt64)
	if len(args) == 3 {
		if end, ok = Int64(args[2]); !ok {
			return nil, fmt.Errorf("substr: end is %s, want an integer", describe(args[2]))
		}
	}
	return substr(s, start, end), nil
}

// substr returns the runes of s in [start, end), clamped to the string.
func substr(s string, start, end int64) string {
	start = max(start, 0)
	if start >= end || start >= int64(len(s)) {
		return ""
	}
	// Walk runes to find the byte offsets; ASCII strings walk one byte a rune.
	from, to := len(s), len(s)
	var i int64
	for off := range s {
		if i == start {
			from = off
		}
		if i == end {
			to = off
			break
		}
		i++
	}
	if from >= to {
		return ""
	}
	return s[from:to]
}

// regexCache holds compiled patterns. It stops growing at maxCachedRegexps,
// so patterns taken from records cannot make it grow without bound; patterns
// past that are compiled at each call.
var (
	regexCache       sync.Map // pattern string → *regexp.Regexp
	regexCacheSize   atomic.Int64
	maxCachedRegexps int64 = 1024
)

// compileRegex returns the compiled pattern, from the cache when it is there.
func compileRegex(pattern string) (*regexp.Regexp, error) {
	if re, ok := regexCache.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	if regexCacheSize.Load() < maxCachedRegexps {
		if _, loaded := regexCache.LoadOrStore(pattern, re); !loaded {
			regexCacheSize.Add(1)
		}
	}
	return re, nil
}

// regexArgs checks the string and pattern arguments of a regex function.
func regexArgs(name string, args []any) (string, *regexp.Regexp, error) {
	s, ok := args[0].(string)
	if !ok {
		return "", nil, fmt.Errorf("%s: value is %s, want a string", name, describe(args[0]))
	}
	pattern, ok := args[1].(string)
	if !ok {
		return "", nil, fmt.Errorf("%s: pattern is %s, want a string", name, describe(args[1]))
	}
	re, err := compileRegex(pattern)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, re, nil
}

func fnRegexMatch(args ...any) (any, error) {
	s, re, err := regexArgs("regex_match", args)
	if err != nil {
		return nil, err
	}
	return re.MatchString(s), nil
}

func fnRegexReplace(args ...any) (any, error) {
	s, re, err := regexArgs("regex_replace", args)
	if err != nil {
		return nil, err
	}
	repl, ok := args[2].(string)
	if !ok {
		return nil, fmt.Errorf("regex_replace: replacement is %s, want a string", describe(args[2]))
	}
	return re.ReplaceAllString(s, repl), nil
}

func fnToInt(args ...any) (any, error) {
	v := args[0]
	if n, ok := Int64(v); ok {
		return n, nil
	}
	switch x := v.(type) {
	case float64:
		return floatToInt(x)
	case float32:
		return floatToInt(float64(x))
	case string:
		s := strings.TrimSpace(x)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return floatToInt(f)
		}
		return nil, fmt.Errorf("to_int: cannot convert %q to an integer", x)
	case nil:
		return nil, fmt.Errorf("to_int: %w", errNil)
	}
	return nil, fmt.Errorf("to_int: cannot convert %s to an integer", describe(v))
}

// floatToInt truncates f toward zero.
func floatToInt(f float64) (any, error) {
	if math.IsNaN(f) || f >= math.MaxInt64 || f < math.MinInt64 {
		return nil, fmt.Errorf("to_int: %v is out of range for an integer", f)
	}
	return int64(f), nil
}

func fnToFloat(args ...any) (any, error) {
	v := args[0]
	if n, ok := Int64(v); ok {
		return float64(n), nil
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case uint:
		return float64(x), nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return nil, fmt.Errorf("to_float: cannot convert %q to a float", x)
		}
		return f, nil
	case nil:
		return nil, fmt.Errorf("to_float: %w", errNil)
	}
	return nil, fmt.Errorf("to_float: cannot convert %s to a float", describe(v))
}

func fnToString(args ...any) (any, error) {
	if s, ok := args[0].(string); ok {
		return s, nil
	}
	b, err := appendScalar(nil, args[0])
	if err != nil {
		return nil, fmt.Errorf("to_string: %w", err)
	}
	return string(b), nil
}

// Int64 returns v as an int64 if it is a value of a Go integer type that
// fits. Components use it to accept the integer types expressions produce.
func Int64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// appendScalar appends the text form of a string, number, bool or time to
// dst: integers in decimal, floats in the shortest form without exponent,
// times in RFC 3339 with nanoseconds. It returns errNil for nil and an error
// for any other type.
func appendScalar(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return append(dst, x...), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case float64:
		return strconv.AppendFloat(dst, x, 'f', -1, 64), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case time.Time:
		return x.AppendFormat(dst, time.RFC3339Nano), nil
	case nil:
		return dst, errNil
	case float32:
		return strconv.AppendFloat(dst, float64(x), 'f', -1, 32), nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case []byte:
		if utf8.Valid(x) {
			return append(dst, x...), nil
		}
	case time.Duration:
		return append(dst, x.String()...), nil
	case fmt.Stringer:
		return append(dst, x.String()...), nil
	}
	if n, ok := Int64(v); ok {
		return strconv.AppendInt(dst, n, 10), nil
	}
	return dst, fmt.Errorf("value is %s, want a string, number, bool or time", describe(v))
}

// describe names the type of v for error messages in the terms of the
// record model: object, array, string and so on.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case string:
		return "a string"
	case bool:
		return "a bool"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "an integer"
	case float32, float64:
		return "a float"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case time.Time:
		return "a time"
	}
	return fmt.Sprintf("a %T", v)
}
