package spec

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Unmarshaler is implemented by config types that decode themselves from a
// YAML node. Report problems with d.Errorf; decode nested values with
// d.Decode.
type Unmarshaler interface {
	UnmarshalSpec(d *Decoder, n *yaml.Node, path string)
}

// Decoder decodes YAML nodes into config values strictly and collects every
// problem it finds. It is not safe for concurrent use.
type Decoder struct {
	file   string
	lookup LookupFunc
	errs   ErrorList
}

// NewDecoder returns a Decoder for the named file that interpolates ${VAR}
// with lookup. A nil lookup treats every variable as unset.
func NewDecoder(file string, lookup LookupFunc) *Decoder {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	return &Decoder{file: file, lookup: lookup}
}

// File returns the file name the decoder reports.
func (d *Decoder) File() string { return d.file }

// Errorf records a problem at node n (which may be nil) and key path.
func (d *Decoder) Errorf(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Pos: PosOf(n), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Add records an error at node n and path. A *FieldError's path is resolved
// below n to point at the key it names; an ErrorList is added as is.
func (d *Decoder) Add(n *yaml.Node, path string, err error) {
	if err == nil {
		return
	}
	if l, ok := err.(ErrorList); ok {
		d.errs = append(d.errs, l...)
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			d.Add(n, path, e)
		}
		return
	}
	if fe, ok := err.(*FieldError); ok {
		target := Find(n, fe.Path)
		if target == nil {
			target = n
		}
		d.Add(target, joinPath(path, fe.Path), fe.Err)
		return
	}
	msg := err.Error()
	if pm, ok := err.(interface {
		positioner
		Message() string
	}); ok {
		// The file position replaces the position inside the text.
		msg = pm.Message()
	}
	d.errs = append(d.errs, &Error{File: d.file, Pos: innerPos(n, err), Path: path, Msg: msg})
}

// positioner is implemented by errors that know where inside a scalar's text
// they happened, such as expression compile errors (1-based line and column
// inside the text).
type positioner interface{ Position() (line, column int) }

// innerPos returns the file position of err inside scalar n when err knows
// its position within the text, else the position of n.
func innerPos(n *yaml.Node, err error) Pos {
	p := PosOf(n)
	var ip positioner
	if n == nil || n.Kind != yaml.ScalarNode || !errors.As(err, &ip) {
		return p
	}
	line, col := ip.Position()
	if line < 1 || col < 1 {
		return p
	}
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		// Block scalars start on the next line, indented.
		return Pos{Line: p.Line + line, Column: p.Column + col}
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		if line == 1 {
			return Pos{Line: p.Line, Column: p.Column + col}
		}
	default:
		if line == 1 {
			return Pos{Line: p.Line, Column: p.Column + col - 1}
		}
	}
	return Pos{Line: p.Line + line - 1, Column: col}
}

// Errors returns the problems found so far, in file order.
func (d *Decoder) Errors() ErrorList {
	d.errs.Sort()
	return d.errs
}

// Err returns the problems found so far as an error, nil if there are none.
func (d *Decoder) Err() error { return d.Errors().Err() }

// PosOf returns the position of n, or the zero Pos for nil.
func PosOf(n *yaml.Node) Pos {
	if n == nil {
		return Pos{}
	}
	return Pos{Line: n.Line, Column: n.Column}
}

// Find returns the node at the relative key path below n ("a.b[2].c"), or
// nil if there is none.
func Find(n *yaml.Node, path string) *yaml.Node {
	for path != "" && n != nil {
		n = resolve(n)
		if path[0] == '[' {
			end := strings.IndexByte(path, ']')
			if end < 0 || n.Kind != yaml.SequenceNode {
				return nil
			}
			i, err := strconv.Atoi(path[1:end])
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n, path = n.Content[i], strings.TrimPrefix(path[end+1:], ".")
			continue
		}
		key := path
		if i := strings.IndexAny(path, ".["); i >= 0 {
			key, path = path[:i], path[i:]
			path = strings.TrimPrefix(path, ".")
		} else {
			path = ""
		}
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.AliasNode || n.Kind == yaml.DocumentNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	return n
}

// Scalar returns the interpolated text of scalar node n. It records a
// problem and returns false when n is not a scalar or interpolation fails.
func (d *Decoder) Scalar(n *yaml.Node, path string) (string, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		d.Errorf(n, path, "expected a single value, got %s", describe(n))
		return "", false
	}
	s, _, err := Interpolate(n.Value, d.lookup)
	if err != nil {
		d.Errorf(n, path, "%v", err)
		return "", false
	}
	return s, true
}

// Decode decodes n into the value out points to. Fields of out that n does
// not mention keep their values, so out should hold the defaults. path is the
// key path of n, used in messages.
func (d *Decoder) Decode(n *yaml.Node, path string, out any) {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		panic(fmt.Sprintf("spec: Decode needs a non-nil pointer, got %T", out))
	}
	d.decode(n, path, v.Elem())
}

var (
	durationType    = reflect.TypeFor[time.Duration]()
	byteSizeType    = reflect.TypeFor[ByteSize]()
	unmarshalerType = reflect.TypeFor[Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func (d *Decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	n = resolve(n)
	if n == nil {
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		v.Addr().Interface().(Unmarshaler).UnmarshalSpec(d, n, path)
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" && v.Kind() != reflect.Interface {
		// key: with no value leaves the default in place.
		return
	}
	if v.CanAddr() && v.Type() != byteSizeType && v.Addr().Type().Implements(textUnmarshaler) {
		s, ok := d.Scalar(n, path)
		if !ok {
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			d.Errorf(n, path, "%v", err)
		}
		return
	}
	switch v.Type() {
	case durationType:
		s, ok := d.Scalar(n, path)
		if !ok {
			return
		}
		dur, err := time.ParseDuration(s)
		if err != nil || dur < 0 {
			if s == "0" {
				v.SetInt(0)
				return
			}
			d.Errorf(n, path, "expected a duration such as 500ms, 30s or 1m30s, got %s", d.show(n))
			return
		}
		v.SetInt(int64(dur))
		return
	case byteSizeType:
		s, ok := d.Scalar(n, path)
		if !ok {
			return
		}
		b, err := ParseByteSize(s)
		if err != nil {
			d.Errorf(n, path, "expected a size such as 1048576, 512KB or 5MiB, got %s", d.show(n))
			return
		}
		v.SetInt(int64(b))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, path, v.Elem())
	case reflect.Struct:
		d.decodeStruct(n, path, v)
	case reflect.Map:
		d.decodeMap(n, path, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.Errorf(n, path, "expected a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, fmt.Sprintf("%s[%d]", path, i), s.Index(i))
		}
		v.Set(s)
	case reflect.Interface:
		if v.NumMethod() != 0 {
			d.Errorf(n, path, "cannot decode into %s", v.Type())
			return
		}
		if g := d.generic(n, path); g != nil {
			v.Set(reflect.ValueOf(g))
		} else {
			v.Set(reflect.Zero(v.Type()))
		}
	case reflect.String:
		if s, ok := d.Scalar(n, path); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		s, ok := d.Scalar(n, path)
		if !ok {
			return
		}
		switch s {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.Errorf(n, path, "expected true or false, got %s", d.show(n))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s, ok := d.Scalar(n, path)
		if !ok {
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, v.Type().Bits())
		if err != nil {
			d.Errorf(n, path, "expected an integer, got %s", d.show(n))
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s, ok := d.Scalar(n, path)
		if !ok {
			return
		}
		i, err := strconv.ParseUint(strings.ReplaceAll(s, "_", ""), 0, v.Type().Bits())
		if err != nil {
			d.Errorf(n, path, "expected a non-negative integer, got %s", d.show(n))
			return
		}
		v.SetUint(i)
	case reflect.Float32, reflect.Float64:
		s, ok := d.Scalar(n, path)
		if !ok {
			return
		}
		f, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil || math.IsNaN(f) {
			d.Errorf(n, path, "expected a number, got %s", d.show(n))
			return
		}
		v.SetFloat(f)
	default:
		d.Errorf(n, path, "cannot decode into %s", v.Type())
	}
}

// show quotes the raw text of a scalar as written in the file, before
// interpolation, so that values taken from the environment (secrets) are
// never printed.
func (d *Decoder) show(n *yaml.Node) string {
	return strconv.Quote(n.Value)
}

func describe(n *yaml.Node) string {
	n = resolve(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "the value " + strconv.Quote(n.Value)
	}
	return "an unexpected node"
}

// fieldInfo describes a struct field decoded from a key.
type fieldInfo struct {
	key      string
	index    []int
	required bool
}

// structFields lists the keys of struct type t, following inline fields.
func structFields(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
			for _, sub := range structFields(f.Type) {
				sub.index = append([]int{i}, sub.index...)
				out = append(out, sub)
			}
			continue
		}
		if name == "" {
			continue
		}
		out = append(out, fieldInfo{key: name, index: []int{i}, required: hasOpt(f.Tag.Get("spec"), "required")})
	}
	return out
}

func hasOpt(tag, opt string) bool {
	for _, o := range strings.Split(tag, ",") {
		if strings.TrimSpace(o) == opt {
			return true
		}
	}
	return false
}

func (d *Decoder) decodeStruct(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, path, "expected a mapping with keys %s, got %s", keyList(structFields(v.Type())), describe(n))
		return
	}
	fields := structFields(v.Type())
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.Errorf(k, path, "expected a key, got %s", describe(k))
			continue
		}
		kp := joinPath(path, k.Value)
		if prev, dup := seen[k.Value]; dup {
			d.Errorf(k, kp, "key is repeated (first at line %d)", prev.Line)
			continue
		}
		seen[k.Value] = k
		fi := findField(fields, k.Value)
		if fi == nil {
			d.Errorf(k, kp, "unknown key%s; expected one of %s", suggest(k.Value, fields), keyList(fields))
			continue
		}
		d.decode(val, kp, v.FieldByIndex(fi.index))
	}
	for _, f := range fields {
		if f.required && seen[f.key] == nil {
			d.Errorf(n, joinPath(path, f.key), "required key is missing")
		}
	}
}

func findField(fields []fieldInfo, key string) *fieldInfo {
	for i := range fields {
		if fields[i].key == key {
			return &fields[i]
		}
	}
	return nil
}

func keyList(fields []fieldInfo) string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	return strings.Join(keys, ", ")
}

// suggest returns ` (did you mean "x"?)` for the closest known key.
func suggest(key string, fields []fieldInfo) string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	return Suggest(key, keys)
}

// Suggest returns ` (did you mean "x"?)` when one of candidates is close to
// s, else "".
func Suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if dd := EditDistance(s, c); dd < bestD || (dd == bestD && best == "") {
			if dd <= max(1, len(c)/3) {
				best, bestD = c, dd
			}
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// EditDistance returns the Levenshtein distance between a and b, in bytes;
// the measure behind the "did you mean" hints.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (d *Decoder) decodeMap(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.Errorf(n, path, "cannot decode into %s", v.Type())
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.Errorf(k, path, "expected a key, got %s", describe(k))
			continue
		}
		kp := joinPath(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.Errorf(k, kp, "key is repeated (first at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		ev := reflect.New(v.Type().Elem()).Elem()
		if old := v.MapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key())); old.IsValid() {
			ev.Set(old)
		}
		d.decode(val, kp, ev)
		v.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), ev)
	}
}

// generic decodes n into plain Go values: map[string]any, []any, int64,
// float64, bool, string and nil.
func (d *Decoder) generic(n *yaml.Node, path string) any {
	n = resolve(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			kp := joinPath(path, k.Value)
			if _, dup := m[k.Value]; dup {
				d.Errorf(k, kp, "key is repeated")
				continue
			}
			m[k.Value] = d.generic(n.Content[i+1], kp)
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			s[i] = d.generic(c, fmt.Sprintf("%s[%d]", path, i))
		}
		return s
	case yaml.ScalarNode:
		s, used, err := Interpolate(n.Value, d.lookup)
		if err != nil {
			d.Errorf(n, path, "%v", err)
			return nil
		}
		tag := n.Tag
		if used && n.Style == 0 {
			// An interpolated plain scalar takes the type of its value.
			var r yaml.Node
			if yaml.Unmarshal([]byte(s), &r) == nil && len(r.Content) == 1 && r.Content[0].Kind == yaml.ScalarNode {
				tag = r.Content[0].Tag
			} else {
				tag = "!!str"
			}
		}
		switch tag {
		case "!!null":
			return nil
		case "!!bool":
			b, _ := strconv.ParseBool(s)
			return b
		case "!!int":
			if i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64); err == nil {
				return i
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return f
			}
			return s
		case "!!float":
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return f
			}
			return s
		default:
			return s
		}
	}
	return nil
}

// Generic decodes n into plain Go values (map[string]any, []any, int64,
// float64, bool, string, nil), interpolating strings.
func (d *Decoder) Generic(n *yaml.Node, path string) any { return d.generic(n, path) }

// UnmarshalSpec decodes a mapping, keeping the order of its keys.
func (p *Pairs[V]) UnmarshalSpec(d *Decoder, n *yaml.Node, path string) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	seen := map[string]int{}
	out := make(Pairs[V], 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		kp := joinPath(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.Errorf(k, kp, "key is repeated (first at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		var val V
		d.decode(n.Content[i+1], kp, reflect.ValueOf(&val).Elem())
		out = append(out, Pair[V]{Key: k.Value, Value: val, Pos: PosOf(k)})
	}
	*p = out
}
