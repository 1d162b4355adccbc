package objectstore

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// appendRow appends row i of rec as a JSON object, columns in schema order.
func appendRow(dst []byte, rec arrow.RecordBatch, i int) []byte {
	dst = append(dst, '{')
	sc := rec.Schema()
	for c := range sc.NumFields() {
		if c > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, sc.Field(c).Name)
		dst = append(dst, ':')
		dst = appendValue(dst, rec.Column(c), i)
	}
	return append(dst, '}')
}

// appendValue appends element i of arr as JSON: integers as integers,
// timestamps as RFC 3339 strings in UTC, dates as 2006-01-02, binary as
// base64, structs and maps as objects, lists as arrays.
func appendValue(dst []byte, arr arrow.Array, i int) []byte {
	if arr.IsNull(i) {
		return append(dst, "null"...)
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return strconv.AppendBool(dst, a.Value(i))
	case *array.Int8:
		return strconv.AppendInt(dst, int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.AppendInt(dst, int64(a.Value(i)), 10)
	case *array.Int32:
		return strconv.AppendInt(dst, int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.AppendInt(dst, a.Value(i), 10)
	case *array.Uint8:
		return strconv.AppendUint(dst, uint64(a.Value(i)), 10)
	case *array.Uint16:
		return strconv.AppendUint(dst, uint64(a.Value(i)), 10)
	case *array.Uint32:
		return strconv.AppendUint(dst, uint64(a.Value(i)), 10)
	case *array.Uint64:
		return strconv.AppendUint(dst, a.Value(i), 10)
	case *array.Float32:
		return appendFloat(dst, float64(a.Value(i)), 32)
	case *array.Float64:
		return appendFloat(dst, a.Value(i), 64)
	case *array.String:
		return appendString(dst, a.Value(i))
	case *array.LargeString:
		return appendString(dst, a.Value(i))
	case *array.Binary:
		return appendBytes(dst, a.Value(i))
	case *array.LargeBinary:
		return appendBytes(dst, a.Value(i))
	case *array.FixedSizeBinary:
		return appendBytes(dst, a.Value(i))
	case *array.Timestamp:
		t := a.DataType().(*arrow.TimestampType)
		if _, err := t.GetZone(); err != nil {
			break
		}
		return appendTime(dst, a.Value(i).ToTime(t.Unit), time.RFC3339Nano)
	case *array.Date32:
		return appendTime(dst, a.Value(i).ToTime(), time.DateOnly)
	case *array.Date64:
		return appendTime(dst, a.Value(i).ToTime(), time.DateOnly)
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		dst = append(dst, '{')
		for f := range st.NumFields() {
			if f > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, st.Field(f).Name)
			dst = append(dst, ':')
			dst = appendValue(dst, a.Field(f), i)
		}
		return append(dst, '}')
	case *array.Map:
		start, end := a.ValueOffsets(i)
		keys, items := a.Keys(), a.Items()
		dst = append(dst, '{')
		for j := start; j < end; j++ {
			if j > start {
				dst = append(dst, ',')
			}
			if s, ok := keys.(*array.String); ok {
				dst = appendString(dst, s.Value(int(j)))
			} else {
				dst = appendString(dst, keys.ValueStr(int(j)))
			}
			dst = append(dst, ':')
			dst = appendValue(dst, items, int(j))
		}
		return append(dst, '}')
	case array.ListLike:
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		dst = append(dst, '[')
		for j := start; j < end; j++ {
			if j > start {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, vals, int(j))
		}
		return append(dst, ']')
	case *array.Dictionary:
		return appendValue(dst, a.Dictionary(), a.GetValueIndex(i))
	}
	b, err := json.Marshal(arr.GetOneForMarshal(i))
	if err != nil {
		return appendString(dst, arr.ValueStr(i))
	}
	return append(dst, b...)
}

func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

func appendBytes(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// appendTime appends t in UTC, formatted with layout, as a JSON string;
// the layouts give no character that needs escaping.
func appendTime(dst []byte, t time.Time, layout string) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, layout)
	return append(dst, '"')
}

// appendString appends s as a JSON string: escaping quotes, backslashes,
// control characters, U+2028 and U+2029, and writing each byte that is not
// valid UTF-8 as \ufffd.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0 // s[start:i] is to be appended as it is
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
