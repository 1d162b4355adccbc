package codec

import (
	"strconv"

	"github.com/sluicehq/sluice/engine/field"
)

// Patcher is implemented by codecs that can encode an object again with
// some top-level fields changed, without decoding the rest of it.
type Patcher interface {
	// PatchValues appends to dst the object in data, which PickValues
	// accepts, with the top-level keys of l whose slot is set in changed
	// (bit i for slot i) set to vals[slot], or removed where that value is
	// missing. The other members are copied as they are and in their
	// order; the changed keys follow, in slot order. On error it returns
	// dst unchanged.
	PatchValues(dst, data []byte, l *field.Layout, vals []field.Value, changed uint64) ([]byte, error)
}

// PatchValues implements Patcher.
func (c jsonCodec) PatchValues(dst, data []byte, l *field.Layout, vals []field.Value, changed uint64) ([]byte, error) {
	orig := dst
	i := skipBlank(data, 0)
	if i >= len(data) || data[i] != '{' {
		return orig, errPick
	}
	dst = append(dst, '{')
	first := true
	i = skipBlank(data, i+1)
	for i < len(data) && data[i] != '}' {
		kstart := i
		slot, end := keyAt(data, i, l)
		if end < 0 {
			return orig, errPick
		}
		i = skipBlank(data, end)
		if i >= len(data) || data[i] != ':' {
			return orig, errPick
		}
		vstart := skipBlank(data, i+1)
		vend := skipValue(data, vstart, 1)
		if vend < 0 {
			return orig, errPick
		}
		if slot < 0 || changed&(1<<slot) == 0 {
			if !first {
				dst = append(dst, ',')
			}
			dst = append(append(append(dst, data[kstart:end]...), ':'), data[vstart:vend]...)
			first = false
		}
		i = skipBlank(data, vend)
		if i < len(data) && data[i] == ',' {
			i = skipBlank(data, i+1)
		}
	}
	if i >= len(data) {
		return orig, errPick
	}
	var err error
	for slot, name := range l.Names() {
		if changed&(1<<slot) == 0 || !vals[slot].Exists() {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		if dst, err = c.appendString(dst, name); err != nil {
			return orig, err
		}
		dst = append(dst, ':')
		if dst, err = c.AppendValue(dst, vals[slot]); err != nil {
			return orig, err
		}
	}
	return append(dst, '}'), nil
}

// AppendValue appends v as AppendEncode writes v.Any(), without boxing
// strings, integers, bools and null. A missing value is written as null.
func (c jsonCodec) AppendValue(dst []byte, v field.Value) ([]byte, error) {
	switch v.Kind() {
	case field.KindString:
		return c.appendString(dst, v.Str())
	case field.KindInt:
		return strconv.AppendInt(dst, v.Int(), 10), nil
	case field.KindBool:
		return strconv.AppendBool(dst, v.BoolValue()), nil
	case field.KindNull, field.KindMissing:
		return append(dst, "null"...), nil
	}
	return c.AppendEncode(dst, v.Any())
}

// appendString appends s as Encode writes it, quoting plain text itself.
func (c jsonCodec) appendString(dst []byte, s string) ([]byte, error) {
	if plainText(s) {
		return append(append(append(dst, '"'), s...), '"'), nil
	}
	return c.AppendEncode(dst, s)
}

// plainText reports whether s is printable ASCII with no quote or
// backslash, which JSON writes as it is.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

var (
	_ Picker  = jsonCodec{}
	_ Patcher = jsonCodec{}
)
