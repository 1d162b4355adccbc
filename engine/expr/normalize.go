package expr

import (
	"reflect"
)

// normalize converts a result to the types of the record model: integers
// become int64 (expr-lang's arithmetic yields int), float32 becomes float64,
// slices become []any and maps with string keys become map[string]any, all
// the way down. Strings, bools, float64, int64, nil, times and other types
// are returned as they are. A slice or map that needs no change, such as a
// field of the record, is returned without copying.
func normalize(v any) any {
	n, _ := normalized(v)
	return n
}

// normalized returns the normalized form of v and whether it differs from v.
func normalized(v any) (any, bool) {
	switch x := v.(type) {
	case nil, string, bool, int64, float64:
		return v, false
	case int, int8, int16, int32, uint, uint8, uint16, uint32, uint64:
		if n, ok := Int64(x); ok {
			return n, true
		}
		return v, false
	case float32:
		return float64(x), true
	case []any:
		return normalizeSlice(x)
	case map[string]any:
		return normalizeMap(x)
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return v, false // bytes stay bytes
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = normalize(rv.Index(i).Interface())
		}
		return out, true
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return v, false
		}
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			out[it.Key().String()] = normalize(it.Value().Interface())
		}
		return out, true
	}
	return v, false
}

// normalizeSlice normalizes the elements of s, copying s only if one of them
// changes.
func normalizeSlice(s []any) (any, bool) {
	var out []any
	for i, e := range s {
		n, changed := normalized(e)
		if changed && out == nil {
			out = make([]any, len(s))
			copy(out, s[:i])
		}
		if out != nil {
			out[i] = n
		}
	}
	if out == nil {
		return s, false
	}
	return out, true
}

// normalizeMap normalizes the values of m, copying m only if one of them
// changes.
func normalizeMap(m map[string]any) (any, bool) {
	var out map[string]any
	for k, e := range m {
		n, changed := normalized(e)
		if changed && out == nil {
			out = make(map[string]any, len(m))
			for k2, e2 := range m {
				out[k2] = e2
			}
		}
		if out != nil {
			out[k] = n
		}
	}
	if out == nil {
		return m, false
	}
	return out, true
}
