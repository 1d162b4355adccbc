package spec

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// SchemaProvider is implemented by config types that describe their own
// JSON Schema.
type SchemaProvider interface {
	JSONSchema() map[string]any
}

var schemaProviderType = reflect.TypeFor[SchemaProvider]()

// Schema returns the JSON Schema (draft 2020-12 vocabulary, as a
// map ready to encode) of the config value def. Keys come from yaml tags,
// descriptions from doc tags, allowed values from enum tags
// (`enum:"earliest,latest"`), required keys from `spec:"required"`, and
// defaults from the non-zero fields of def.
func Schema(def any) map[string]any {
	v := reflect.ValueOf(def)
	if !v.IsValid() {
		return map[string]any{}
	}
	return schemaOf(v.Type(), v)
}

func schemaOf(t reflect.Type, def reflect.Value) map[string]any {
	if t.Implements(schemaProviderType) {
		return reflect.Zero(t).Interface().(SchemaProvider).JSONSchema()
	}
	if reflect.PointerTo(t).Implements(schemaProviderType) {
		return reflect.New(t).Interface().(SchemaProvider).JSONSchema()
	}
	switch t {
	case durationType:
		return map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$`, "description": "A duration such as 500ms, 30s or 1m30s."}
	case byteSizeType:
		return map[string]any{"anyOf": []any{
			map[string]any{"type": "integer", "minimum": 0},
			map[string]any{"type": "string", "pattern": `^[0-9.]+ ?(B|K|M|G|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$`},
		}, "description": "A size in bytes, or with a unit such as 512KB or 5MiB."}
	}
	switch t.Kind() {
	case reflect.Pointer:
		var d reflect.Value
		if def.IsValid() && !def.IsNil() {
			d = def.Elem()
		}
		return schemaOf(t.Elem(), d)
	case reflect.Struct:
		props := map[string]any{}
		var required []any
		for _, f := range docFields(t, def) {
			s := schemaOf(f.typ, f.def)
			if f.doc != "" {
				s["description"] = f.doc
			}
			if len(f.enum) > 0 {
				s["enum"] = toAny(f.enum)
			}
			if f.def.IsValid() && !f.def.IsZero() {
				if dv, ok := jsonDefault(f.def); ok {
					s["default"] = dv
				}
			}
			props[f.key] = s
			if f.required {
				required = append(required, f.key)
			}
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), reflect.Value{})}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), reflect.Value{})}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return orVariable(map[string]any{"type": "boolean"})
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return orVariable(map[string]any{"type": "integer"})
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return orVariable(map[string]any{"type": "integer", "minimum": 0})
	case reflect.Float32, reflect.Float64:
		return orVariable(map[string]any{"type": "number"})
	default:
		return map[string]any{}
	}
}

// orVariable lets a non-string value also be written as a ${VAR}
// reference, which is interpolated before the value is checked.
func orVariable(s map[string]any) map[string]any {
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "string", "pattern": `\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}`}}}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// jsonDefault converts a default value into a JSON-encodable form.
func jsonDefault(v reflect.Value) (any, bool) {
	switch v.Type() {
	case durationType:
		return time.Duration(v.Int()).String(), true
	case byteSizeType:
		return ByteSize(v.Int()).String(), true
	}
	switch v.Kind() {
	case reflect.String:
		if _, ok := v.Interface().(Secret); ok {
			return nil, false
		}
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint(), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range out {
			x, ok := jsonDefault(v.Index(i))
			if !ok {
				return nil, false
			}
			out[i] = x
		}
		return out, true
	}
	return nil, false
}

type docField struct {
	key      string
	typ      reflect.Type
	def      reflect.Value
	doc      string
	enum     []string
	required bool
	hasDoc   bool
}

func docFields(t reflect.Type, def reflect.Value) []docField {
	var out []docField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		var fd reflect.Value
		if def.IsValid() {
			fd = def.Field(i)
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
			out = append(out, docFields(f.Type, fd)...)
			continue
		}
		if name == "" {
			continue
		}
		doc, hasDoc := f.Tag.Lookup("doc")
		df := docField{key: name, typ: f.Type, def: fd, doc: doc, hasDoc: hasDoc,
			required: hasOpt(f.Tag.Get("spec"), "required")}
		if e := f.Tag.Get("enum"); e != "" {
			df.enum = strings.Split(e, ",")
		}
		out = append(out, df)
	}
	return out
}

// Field is one row of a config reference table.
type Field struct {
	Path     string // dotted key path
	Type     string // human type: string, integer, duration, size, list of string, ...
	Default  string // the default, formatted; empty when none
	Doc      string
	Required bool
	Enum     []string
}

// Fields lists the keys of config value def, nested structs flattened into
// dotted paths, for reference docs.
func Fields(def any) []Field {
	v := reflect.ValueOf(def)
	if !v.IsValid() {
		return nil
	}
	var out []Field
	collectFields(&out, "", v.Type(), v)
	return out
}

func collectFields(out *[]Field, prefix string, t reflect.Type, def reflect.Value) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
		if def.IsValid() {
			if def.IsNil() {
				def = reflect.Value{}
			} else {
				def = def.Elem()
			}
		}
	}
	if t.Kind() != reflect.Struct || t == durationType {
		return
	}
	for _, f := range docFields(t, def) {
		p := joinPath(prefix, f.key)
		row := Field{Path: p, Type: typeName(f.typ), Doc: f.doc, Required: f.required, Enum: f.enum}
		if f.def.IsValid() && !f.def.IsZero() {
			if dv, ok := jsonDefault(f.def); ok {
				row.Default = fmt.Sprint(dv)
			}
		}
		*out = append(*out, row)
		ft := f.typ
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && !ft.Implements(schemaProviderType) && !reflect.PointerTo(ft).Implements(schemaProviderType) {
			collectFields(out, p, f.typ, f.def)
		}
	}
}

func typeName(t reflect.Type) string {
	switch t {
	case durationType:
		return "duration"
	case byteSizeType:
		return "size"
	case reflect.TypeFor[Secret]():
		return "secret string"
	}
	if t.Implements(schemaProviderType) || reflect.PointerTo(t).Implements(schemaProviderType) {
		if s, ok := reflect.New(t).Interface().(SchemaProvider); ok {
			if ty, ok := s.JSONSchema()["type"].(string); ok {
				return ty
			}
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return typeName(t.Elem())
	case reflect.Struct:
		return "object"
	case reflect.Map:
		return "map of " + typeName(t.Elem())
	case reflect.Slice, reflect.Array:
		return "list of " + typeName(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return "any"
}

// CheckDocs returns an error naming every yaml key of config type t (and of
// the structs it contains) that has no doc tag.
func CheckDocs(t reflect.Type) error {
	var missing []string
	checkDocs(t, "", map[reflect.Type]bool{}, &missing)
	if len(missing) > 0 {
		return fmt.Errorf("%s: keys without a doc tag: %s", t, strings.Join(missing, ", "))
	}
	return nil
}

func checkDocs(t reflect.Type, prefix string, seen map[reflect.Type]bool, missing *[]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == durationType || seen[t] {
		return
	}
	seen[t] = true
	for _, f := range docFields(t, reflect.Value{}) {
		p := joinPath(prefix, f.key)
		if !f.hasDoc || strings.TrimSpace(f.doc) == "" {
			*missing = append(*missing, p)
		}
		checkDocs(f.typ, p, seen, missing)
	}
}

// JSONSchema describes a Pairs mapping.
func (Pairs[V]) JSONSchema() map[string]any {
	var v V
	return map[string]any{"type": "object", "additionalProperties": schemaOf(reflect.TypeOf(&v).Elem(), reflect.Value{})}
}
