// Package field holds the typed form of a record's fields that the engine's
// hot path works on: Value, a field value that holds a string, number, bool
// or null without a heap allocation, and Layout, an ordered set of field
// names that gives each a slot index. A record's picked fields are a
// []Value in some Layout; expressions compiled against a Layout read their
// fields by index instead of looking them up in a map.
//
// It is not a general value model: nested objects, arrays and other Go
// values are carried as an opaque any (KindAny), in the types the codec and
// the expression functions use (map[string]any, []any, time.Time).
//
// Example:
//
//	l := field.NewLayout("event", "latency_ms")
//	vals := make([]field.Value, l.Len())
//	i, _ := l.Index("event")
//	vals[i] = field.String("match_end")
//	fmt.Println(vals[i].Any()) // match_end
//
// Layouts with the same names are the same *Layout: NewLayout interns them,
// so pointer equality is set equality, and code that binds work to a
// layout (compiled field indices) can cache it by pointer.
package field
