package field

import (
	"math"
	"strconv"
	"unsafe"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds of Value.
const (
	// KindMissing is a field the record does not have. Expressions read it
	// as nil, like null, but an encoder leaves it out.
	KindMissing Kind = iota
	KindNull
	KindBool
	KindInt   // int64
	KindFloat // float64
	KindString
	// KindAny is any other value, held as an any: an object
	// (map[string]any), an array ([]any), a time.Time, []byte.
	KindAny
)

var kindNames = [...]string{"missing", "null", "bool", "int", "float", "string", "any"}

// String returns the kind's name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one field value. The zero Value is a missing field. Values are
// three words, copied by value; a Value holding a string shares the
// string's bytes, which must not change.
type Value struct {
	// p is the string's bytes (KindString) or a pointer to the any that a
	// KindAny value holds; n is the string's length, or the bits of a
	// bool, int or float.
	p unsafe.Pointer
	n uint64
	k Kind
}

// Missing returns the value of a field that is not there.
func Missing() Value { return Value{} }

// Null returns the JSON null.
func Null() Value { return Value{k: KindNull} }

// Bool returns b as a Value.
func Bool(b bool) Value {
	v := Value{k: KindBool}
	if b {
		v.n = 1
	}
	return v
}

// Int returns n as a Value.
func Int(n int64) Value { return Value{k: KindInt, n: uint64(n)} }

// Float returns f as a Value.
func Float(f float64) Value { return Value{k: KindFloat, n: math.Float64bits(f)} }

// String returns s as a Value.
func String(s string) Value {
	return Value{k: KindString, p: unsafe.Pointer(unsafe.StringData(s)), n: uint64(len(s))}
}

// FromAny returns a as a Value: strings, bools, nil, int64 and float64 get
// their own kinds, other integer types become KindInt when they fit in an
// int64, float32 becomes KindFloat, and anything else is KindAny.
func FromAny(a any) Value {
	switch t := a.(type) {
	case nil:
		return Null()
	case string:
		return String(t)
	case bool:
		return Bool(t)
	case int64:
		return Int(t)
	case float64:
		return Float(t)
	case int:
		return Int(int64(t))
	case int32:
		return Int(int64(t))
	case int16:
		return Int(int64(t))
	case int8:
		return Int(int64(t))
	case uint8:
		return Int(int64(t))
	case uint16:
		return Int(int64(t))
	case uint32:
		return Int(int64(t))
	case uint:
		if uint64(t) <= math.MaxInt64 {
			return Int(int64(t))
		}
	case uint64:
		if t <= math.MaxInt64 {
			return Int(int64(t))
		}
	case float32:
		return Float(float64(t))
	}
	return OfAny(a)
}

// OfAny returns a as a Value of KindAny whatever its type, for callers
// that keep a value exactly as it is.
func OfAny(a any) Value { return Value{k: KindAny, p: unsafe.Pointer(&a)} }

// Kind returns the kind of v.
func (v Value) Kind() Kind { return v.k }

// Exists reports whether v is not a missing field.
func (v Value) Exists() bool { return v.k != KindMissing }

// IsNil reports whether expressions read v as nil: a missing field, null,
// or a KindAny holding nil.
func (v Value) IsNil() bool {
	return v.k == KindMissing || v.k == KindNull || (v.k == KindAny && v.AnyValue() == nil)
}

// Str returns the string of a KindString value, "" for any other.
func (v Value) Str() string {
	if v.k != KindString {
		return ""
	}
	return unsafe.String((*byte)(v.p), int(v.n))
}

// Int returns the integer of a KindInt value, 0 for any other.
func (v Value) Int() int64 {
	if v.k != KindInt {
		return 0
	}
	return int64(v.n)
}

// Float returns the float of a KindFloat value, 0 for any other.
func (v Value) Float() float64 {
	if v.k != KindFloat {
		return 0
	}
	return math.Float64frombits(v.n)
}

// BoolValue returns the bool of a KindBool value, false for any other.
func (v Value) BoolValue() bool { return v.k == KindBool && v.n != 0 }

// AnyValue returns the value held by a KindAny value, nil for any other.
func (v Value) AnyValue() any {
	if v.k != KindAny {
		return nil
	}
	return *(*any)(v.p)
}

// Any returns v as the record model has it in a map[string]any: a string,
// int64, float64, bool, nil for null and missing, or what KindAny holds.
// Numbers and strings are boxed, which allocates.
func (v Value) Any() any {
	switch v.k {
	case KindBool:
		return v.n != 0
	case KindInt:
		return int64(v.n)
	case KindFloat:
		return math.Float64frombits(v.n)
	case KindString:
		return v.Str()
	case KindAny:
		return v.AnyValue()
	}
	return nil
}

// Number returns v as a float64 when it is an int or a float.
func (v Value) Number() (float64, bool) {
	switch v.k {
	case KindInt:
		return float64(int64(v.n)), true
	case KindFloat:
		return math.Float64frombits(v.n), true
	}
	return 0, false
}
