package sql

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/engine/expr"
)

// kind is what a column holds, as far as converting a record's value to it
// goes.
type kind uint8

const (
	kindAny     kind = iota // unknown type: values pass as they are, objects and arrays as JSON text
	kindInt                 // integers: TINYINT ... BIGINT, INT8, SERIAL
	kindFloat               // FLOAT, DOUBLE, REAL
	kindDecimal             // DECIMAL, NUMERIC: numbers, and numeric strings as written
	kindBool                // BOOL, BOOLEAN
	kindString              // CHAR, VARCHAR, TEXT, ENUM
	kindTime                // DATE, DATETIME, TIMESTAMP
	kindJSON                // JSON, JSONB: any value, as JSON text
	kindBytes               // BLOB, BYTEA, VARBINARY
)

var kindNames = [...]string{"any value", "an integer", "a float", "a decimal", "a boolean", "a string", "a time", "JSON", "bytes"}

func (k kind) String() string { return kindNames[k] }

// kindOf maps a type name as database/sql drivers report it (go-sql-driver:
// "BIGINT", "UNSIGNED INT", "VARCHAR"; pgx: "INT8", "TIMESTAMPTZ", "JSONB";
// SQLite: the declared type, such as "VARCHAR(8)" or "") or as written in
// create_table to a kind.
func kindOf(driver, dbType string) kind {
	t := strings.ToUpper(strings.TrimSpace(dbType))
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	t = strings.TrimPrefix(t, "UNSIGNED ")
	t = strings.TrimSuffix(t, " UNSIGNED")
	if f := strings.Fields(t); len(f) > 0 {
		switch f[0] {
		case "DOUBLE", "CHARACTER", "TIMESTAMP", "TIME", "BIT":
			// Multi-word names: DOUBLE PRECISION, CHARACTER VARYING,
			// TIMESTAMP WITH TIME ZONE.
			t = f[0]
		default:
			if len(f) > 1 && (f[1] == "NOT" || f[1] == "NULL" || f[1] == "PRIMARY" || f[1] == "DEFAULT") {
				t = f[0]
			}
		}
	}
	switch t {
	case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "INTEGER", "BIGINT", "INT2", "INT4", "INT8",
		"SMALLSERIAL", "SERIAL", "BIGSERIAL", "YEAR":
		return kindInt
	case "FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8":
		return kindFloat
	case "DECIMAL", "NUMERIC", "DEC", "FIXED", "NUMBER":
		return kindDecimal
	case "BOOL", "BOOLEAN":
		return kindBool
	case "CHAR", "VARCHAR", "TEXT", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "BPCHAR", "CHARACTER",
		"NCHAR", "NVARCHAR", "CLOB", "ENUM", "SET", "CITEXT", "NAME", "STRING":
		return kindString
	case "DATE", "DATETIME", "TIMESTAMP", "TIMESTAMPTZ":
		return kindTime
	case "JSON", "JSONB":
		return kindJSON
	case "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY", "BYTEA":
		return kindBytes
	}
	if driver == DriverSQLite {
		// SQLite's type affinity rules, for declared types it accepts
		// freely.
		switch {
		case strings.Contains(t, "INT"):
			return kindInt
		case strings.Contains(t, "CHAR"), strings.Contains(t, "CLOB"), strings.Contains(t, "TEXT"):
			return kindString
		case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"):
			return kindFloat
		}
	}
	return kindAny
}

// column is one column of a table as the sink writes it.
type column struct {
	name   string // as the table spells it, when known
	dbType string // as the database reports it; "" when unknown
	kind   kind
}

// convertError is a value that cannot be stored in its column.
type convertError struct {
	col    string
	dbType string
	msg    string
}

func (e *convertError) Error() string {
	if e.dbType == "" {
		return fmt.Sprintf("column %s: %s", e.col, e.msg)
	}
	return fmt.Sprintf("column %s (%s): %s", e.col, e.dbType, e.msg)
}

// convert converts v, a value of the record model (nil, bool, int64,
// float64, string, time.Time, []any, map[string]any, and the odd []byte,
// int or json.Number), to what col holds. nil is NULL. A value that does not
// fit is a *convertError.
func convert(v any, col column) (any, error) {
	out, msg := convertValue(v, col.kind)
	if msg != "" {
		return nil, &convertError{col: col.name, dbType: col.dbType, msg: msg}
	}
	return out, nil
}

// convertValue converts v as convert does, and says why it cannot in a
// message. A value that needs no conversion is returned as the same
// interface value, so that it is not copied to the heap again.
func convertValue(v any, k kind) (any, string) {
	v = canonical(v)
	if v == nil {
		return nil, ""
	}
	switch k {
	case kindInt:
		switch t := v.(type) {
		case int64:
			return v, ""
		case float64:
			if t != math.Trunc(t) || t < -(1<<63) || t >= 1<<63 || math.IsNaN(t) {
				return nil, fmt.Sprintf("%v is not a whole number in the range of a 64-bit integer", t)
			}
			return int64(t), ""
		case bool:
			if t {
				return int64(1), ""
			}
			return int64(0), ""
		case string:
			s := strings.TrimSpace(t)
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n, ""
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
				return int64(f), ""
			}
			return nil, fmt.Sprintf("%s is not an integer", quoteShort(t))
		}
	case kindFloat:
		switch t := v.(type) {
		case int64:
			return float64(t), ""
		case float64:
			if math.IsNaN(t) || math.IsInf(t, 0) {
				return nil, fmt.Sprintf("%v cannot be stored", t)
			}
			return v, ""
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Sprintf("%s is not a number", quoteShort(t))
			}
			return f, ""
		}
	case kindDecimal:
		switch t := v.(type) {
		case int64:
			return v, ""
		case float64:
			if math.IsNaN(t) || math.IsInf(t, 0) {
				return nil, fmt.Sprintf("%v cannot be stored", t)
			}
			// As text, so that the driver does not format it in
			// exponent form, which some servers read as a float.
			return strconv.FormatFloat(t, 'f', -1, 64), ""
		case string:
			s := strings.TrimSpace(t)
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Sprintf("%s is not a number", quoteShort(t))
			}
			return s, "" // as written: no precision lost
		}
	case kindBool:
		switch t := v.(type) {
		case bool:
			return v, ""
		case int64:
			if t == 0 || t == 1 {
				return t == 1, ""
			}
			return nil, fmt.Sprintf("%d is not a boolean (0 or 1)", t)
		case float64:
			if t == 0 || t == 1 {
				return t == 1, ""
			}
			return nil, fmt.Sprintf("%v is not a boolean (0 or 1)", t)
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(t)); err == nil {
				return b, ""
			}
			return nil, fmt.Sprintf("%s is not a boolean", quoteShort(t))
		}
	case kindString:
		switch t := v.(type) {
		case string:
			return v, ""
		case int64:
			return strconv.FormatInt(t, 10), ""
		case float64:
			if math.IsNaN(t) || math.IsInf(t, 0) {
				return nil, fmt.Sprintf("%v cannot be stored", t)
			}
			return strconv.FormatFloat(t, 'f', -1, 64), ""
		case bool:
			return strconv.FormatBool(t), ""
		case time.Time:
			return t.UTC().Format(time.RFC3339Nano), ""
		case []byte:
			return string(t), ""
		case []any, map[string]any:
			return toJSON(t)
		}
	case kindTime:
		switch t := v.(type) {
		case time.Time:
			return utc(v, t), ""
		case string:
			if tm, ok := parseTime(t); ok {
				return tm, ""
			}
			return nil, fmt.Sprintf("%s is not a time (RFC 3339, \"2006-01-02 15:04:05\", \"2006-01-02\" or unix seconds or milliseconds)", quoteShort(t))
		case int64:
			return unixTime(float64(t)), ""
		case float64:
			if math.IsNaN(t) || math.IsInf(t, 0) || math.Abs(t) > 1e17 {
				return nil, fmt.Sprintf("%v is not a unix time", t)
			}
			return unixTime(t), ""
		}
	case kindJSON:
		if tm, ok := v.(time.Time); ok {
			v = tm.UTC().Format(time.RFC3339Nano)
		}
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		return toJSON(v)
	case kindBytes:
		switch t := v.(type) {
		case []byte:
			return v, ""
		case string:
			return []byte(t), ""
		case []any, map[string]any:
			s, msg := toJSON(t)
			if msg != "" {
				return nil, msg
			}
			return []byte(s.(string)), ""
		}
		s, msg := convertValue(v, kindString)
		if msg != "" {
			return nil, msg
		}
		return []byte(s.(string)), ""
	default: // kindAny
		switch t := v.(type) {
		case bool, int64, string, []byte:
			return v, ""
		case float64:
			if math.IsNaN(t) || math.IsInf(t, 0) {
				return nil, fmt.Sprintf("%v cannot be stored", t)
			}
			return v, ""
		case time.Time:
			return utc(v, t), ""
		case []any, map[string]any:
			return toJSON(t)
		}
		return nil, fmt.Sprintf("a value of type %T cannot be stored", v)
	}
	return nil, fmt.Sprintf("%s cannot be converted to %s", describe(v), k)
}

// utc returns the time t, which v holds, in UTC: v itself when it is.
func utc(v any, t time.Time) any {
	if t.Location() == time.UTC {
		return v
	}
	return t.UTC()
}

// canonical turns the odd numeric types an expression may return into
// int64 or float64.
func canonical(v any) any {
	switch t := v.(type) {
	case int, int8, int16, int32, uint8, uint16, uint32:
		n, _ := expr.Int64(t)
		return n
	case uint:
		return uintValue(uint64(t))
	case uint64:
		return uintValue(t)
	case float32:
		return float64(t)
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n
		}
		if f, err := t.Float64(); err == nil {
			return f
		}
		return string(t)
	case time.Duration:
		return int64(t)
	case *time.Time:
		if t == nil {
			return nil
		}
		return *t
	}
	return v
}

func uintValue(u uint64) any {
	if u <= math.MaxInt64 {
		return int64(u)
	}
	return float64(u)
}

func toJSON(v any) (any, string) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, "cannot be encoded as JSON: " + err.Error()
	}
	return string(b), ""
}

// timeLayouts are the string forms a time column accepts, the ones
// parse_time takes without a layout: date and time separated by T, with
// and without a zone, then by a space, with and without a zone, then a
// date alone.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// parseTime reads s as one of timeLayouts or as unix seconds or
// milliseconds. It tries only the layouts that s can match by its shape,
// and the one with a zone first when s ends with one, so that a time is
// parsed once rather than failing (and allocating an error) on the
// layouts before it.
func parseTime(s string) (time.Time, bool) {
	if s != "" && (mayBeSpace(s[0]) || mayBeSpace(s[len(s)-1])) {
		s = strings.TrimSpace(s)
	}
	if len(s) >= 10 && s[4] == '-' && s[7] == '-' {
		var layouts []string
		switch {
		case len(s) == 10:
			return parseDate(s)
		case s[10] == 'T':
			layouts = timeLayouts[0:2]
		case s[10] == ' ':
			layouts = timeLayouts[2:4]
		}
		if len(layouts) == 2 && !hasZone(s) {
			layouts = []string{layouts[1], layouts[0]}
		}
		for _, l := range layouts {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC(), true
			}
		}
		return time.Time{}, false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) <= 1e17 {
		return unixTime(f), true
	}
	return time.Time{}, false
}

// mayBeSpace reports whether b may be (part of) a character that
// strings.TrimSpace removes.
func mayBeSpace(b byte) bool { return b <= ' ' || b >= utf8.RuneSelf }

// parseDate reads s, ten bytes, as 2006-01-02, as time.Parse does.
func parseDate(s string) (time.Time, bool) {
	var n [8]int
	for i, j := 0, 0; i < 10; i++ {
		if i == 4 || i == 7 {
			continue
		}
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, false
		}
		n[j] = int(s[i] - '0')
		j++
	}
	y, m, d := n[0]*1000+n[1]*100+n[2]*10+n[3], time.Month(n[4]*10+n[5]), n[6]*10+n[7]
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if m < 1 || m > 12 || d < 1 || t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// hasZone reports whether the time s ends with a zone: Z, or ±hh:mm.
func hasZone(s string) bool {
	n := len(s)
	switch {
	case s[n-1] == 'Z' || s[n-1] == 'z':
		return true
	case n >= 6 && (s[n-6] == '+' || s[n-6] == '-') && s[n-3] == ':':
		return true
	}
	return false
}

// unixTime reads f as unix seconds, or milliseconds when above 1e12, as
// parse_time does.
func unixTime(f float64) time.Time {
	if math.Abs(f) > 1e12 {
		f /= 1000
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

func describe(v any) string {
	switch t := v.(type) {
	case string:
		return "the string " + quoteShort(t)
	case bool:
		return "the boolean " + strconv.FormatBool(t)
	case int64, float64:
		return fmt.Sprintf("the number %v", t)
	case time.Time:
		return "the time " + t.Format(time.RFC3339Nano)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case []byte:
		return "raw bytes"
	}
	return fmt.Sprintf("a value of type %T", v)
}

// quoteShort quotes s for an error message, cut to 64 bytes.
func quoteShort(s string) string {
	if len(s) > 64 {
		cut := 64
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// valueSize estimates the bytes a value takes in a statement, for
// max_statement_bytes.
func valueSize(v any) int {
	switch t := v.(type) {
	case string:
		return len(t) + 4
	case []byte:
		return len(t) + 4
	case nil:
		return 4
	case time.Time:
		return 32
	default:
		return 12
	}
}
