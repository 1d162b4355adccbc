package objectstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/engine/spec"
)

// Schema is a declared Parquet schema: its columns in the order they were
// written. In a pipeline file it is a mapping of column names to types:
//
//	schema: {event_id: string, ts: timestamp, player_id: int64, latency_ms: float64,
//	         device: {os: string, ver: string}, tags: [string]}
type Schema []Column

// Column is one column of a Schema, or one field of a struct type.
type Column struct {
	Name string
	Type Type
}

// Type is the type of a column: a scalar named by Name, a struct of Fields,
// or a list of Elem. Exactly one of the three is set.
type Type struct {
	// Name is one of ScalarTypes.
	Name string
	// Fields are the fields of a struct, in order.
	Fields Schema
	// Elem is the element type of a list.
	Elem *Type
}

// ScalarTypes lists the scalar type names a Schema accepts.
var ScalarTypes = []string{"string", "int64", "int32", "float64", "float32", "bool", "timestamp", "date", "binary"}

// ParseSchema parses a schema written as in a pipeline file, such as
// `{event_id: string, device: {os: string}, tags: [string]}`.
func ParseSchema(src string) (Schema, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	d := spec.NewDecoder("", nil)
	var s Schema
	d.Decode(&n, "", &s)
	if err := d.Err(); err != nil {
		return nil, err
	}
	return s, s.Validate()
}

// UnmarshalSpec decodes a schema mapping, keeping the order of its keys,
// and reports unknown type names where they are written.
func (s *Schema) UnmarshalSpec(d *spec.Decoder, n *yaml.Node, path string) {
	for n != nil && (n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			n = nil
		}
	}
	if n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		*s = nil
		return
	}
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, path, "expected a mapping of column names to types, such as {event_id: string, ts: timestamp}")
		return
	}
	out := make(Schema, 0, len(n.Content)/2)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		kp := joinKey(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.Errorf(k, kp, "column is repeated (first at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		var t Type
		t.unmarshal(d, n.Content[i+1], kp)
		out = append(out, Column{Name: k.Value, Type: t})
	}
	*s = out
}

func (t *Type) unmarshal(d *spec.Decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		var fields Schema
		fields.UnmarshalSpec(d, n, path)
		if len(fields) == 0 {
			d.Errorf(n, path, "a struct needs at least one field")
		}
		t.Fields = fields
	case yaml.SequenceNode:
		if len(n.Content) != 1 {
			d.Errorf(n, path, "a list type is written [type], with one element type, got %d", len(n.Content))
			return
		}
		t.Elem = new(Type)
		t.Elem.unmarshal(d, n.Content[0], path+"[]")
	default:
		name, ok := d.Scalar(n, path)
		if !ok {
			return
		}
		if !slices.Contains(ScalarTypes, name) {
			d.Errorf(n, path, "unknown type %q (expected %s, {field: type} or [type])", name, strings.Join(ScalarTypes, ", "))
			return
		}
		t.Name = name
	}
}

// JSONSchema describes a schema mapping for editors.
func (Schema) JSONSchema() map[string]any {
	scalar := map[string]any{"type": "string", "enum": toAny(ScalarTypes)}
	colType := map[string]any{"anyOf": []any{
		scalar,
		map[string]any{"type": "object", "description": "A struct: field: type, ..."},
		map[string]any{"type": "array", "minItems": 1, "maxItems": 1, "description": "A list: [type]"},
	}}
	return map[string]any{"type": "object", "additionalProperties": colType}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// Validate checks a schema built in Go: names set and unique, types known,
// structs not empty.
func (s Schema) Validate() error {
	var errs []error
	s.validate("", &errs)
	return errors.Join(errs...)
}

func (s Schema) validate(path string, errs *[]error) {
	seen := map[string]bool{}
	for _, c := range s {
		p := joinKey(path, c.Name)
		if c.Name == "" {
			*errs = append(*errs, spec.Errorf(p, "empty column name"))
		}
		if seen[c.Name] {
			*errs = append(*errs, spec.Errorf(p, "column is repeated"))
		}
		seen[c.Name] = true
		c.Type.validate(p, errs)
	}
}

func (t Type) validate(path string, errs *[]error) {
	set := 0
	if t.Name != "" {
		set++
		if !slices.Contains(ScalarTypes, t.Name) {
			*errs = append(*errs, spec.Errorf(path, "unknown type %q (expected %s, {field: type} or [type])", t.Name, strings.Join(ScalarTypes, ", ")))
		}
	}
	if t.Fields != nil {
		set++
		if len(t.Fields) == 0 {
			*errs = append(*errs, spec.Errorf(path, "a struct needs at least one field"))
		}
		t.Fields.validate(path, errs)
	}
	if t.Elem != nil {
		set++
		t.Elem.validate(path+"[]", errs)
	}
	switch {
	case set == 0:
		*errs = append(*errs, spec.Errorf(path, "missing type"))
	case set > 1:
		*errs = append(*errs, spec.Errorf(path, "a type is a name, a struct or a list, not several"))
	}
}

// String writes s back in the form ParseSchema reads.
func (s Schema) String() string {
	var b strings.Builder
	s.write(&b)
	return b.String()
}

func (s Schema) write(b *strings.Builder) {
	b.WriteByte('{')
	for i, c := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Name)
		b.WriteString(": ")
		c.Type.write(b)
	}
	b.WriteByte('}')
}

func (t Type) write(b *strings.Builder) {
	switch {
	case t.Fields != nil:
		t.Fields.write(b)
	case t.Elem != nil:
		b.WriteByte('[')
		t.Elem.write(b)
		b.WriteByte(']')
	default:
		b.WriteString(t.Name)
	}
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// kind is the kind of a column type.
type kind uint8

const (
	kindNull kind = iota // no value seen yet (inference), or only nulls
	kindString
	kindInt64
	kindInt32
	kindFloat64
	kindFloat32
	kindBool
	kindTimestamp
	kindDate
	kindBinary
	kindStruct
	kindList
)

var kindNames = [...]string{"null", "string", "int64", "int32", "float64", "float32", "bool", "timestamp", "date", "binary", "struct", "list"}

func (k kind) String() string { return kindNames[k] }

// colType is a column type as the sink works with it: declared or
// inferred. Struct fields are in column order: as declared, or sorted by
// name when inferred.
type colType struct {
	kind   kind
	fields []colField // kindStruct
	elem   *colType   // kindList

	// How the fields of a struct are looked up while walking parsed
	// records (see find); not part of the type.
	index map[string]int32 // field by name, when fields are not sorted by name (declared)
	next  []int32          // next[f+1]: the field that followed field f in the last object walked; next[0] the first
}

type colField struct {
	name string
	typ  *colType
}

// fromSchema converts a declared schema to the root struct type.
func fromSchema(s Schema) *colType {
	root := &colType{kind: kindStruct}
	for _, c := range s {
		root.fields = append(root.fields, colField{name: c.Name, typ: fromType(c.Type)})
	}
	return root
}

func fromType(t Type) *colType {
	switch {
	case t.Fields != nil:
		return fromSchema(t.Fields)
	case t.Elem != nil:
		return &colType{kind: kindList, elem: fromType(*t.Elem)}
	}
	for k, name := range kindNames {
		if name == t.Name {
			return &colType{kind: kind(k)}
		}
	}
	return &colType{kind: kindNull}
}

// maxDepth is the deepest nesting of objects and arrays a record may have:
// deeper values fail the record instead of making an unreadable schema.
const maxDepth = 64

// inferrer builds the schema of an object from the records it holds: each
// field takes the type of its first non-null value; an integer field that
// later holds a fraction widens to float64. A value of another type does
// not change the schema; the record holding it fails the check.
type inferrer struct {
	root colType
}

func newInferrer() *inferrer { return &inferrer{root: colType{kind: kindStruct}} }

// observe widens the schema with the fields of one record.
func (in *inferrer) observe(row map[string]any) {
	observeMap(&in.root, row, 1)
}

// schema returns the inferred root type. Structs that never had a field
// become null columns, which Parquet can store.
func (in *inferrer) schema() *colType {
	for i := range in.root.fields {
		settle(in.root.fields[i].typ)
	}
	return &in.root
}

func settle(t *colType) {
	switch t.kind {
	case kindStruct:
		if len(t.fields) == 0 {
			t.kind = kindNull
			return
		}
		for i := range t.fields {
			settle(t.fields[i].typ)
		}
	case kindList:
		settle(t.elem)
	}
}

func observeMap(t *colType, m map[string]any, depth int) {
	if depth > maxDepth {
		return
	}
	for k, v := range m {
		i, found := slices.BinarySearchFunc(t.fields, k, func(f colField, k string) int { return strings.Compare(f.name, k) })
		if !found {
			t.fields = slices.Insert(t.fields, i, colField{name: k, typ: &colType{}})
		}
		observe(t.fields[i].typ, v, depth)
	}
}

// observe widens t, in place, to take v.
func observe(t *colType, v any, depth int) {
	if v == nil || depth > maxDepth {
		return
	}
	k := kindOfValue(v)
	if k == kindNull {
		return // a type no column can take; the check rejects it
	}
	if !t.widen(k) {
		return
	}
	switch k {
	case kindStruct:
		observeMap(t, v.(map[string]any), depth+1)
	case kindList:
		if t.elem == nil {
			t.elem = &colType{}
		}
		for _, e := range v.([]any) {
			observe(t.elem, e, depth+1)
		}
	}
}

// widen makes t, in place, take values of kind k where it can: an
// untyped column takes k, and an integer one becomes a float one for a
// float. It reports whether t is of kind k now; if not, the values that
// do not fit are left to the check.
func (t *colType) widen(k kind) bool {
	switch {
	case t.kind == kindNull:
		t.kind = k
	case t.kind == kindInt64 && k == kindFloat64:
		t.kind = kindFloat64
	}
	return t.kind == k
}

// kindOfValue returns the column kind a value infers: kindNull for nil and
// for values no column takes.
func kindOfValue(v any) kind {
	switch v.(type) {
	case string:
		return kindString
	case int64, int, int32, int16, int8, uint32, uint16, uint8:
		return kindInt64
	case uint64, uint:
		return kindInt64 // the check rejects values above MaxInt64
	case float64, float32:
		return kindFloat64
	case bool:
		return kindBool
	case map[string]any:
		return kindStruct
	case []any:
		return kindList
	}
	if isTime(v) {
		return kindTimestamp
	}
	if _, ok := v.([]byte); ok {
		return kindBinary
	}
	return kindNull
}
