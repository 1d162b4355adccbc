package objectstore

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sluicehq/sluice/engine/expr"
)

// timestampType is the Arrow type of timestamp columns: milliseconds, UTC.
var timestampType = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}

// arrowSchema returns the Arrow schema of a root struct type. Every column
// is nullable.
func arrowSchema(root *colType) *arrow.Schema {
	fields := make([]arrow.Field, len(root.fields))
	for i, f := range root.fields {
		fields[i] = arrow.Field{Name: f.name, Type: arrowType(f.typ), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

func arrowType(t *colType) arrow.DataType {
	switch t.kind {
	case kindString:
		return arrow.BinaryTypes.String
	case kindInt64:
		return arrow.PrimitiveTypes.Int64
	case kindInt32:
		return arrow.PrimitiveTypes.Int32
	case kindFloat64:
		return arrow.PrimitiveTypes.Float64
	case kindFloat32:
		return arrow.PrimitiveTypes.Float32
	case kindBool:
		return arrow.FixedWidthTypes.Boolean
	case kindTimestamp:
		return timestampType
	case kindDate:
		return arrow.FixedWidthTypes.Date32
	case kindBinary:
		return arrow.BinaryTypes.Binary
	case kindStruct:
		fields := make([]arrow.Field, len(t.fields))
		for i, f := range t.fields {
			fields[i] = arrow.Field{Name: f.name, Type: arrowType(f.typ), Nullable: true}
		}
		return arrow.StructOf(fields...)
	case kindList:
		// "element" is the name Parquet gives list elements; using it here
		// keeps the stored Arrow schema and the Parquet one alike.
		return arrow.ListOfField(arrow.Field{Name: "element", Type: arrowType(t.elem), Nullable: true})
	}
	return arrow.Null
}

// fieldError is a value that does not fit its column.
type fieldError struct {
	path string // field path: device.os, tags[2]
	msg  string
}

func (e *fieldError) Error() string { return "field " + strconv.Quote(e.path) + ": " + e.msg }

func mismatch(path string, v any, t *colType) error {
	return &fieldError{path: path, msg: fmt.Sprintf("value is %s, want %s", describe(v), describeType(t))}
}

// checkRow reports the first field of row that does not fit root. A row
// that passes can be appended without error.
func checkRow(root *colType, row map[string]any) error {
	for i := range root.fields {
		f := &root.fields[i]
		if err := check(f.typ, row[f.name], f.name, 1); err != nil {
			return err
		}
	}
	return nil
}

// check reports whether v fits t. path names v in errors.
func check(t *colType, v any, path string, depth int) error {
	if v == nil {
		return nil
	}
	if depth > maxDepth {
		return &fieldError{path: path, msg: fmt.Sprintf("nested deeper than %d levels", maxDepth)}
	}
	switch t.kind {
	case kindNull:
		// Only a struct that never had a field settles as null: an empty
		// object fits it.
		if m, ok := v.(map[string]any); ok && len(m) == 0 {
			return nil
		}
		return mismatch(path, v, t)
	case kindString:
		if _, ok := v.(string); ok {
			return nil
		}
	case kindInt64:
		if _, ok := toInt64(v); ok {
			return nil
		}
	case kindInt32:
		if n, ok := toInt64(v); ok {
			if n < math.MinInt32 || n > math.MaxInt32 {
				return &fieldError{path: path, msg: fmt.Sprintf("value %d is out of the range of int32", n)}
			}
			return nil
		}
	case kindFloat64, kindFloat32:
		if _, ok := toFloat64(v); ok {
			return nil
		}
	case kindBool:
		if _, ok := v.(bool); ok {
			return nil
		}
	case kindTimestamp:
		if _, err := toTimestamp(v); err != nil {
			return &fieldError{path: path, msg: err.Error()}
		}
		return nil
	case kindDate:
		if _, err := toDate(v); err != nil {
			return &fieldError{path: path, msg: err.Error()}
		}
		return nil
	case kindBinary:
		switch v.(type) {
		case string, []byte:
			return nil
		}
	case kindStruct:
		m, ok := v.(map[string]any)
		if !ok {
			break
		}
		for i := range t.fields {
			f := &t.fields[i]
			if err := check(f.typ, m[f.name], path+"."+f.name, depth+1); err != nil {
				return err
			}
		}
		return nil
	case kindList:
		l, ok := v.([]any)
		if !ok {
			break
		}
		for i, e := range l {
			if err := check(t.elem, e, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return mismatch(path, v, t)
}

// rowBuilder appends checked rows to the column builders of a record
// builder.
type rowBuilder struct {
	root *colType
	rb   *array.RecordBuilder
}

func (b *rowBuilder) appendRow(row map[string]any) {
	for i := range b.root.fields {
		f := &b.root.fields[i]
		appendValue(f.typ, b.rb.Field(i), row[f.name])
	}
}

// appendValue appends v, which check accepted for t, to bld.
func appendValue(t *colType, bld array.Builder, v any) {
	if v == nil {
		bld.AppendNull()
		return
	}
	switch t.kind {
	case kindNull:
		bld.AppendNull()
	case kindString:
		bld.(*array.StringBuilder).Append(v.(string))
	case kindInt64:
		n, _ := toInt64(v)
		bld.(*array.Int64Builder).Append(n)
	case kindInt32:
		n, _ := toInt64(v)
		bld.(*array.Int32Builder).Append(int32(n))
	case kindFloat64:
		f, _ := toFloat64(v)
		bld.(*array.Float64Builder).Append(f)
	case kindFloat32:
		f, _ := toFloat64(v)
		bld.(*array.Float32Builder).Append(float32(f))
	case kindBool:
		bld.(*array.BooleanBuilder).Append(v.(bool))
	case kindTimestamp:
		ts, _ := toTimestamp(v)
		bld.(*array.TimestampBuilder).Append(ts)
	case kindDate:
		d, _ := toDate(v)
		bld.(*array.Date32Builder).Append(d)
	case kindBinary:
		switch x := v.(type) {
		case string:
			bld.(*array.BinaryBuilder).AppendString(x)
		case []byte:
			bld.(*array.BinaryBuilder).Append(x)
		}
	case kindStruct:
		sb := bld.(*array.StructBuilder)
		m := v.(map[string]any)
		sb.Append(true)
		for i := range t.fields {
			f := &t.fields[i]
			appendValue(f.typ, sb.FieldBuilder(i), m[f.name])
		}
	case kindList:
		lb := bld.(*array.ListBuilder)
		lb.Append(true)
		eb := lb.ValueBuilder()
		for _, e := range v.([]any) {
			appendValue(t.elem, eb, e)
		}
	}
}

// toInt64 converts integers, and floats without a fraction that fit, to
// int64.
func toInt64(v any) (int64, bool) {
	if n, ok := expr.Int64(v); ok {
		return n, true
	}
	switch x := v.(type) {
	case float64:
		return floatToInt(x)
	case float32:
		return floatToInt(float64(x))
	}
	return 0, false
}

func floatToInt(f float64) (int64, bool) {
	// -2^63 is exact as a float64; 2^63 is not an int64.
	if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// toFloat64 converts any number to float64.
func toFloat64(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint:
		return float64(x), true
	}
	n, ok := toInt64(v)
	return float64(n), ok
}

func isTime(v any) bool {
	_, ok := v.(time.Time)
	return ok
}

// minTimestamp and maxTimestamp bound the times a millisecond timestamp
// holds without overflow.
var (
	minTimestamp = time.UnixMilli(math.MinInt64 / 2)
	maxTimestamp = time.UnixMilli(math.MaxInt64 / 2)
)

// toTimestamp converts a time, an RFC 3339 string or unix milliseconds to
// a millisecond timestamp.
func toTimestamp(v any) (arrow.Timestamp, error) {
	switch x := v.(type) {
	case time.Time:
		return timestampOf(x)
	case string:
		return parseTimestamp(x)
	}
	n, ok := toInt64(v)
	if !ok {
		return 0, fmt.Errorf("value is %s, want a timestamp (an RFC 3339 string, a time or unix milliseconds)", describe(v))
	}
	return arrow.Timestamp(n), nil
}

// parseTimestamp converts an RFC 3339 string to a millisecond timestamp.
func parseTimestamp(s string) (arrow.Timestamp, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("value %q is not an RFC 3339 time such as 2024-05-01T12:00:00Z", truncate(s, 64))
	}
	return timestampOf(t)
}

func timestampOf(t time.Time) (arrow.Timestamp, error) {
	if t.Before(minTimestamp) || t.After(maxTimestamp) {
		return 0, fmt.Errorf("time %s is out of range", t.Format(time.RFC3339))
	}
	return arrow.Timestamp(t.UnixMilli()), nil
}

// toDate converts a time, a 2006-01-02 string or an RFC 3339 string to the
// UTC date it falls on.
func toDate(v any) (arrow.Date32, error) {
	switch x := v.(type) {
	case time.Time:
		return dateOf(x)
	case string:
		return parseDate(x)
	}
	return 0, fmt.Errorf("value is %s, want a date (a 2006-01-02 or RFC 3339 string, or a time)", describe(v))
}

// parseDate converts a 2006-01-02 or RFC 3339 string to the UTC date it
// falls on.
func parseDate(s string) (arrow.Date32, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return 0, fmt.Errorf("value %q is not a date such as 2024-05-01", truncate(s, 64))
		}
	}
	return dateOf(t)
}

func dateOf(t time.Time) (arrow.Date32, error) {
	days := t.Unix() / 86400
	if t.Unix() < 0 && t.Unix()%86400 != 0 {
		days-- // floor, not truncation, before 1970
	}
	if days < math.MinInt32 || days > math.MaxInt32 {
		return 0, fmt.Errorf("date %s is out of range", t.Format(time.DateOnly))
	}
	return arrow.Date32(days), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// describe names the kind of a value in errors.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, int, int32, int16, int8, uint64, uint32, uint16, uint8, uint:
		return "an integer"
	case float64, float32:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case []byte:
		return "raw bytes"
	case time.Time:
		return "a time"
	}
	return fmt.Sprintf("a Go %T", v)
}

func describeType(t *colType) string {
	switch t.kind {
	case kindStruct:
		return "an object (struct)"
	case kindList:
		return "an array of " + describeType(t.elem)
	case kindNull:
		return "null or an empty object"
	}
	return t.kind.String()
}
