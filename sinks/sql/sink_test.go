package sql

import (
	"context"
	dbsql "database/sql"
	"database/sql/driver"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/enginetest"
	"github.com/sluicehq/sluice/engine/expr"
	"github.com/sluicehq/sluice/engine/field"
	"github.com/sluicehq/sluice/engine/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestSinkConformance(t *testing.T) {
	var dsn string
	enginetest.SinkSuite(t, enginetest.SinkHarness{
		Idempotent: true,
		Reset: func(t *testing.T) {
			dsn = sqliteDSN(t)
		},
		New: func(t *testing.T) engine.Sink {
			cfg := Defaults()
			cfg.Driver, cfg.DSN, cfg.Table = DriverSQLite, spec.Secret(dsn), "records"
			cfg.Mode, cfg.Key = ModeUpsert, []string{"id"}
			cfg.CreateTable = &CreateTableConfig{Columns: pairs("id", "INTEGER", "name", "TEXT"), PrimaryKey: []string{"id"}}
			s, _ := newSink(t, cfg)
			return s
		},
		Read: func(t *testing.T) [][]byte {
			db, err := dbsql.Open("sqlite", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rows, err := db.Query(`SELECT id, name FROM records`)
			if err != nil {
				if strings.Contains(err.Error(), "no such table") {
					return nil
				}
				t.Fatal(err)
			}
			defer rows.Close()
			var out [][]byte
			for rows.Next() {
				var id int
				var name string
				if err := rows.Scan(&id, &name); err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Appendf(nil, `{"id":%d,"name":%q}`, id, name))
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return out
		},
	})
}

// TestMappingExpressions maps columns from expressions, in the configured
// order, with conversions to the column types.
func TestMappingExpressions(t *testing.T) {
	cfg := sqliteConfig(t, "match_results")
	cfg.Columns = pairs("match_id", "match_id", "player_id", "player_id", "score", "score * 1", "settled_at", "parse_time(ts)", "detail", "detail")
	cfg.CreateTable = &CreateTableConfig{
		Columns:    pairs("match_id", "BIGINT", "player_id", "BIGINT", "score", "INT", "settled_at", "TIMESTAMP", "detail", "TEXT"),
		PrimaryKey: []string{"match_id", "player_id"},
	}
	s, _ := openSink(t, cfg)
	b := engine.Batch{Records: []engine.Record{
		rec(`{"match_id":1,"player_id":7,"score":"12","ts":"2024-05-01T12:00:00Z","detail":{"kills":3},"extra":true}`, "s", 0),
		rec(`{"match_id":1,"player_id":8,"score":3.0,"ts":1714564800,"detail":null}`, "s", 1),
	}}
	if err := s.Write(t.Context(), b); err == nil {
		t.Fatal(`"12" * 1 should fail to evaluate`)
	} else if got := failedIndices(t, err); !slices.Equal(got, []int{0}) {
		t.Fatalf("failed %v, want [0]: %v", got, err)
	}
	db := rawDB(t, cfg)
	var (
		match, player, score int64
		at                   time.Time
		detail               dbsql.NullString
	)
	if err := db.QueryRow(`SELECT match_id, player_id, score, settled_at, detail FROM match_results`).Scan(&match, &player, &score, &at, &detail); err != nil {
		t.Fatal(err)
	}
	if match != 1 || player != 8 || score != 3 || !at.Equal(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)) || detail.Valid {
		t.Fatalf("row = %d %d %d %v %v", match, player, score, at, detail)
	}
	// The first record, fixed: the object becomes JSON text.
	b = engine.Batch{Records: []engine.Record{
		rec(`{"match_id":2,"player_id":7,"score":12,"ts":"2024-05-01 12:00:00","detail":{"kills":3,"deaths":[1,2]}}`, "s", 2),
	}}
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT detail FROM match_results WHERE match_id = 2`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if detail.String != `{"deaths":[1,2],"kills":3}` {
		t.Fatalf("detail = %q", detail.String)
	}
}

// TestMappingAllFields writes every top-level field: the union of the
// batch's fields, missing ones as NULL, nested values as JSON text.
func TestMappingAllFields(t *testing.T) {
	cfg := sqliteConfig(t, "events")
	s, _ := newSink(t, cfg)
	db := rawDB(t, cfg)
	if err := os.MkdirAll(filepath.Dir(sqlitePath(cfg.DSN.Reveal())), 0o755); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `CREATE TABLE events (id INTEGER, name TEXT, tags TEXT, ok BOOLEAN, latency REAL)`)
	if err := s.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	b := engine.Batch{Records: []engine.Record{
		rec(`{"id":1,"name":"a","tags":["x","y"],"ok":true}`, "s", 0),
		rec(`{"id":2,"latency":1.5,"ok":"false"}`, "s", 1),
		rec(`{"id":3,"name":"c","bogus":1}`, "s", 2),
		rec(`{"id":4,"player-id":1}`, "s", 3),
		rec(`[1,2]`, "s", 4),
	}}
	err := s.Write(t.Context(), b)
	if got := failedIndices(t, err); !slices.Equal(got, []int{2, 3, 4}) {
		t.Fatalf("failed %v, want [2 3 4]: %v", got, err)
	}
	for i, want := range map[int]string{2: "has no column bogus", 3: "only letters, digits and _", 4: "not an object"} {
		if e := errorOf(err, i); e == nil || !strings.Contains(e.Error(), want) {
			t.Errorf("record %d: error %v, want %q", i, e, want)
		}
	}
	type rowT struct {
		id      int
		name    dbsql.NullString
		tags    dbsql.NullString
		ok      dbsql.NullBool
		latency dbsql.NullFloat64
	}
	rows, err := db.Query(`SELECT id, name, tags, ok, latency FROM events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []rowT
	for rows.Next() {
		var r rowT
		if err := rows.Scan(&r.id, &r.name, &r.tags, &r.ok, &r.latency); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	want := []rowT{
		{id: 1, name: dbsql.NullString{String: "a", Valid: true}, tags: dbsql.NullString{String: `["x","y"]`, Valid: true}, ok: dbsql.NullBool{Bool: true, Valid: true}},
		{id: 2, ok: dbsql.NullBool{Bool: false, Valid: true}, latency: dbsql.NullFloat64{Float64: 1.5, Valid: true}},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rows\n got %+v\nwant %+v", got, want)
	}
}

// TestConversionErrors fails exactly the records whose values do not fit
// their columns, with the column and its type in the error, and writes the
// others.
func TestConversionErrors(t *testing.T) {
	cfg := sqliteConfig(t, "typed")
	cfg.CreateTable = &CreateTableConfig{Columns: pairs("n", "BIGINT", "f", "DOUBLE", "b", "BOOLEAN", "at", "TIMESTAMP", "d", "DECIMAL(10,2)", "j", "JSON")}
	s, _ := openSink(t, cfg)
	b := engine.Batch{Records: []engine.Record{
		rec(`{"n":1,"f":1,"b":1,"at":"2024-01-02","d":"1.25","j":{"a":1}}`, "s", 0),
		rec(`{"n":"x"}`, "s", 1),
		rec(`{"n":1.5}`, "s", 2),
		rec(`{"f":"NaN?"}`, "s", 3),
		rec(`{"b":2}`, "s", 4),
		rec(`{"at":"yesterday"}`, "s", 5),
		rec(`{"at":{"a":1}}`, "s", 6),
		rec(`{"d":"1,5"}`, "s", 7),
		rec(`{"n":"42","b":"true","at":1714564800000,"j":"text"}`, "s", 8),
	}}
	err := s.Write(t.Context(), b)
	if got := failedIndices(t, err); !slices.Equal(got, []int{1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("failed %v: %v", got, err)
	}
	wants := map[int]string{
		1: `column n (BIGINT): "x" is not an integer`,
		2: `column n (BIGINT): 1.5 is not a whole number`,
		3: `column f (DOUBLE): "NaN?" is not a number`,
		4: `column b (BOOLEAN): 2 is not a boolean`,
		5: `column at (TIMESTAMP): "yesterday" is not a time`,
		6: `column at (TIMESTAMP): an object cannot be converted to a time`,
		7: `column d (DECIMAL(10,2)): "1,5" is not a number`,
	}
	for i, want := range wants {
		if e := errorOf(err, i); e == nil || !strings.Contains(e.Error(), want) {
			t.Errorf("record %d: error %v, want %q", i, e, want)
		}
	}
	db := rawDB(t, cfg)
	if n := count(t, db, `SELECT COUNT(*) FROM typed`); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
	var j string
	var at time.Time
	if err := db.QueryRow(`SELECT j, at FROM typed WHERE n = 42`).Scan(&j, &at); err != nil {
		t.Fatal(err)
	}
	if j != `"text"` || !at.Equal(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("j = %q, at = %v", j, at)
	}
}

func TestConvert(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 0, 0, 500, time.FixedZone("x", 3600))
	cases := []struct {
		name string
		v    any
		k    kind
		want any
		err  string
	}{
		{"nil", nil, kindInt, nil, ""},
		{"int", int64(5), kindInt, int64(5), ""},
		{"int from whole float", 5.0, kindInt, int64(5), ""},
		{"int from string", " 42 ", kindInt, int64(42), ""},
		{"int from bool", true, kindInt, int64(1), ""},
		{"int from int", 7, kindInt, int64(7), ""},
		{"int too big", 1e20, kindInt, nil, "not a whole number"},
		{"int from time", at, kindInt, nil, "the time 2024-05-01T12:00:00.0000005+01:00 cannot be converted to an integer"},
		{"float", int64(2), kindFloat, 2.0, ""},
		{"float inf", "Inf", kindFloat, nil, "not a number"},
		{"decimal float as text", 0.1, kindDecimal, "0.1", ""},
		{"decimal string kept", "12345678901234567890.12", kindDecimal, "12345678901234567890.12", ""},
		{"bool", "false", kindBool, false, ""},
		{"bool from 1", int64(1), kindBool, true, ""},
		{"string from number", 1.5, kindString, "1.5", ""},
		{"string from big float", 1e21, kindString, "1000000000000000000000", ""},
		{"string from time", at, kindString, "2024-05-01T11:00:00.0000005Z", ""},
		{"string from object", map[string]any{"b": int64(1), "a": []any{true}}, kindString, `{"a":[true],"b":1}`, ""},
		{"time in UTC", at, kindTime, at.UTC(), ""},
		{"time from unix ms", int64(1714564800000), kindTime, time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), ""},
		{"time from sql text", "2024-05-01 12:00:00", kindTime, time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), ""},
		{"time from RFC 3339", "2024-05-01T12:00:00.25+02:00", kindTime, time.Date(2024, 5, 1, 10, 0, 0, 25e7, time.UTC), ""},
		{"time from RFC 3339 without zone", " 2024-05-01T12:00:00.5 ", kindTime, time.Date(2024, 5, 1, 12, 0, 0, 5e8, time.UTC), ""},
		{"time from sql text with zone", "2024-05-01 12:00:00-01:30", kindTime, time.Date(2024, 5, 1, 13, 30, 0, 0, time.UTC), ""},
		{"time from date", "2024-05-01", kindTime, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), ""},
		{"time from unix seconds text", "1714564800.5", kindTime, time.Date(2024, 5, 1, 12, 0, 0, 5e8, time.UTC), ""},
		{"time from bad date", "2024-02-30", kindTime, nil, "is not a time"},
		{"time from lower-case t", "2024-05-01t12:00:00Z", kindTime, nil, "is not a time"},
		{"json string", "a", kindJSON, `"a"`, ""},
		{"bytes from object", map[string]any{"a": int64(1)}, kindBytes, []byte(`{"a":1}`), ""},
		{"any passes", "x", kindAny, "x", ""},
		{"any nested", []any{int64(1)}, kindAny, "[1]", ""},
		{"any unknown type", struct{}{}, kindAny, nil, "cannot be stored"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := convert(tc.v, column{name: "c", kind: tc.k})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestColumnValue: a column whose expression is a field's name reads the
// field without the expression, with the same result as evaluating it.
func TestColumnValue(t *testing.T) {
	fields := map[string]any{
		"a": "x", "n": int64(3), "i": 7, "f": 1.5, "b": true, "at": time.Unix(0, 0), "list": []string{"p", "q"},
		"obj": map[string]any{"k": int64(1)}, "type": "kill", "nil": "field", "true": "field",
	}
	cases := []struct {
		src   string
		field string // "" when the expression runs
	}{
		{"a", "a"}, {" n ", "n"}, {"i", "i"}, {"f", "f"}, {"b", "b"}, {"at", "at"}, {"list", "list"}, {"obj", "obj"},
		{"missing", "missing"}, {"type", "type"}, {"nil", ""}, {"true", ""}, {`$env["a"]`, ""}, {"n * 1", ""},
		{"a + a", ""}, {"obj.k", ""}, {"upper(a)", ""},
	}
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			prog, err := expr.Compile(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			mc := mappedColumn{name: "c", prog: prog, field: fieldOnly(tc.src, prog)}
			if mc.field != tc.field {
				t.Fatalf("field %q, want %q", mc.field, tc.field)
			}
			got, err := mc.value(rowFields{m: fields}, 0)
			if err != nil {
				t.Fatal(err)
			}
			want, err := prog.Eval(fields)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
				t.Fatalf("value %#v, Eval %#v", got, want)
			}
			// The same from the record's field values.
			if prog.Layout() == nil {
				return
			}
			l := field.NewLayout(append([]string{"other"}, prog.Layout().Names()...)...)
			vals := make([]field.Value, l.Len())
			for i, name := range l.Names() {
				if v, ok := fields[name]; ok {
					vals[i] = field.FromAny(v)
				}
			}
			s := &Sink{cols: []mappedColumn{mc}}
			got, err = mc.value(rowFields{l: l, vals: vals, slots: s.slotsIn(l)}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
				t.Fatalf("value from field values %#v, Eval %#v", got, want)
			}
		})
	}
}

// TestParseTime: parseTime, which picks the layouts to try by the
// string's shape, accepts what trying every layout in order accepts, with
// the same result.
func TestParseTime(t *testing.T) {
	every := func(s string) (time.Time, bool) {
		s = strings.TrimSpace(s)
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC(), true
			}
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) <= 1e17 {
			return unixTime(f), true
		}
		return time.Time{}, false
	}
	for _, s := range []string{
		"2024-05-01T12:00:00Z", "2024-05-01T12:00:00.123456789Z", "2024-05-01T12:00:00+02:00", "2024-05-01T12:00:00.5-07:30",
		"2024-05-01T12:00:00", "2024-05-01T12:00:00.000", "2024-05-01 12:00:00", "2024-05-01 12:00:00.1Z", "2024-05-01 12:00:00+01:00",
		"2024-05-01", " 2024-05-01 ", "2024-02-29", "2023-02-29", "2024-13-01", "2024-05-01T25:00:00Z", "2024-05-01T12:00:00+0200",
		"2024-05-01T12:00:00 Z", "2024-05-01t12:00:00Z", "2024-05-01T12:00:00z", "2024-05-01X12:00:00", "2024-5-1", "20240501",
		"1714564800", "1714564800000", "-1e5", "1e18", "NaN", "", "Z", "2024-05-01T", "2024-05-01 ", "+2024-05-01",
		"0000-01-01", "9999-12-31", "2024-00-10", "2024-01-00", "2024-01-32", "2024-04-31", "2100-02-29", "2000-02-29",
		"2024-1a-01", "2024/05/01", "\t2024-05-01\n", " 1714564800 ", "\u00a02024-05-01T12:00:00Z\u2003", "2024-05-01\u0085",
	} {
		t.Run(s, func(t *testing.T) {
			got, ok := parseTime(s)
			want, wantOK := every(s)
			if ok != wantOK || !got.Equal(want) {
				t.Fatalf("parseTime = %v, %v; every layout in order: %v, %v", got, ok, want, wantOK)
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	cases := []struct {
		driver, typ string
		want        kind
	}{
		{DriverMySQL, "UNSIGNED BIGINT", kindInt},
		{DriverMySQL, "TINYINT", kindInt},
		{DriverMySQL, "VARCHAR", kindString},
		{DriverMySQL, "DATETIME", kindTime},
		{DriverMySQL, "DECIMAL", kindDecimal},
		{DriverMySQL, "VARBINARY", kindBytes},
		{DriverMySQL, "GEOMETRY", kindAny},
		{DriverPostgres, "INT8", kindInt},
		{DriverPostgres, "TIMESTAMPTZ", kindTime},
		{DriverPostgres, "JSONB", kindJSON},
		{DriverPostgres, "BOOL", kindBool},
		{DriverPostgres, "UUID", kindAny},
		{DriverPostgres, "DOUBLE PRECISION", kindFloat},
		{DriverPostgres, "TIMESTAMP WITH TIME ZONE", kindTime},
		{DriverSQLite, "VARCHAR(8)", kindString},
		{DriverSQLite, "UNSIGNED BIG INT", kindInt},
		{DriverSQLite, "INT NOT NULL", kindInt},
		{DriverSQLite, "", kindAny},
		{DriverMySQL, "POINT", kindAny},
	}
	for _, tc := range cases {
		if got := kindOf(tc.driver, tc.typ); got != tc.want {
			t.Errorf("kindOf(%s, %q) = %s, want %s", tc.driver, tc.typ, got, tc.want)
		}
	}
}

// TestModes writes a row, then the same key again, in each mode.
func TestModes(t *testing.T) {
	cases := []struct {
		mode      string
		wantScore int
		wantFail  bool
	}{
		{ModeInsert, 1, true},
		{ModeUpsert, 2, false},
		{ModeInsertIgnore, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			cfg := sqliteConfig(t, "scores")
			cfg.Mode = tc.mode
			cfg.Key = []string{"match_id", "player_id"}
			cfg.CreateTable = &CreateTableConfig{Columns: pairs("match_id", "BIGINT", "player_id", "BIGINT", "score", "INT"), PrimaryKey: []string{"match_id", "player_id"}}
			s, _ := openSink(t, cfg)
			first := engine.Batch{Records: []engine.Record{
				rec(`{"match_id":1,"player_id":1,"score":1}`, "s", 0),
				rec(`{"match_id":1,"player_id":2,"score":1}`, "s", 1),
			}}
			if err := s.Write(t.Context(), first); err != nil {
				t.Fatal(err)
			}
			second := engine.Batch{Records: []engine.Record{
				rec(`{"match_id":1,"player_id":1,"score":2}`, "s", 2),
				rec(`{"match_id":1,"player_id":3,"score":2}`, "s", 3),
			}}
			err := s.Write(t.Context(), second)
			if tc.wantFail {
				if got := failedIndices(t, err); !slices.Equal(got, []int{0}) {
					t.Fatalf("failed %v, want [0]: %v", got, err)
				}
				if !strings.Contains(err.Error(), "UNIQUE constraint failed") {
					t.Errorf("error %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			db := rawDB(t, cfg)
			if n := count(t, db, `SELECT COUNT(*) FROM scores`); n != 3 {
				t.Fatalf("%d rows, want 3", n)
			}
			if n := count(t, db, `SELECT score FROM scores WHERE match_id = 1 AND player_id = 1`); n != tc.wantScore {
				t.Fatalf("score %d, want %d", n, tc.wantScore)
			}
		})
	}
}

// TestUpsertRepeatedKeyInBatch: the later record of a key wins, as if the
// records were written one by one.
func TestUpsertRepeatedKeyInBatch(t *testing.T) {
	cfg := sqliteConfig(t, "scores")
	cfg.Mode, cfg.Key = ModeUpsert, []string{"id"}
	cfg.CreateTable = &CreateTableConfig{Columns: pairs("id", "BIGINT", "v", "INT"), PrimaryKey: []string{"id"}}
	s, _ := openSink(t, cfg)
	b := recs(10, 0, func(i int) string { return fmt.Sprintf(`{"id":%d,"v":%d}`, i%3, i) })
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, cfg)
	if n := count(t, db, `SELECT SUM(v) FROM scores`); n != 9+8+7 {
		t.Fatalf("sum %d, want 24", n)
	}
}

// TestNullKey fails a record whose key is missing: a replay could never
// overwrite its row.
func TestNullKey(t *testing.T) {
	cfg := sqliteConfig(t, "scores")
	cfg.Mode, cfg.Key = ModeUpsert, []string{"id"}
	cfg.Columns = pairs("id", "id", "v", "v")
	cfg.CreateTable = &CreateTableConfig{Columns: pairs("id", "BIGINT", "v", "INT"), PrimaryKey: []string{"id"}}
	s, _ := openSink(t, cfg)
	err := s.Write(t.Context(), engine.Batch{Records: []engine.Record{rec(`{"v":1}`, "s", 0), rec(`{"id":1,"v":1}`, "s", 1)}})
	if got := failedIndices(t, err); !slices.Equal(got, []int{0}) || !strings.Contains(err.Error(), "key column id is NULL") {
		t.Fatalf("failed %v: %v", got, err)
	}
}

// TestStatementSplitting lowers the limits and checks that the rows are
// spread over as many statements as they need, all in one transaction.
func TestStatementSplitting(t *testing.T) {
	cases := []struct {
		name          string
		maxParams     int
		maxBytes      int
		rows          int
		minStatements int
		maxStatements int
	}{
		{"one statement", 32766, 4 << 20, 512, 1, 1},
		{"powers of two", 32766, 4 << 20, 500, 6, 6},  // 256+128+64+32+16+4
		{"prepared size", 32766, 4 << 20, 5000, 6, 6}, // 3 columns: 2048+2048+512+256+128+8
		{"placeholders", 30, 4 << 20, 100, 13, 13},    // 10 rows fit: 12 statements of 8, one of 4
		{"bytes", 32766, 2048, 100, 4, 30},
		{"one row per statement", 2, 4 << 20, 7, 7, 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sqliteConfig(t, "split")
			cfg.CreateTable = &CreateTableConfig{Columns: pairs("id", "INTEGER", "name", "TEXT", "pad", "TEXT")}
			s, reg := openSink(t, cfg)
			s.maxParams, s.maxBytes = tc.maxParams, tc.maxBytes
			pad := strings.Repeat("x", 50)
			b := recs(tc.rows, 0, func(i int) string { return fmt.Sprintf(`{"id":%d,"name":"n%d","pad":%q}`, i, i, pad) })
			if err := s.Write(t.Context(), b); err != nil {
				t.Fatal(err)
			}
			got := int(counterValue(t, reg, "sluice_sql_statements_total"))
			if got < tc.minStatements || got > tc.maxStatements {
				t.Errorf("%d statements, want %d to %d", got, tc.minStatements, tc.maxStatements)
			}
			db := rawDB(t, cfg)
			if n := count(t, db, `SELECT COUNT(DISTINCT id) FROM split`); n != tc.rows {
				t.Fatalf("%d rows, want %d", n, tc.rows)
			}
		})
	}
}

// TestStatementsKept: batches of every size from 1 to 300 rows are written
// with the prepared statements of 9 sizes, 1 to 256 rows; past the bound
// of the placeholders kept (with a table per batch), statements are closed
// and prepared again, and every row is written all the same.
func TestStatementsKept(t *testing.T) {
	cfg := sqliteConfig(t, "kept_{{ t }}")
	cfg.Columns = pairs("id", "id", "name", "name")
	cfg.CreateTable = &CreateTableConfig{Columns: pairs("id", "INTEGER", "name", "TEXT")}
	s, reg := openSink(t, cfg)
	kept := func() (n, prepared, params int) {
		s.tmu.Lock()
		defer s.tmu.Unlock()
		for _, st := range s.stmts {
			n++
			if st.prepared != nil {
				prepared++
				params += st.params
			}
		}
		if params != s.stmtParams {
			t.Fatalf("%d placeholders prepared, the sink counts %d", params, s.stmtParams)
		}
		return n, prepared, params
	}
	id := 0
	batch := func(table string, n int) engine.Batch {
		b := recs(n, int64(id), func(i int) string { return fmt.Sprintf(`{"t":%q,"id":%d,"name":"n%d"}`, table, id+i, id+i) })
		id += n
		return b
	}
	for n := 1; n <= 300; n++ {
		if err := s.Write(t.Context(), batch("a", n)); err != nil {
			t.Fatal(err)
		}
	}
	if n, prepared, params := kept(); n != 9 || prepared != 9 || params != 2*511 {
		t.Fatalf("%d statements kept, %d prepared with %d placeholders; want 9 prepared, 1022 placeholders", n, prepared, params)
	}
	before := counterValue(t, reg, "sluice_sql_statements_total")
	s.cacheParams = 600 // 256 rows of 2 columns and little more
	for i := range 5 {
		if err := s.Write(t.Context(), batch(fmt.Sprintf("b%d", i), 300)); err != nil {
			t.Fatal(err)
		}
		if _, _, params := kept(); params > s.cacheParams {
			t.Fatalf("%d placeholders prepared, more than %d", params, s.cacheParams)
		}
	}
	if got := counterValue(t, reg, "sluice_sql_statements_total") - before; got != 5*4 { // 256+32+8+4
		t.Errorf("%v statements, want 20", got)
	}
	db := rawDB(t, cfg)
	total := count(t, db, `SELECT COUNT(*) FROM kept_a`)
	for i := range 5 {
		total += count(t, db, fmt.Sprintf(`SELECT COUNT(*) FROM kept_b%d`, i))
	}
	if total != id {
		t.Fatalf("%d rows, want %d", total, id)
	}
}

// TestChunkPostgresUpsert: a postgres upsert statement never holds one key
// twice.
func TestChunkPostgresUpsert(t *testing.T) {
	s := &Sink{d: dialects[DriverPostgres], maxParams: 65535, maxBytes: 1 << 20}
	g := &group{info: &tableInfo{name: "t"}, cols: []column{{name: "id"}, {name: "v"}}}
	var rows []row
	for i, k := range []string{"a", "b", "a", "c", "b", "d"} {
		rows = append(rows, row{idx: i, key: k, size: 10})
	}
	var sizes []int
	for rest := rows; len(rest) > 0; {
		n := s.chunk(g, rest)
		sizes = append(sizes, n)
		rest = rest[n:]
	}
	if !slices.Equal(sizes, []int{2, 4}) {
		t.Fatalf("chunks %v, want [2 4]", sizes)
	}
}

// TestBisection writes 1000 records of which 3 violate NOT NULL: the 997
// others are committed and the BatchError names exactly the 3.
func TestBisection(t *testing.T) {
	cfg := sqliteConfig(t, "results")
	cfg.Columns = pairs("id", "id", "score", "score")
	cfg.CreateTable = &CreateTableConfig{Columns: pairs("id", "INTEGER", "score", "INTEGER NOT NULL"), PrimaryKey: []string{"id"}}
	s, reg := openSink(t, cfg)
	poison := []int{17, 500, 999}
	b := recs(1000, 0, func(i int) string {
		if slices.Contains(poison, i) {
			return fmt.Sprintf(`{"id":%d}`, i)
		}
		return fmt.Sprintf(`{"id":%d,"score":%d}`, i, i)
	})
	err := s.Write(t.Context(), b)
	if got := failedIndices(t, err); !slices.Equal(got, poison) {
		t.Fatalf("failed %v, want %v", got, poison)
	}
	if e := errorOf(err, 500); !strings.Contains(e.Error(), "NOT NULL constraint failed: results.score") {
		t.Errorf("error %v", e)
	}
	db := rawDB(t, cfg)
	if n := count(t, db, `SELECT COUNT(*) FROM results`); n != 997 {
		t.Fatalf("%d rows, want 997", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM results WHERE id IN (17, 500, 999)`); n != 0 {
		t.Fatalf("%d poison rows written", n)
	}
	if got := counterValue(t, reg, "sluice_sql_bisections_total"); got != 1 {
		t.Errorf("bisections %v, want 1", got)
	}
	// 1 failed statement, then the bisection: about 2·3·log2(1000) more.
	if got := counterValue(t, reg, "sluice_sql_statements_total"); got > 80 {
		t.Errorf("%v statements for 3 bad rows in 1000", got)
	}
}

// TestBisectionAcrossTables finds bad rows in several tables and chunks.
func TestBisectionAcrossTables(t *testing.T) {
	cfg := sqliteConfig(t, "r_{{ day }}")
	cfg.Columns = pairs("id", "id", "score", "score")
	cfg.CreateTable = &CreateTableConfig{Columns: pairs("id", "INTEGER", "score", "INTEGER NOT NULL")}
	s, _ := openSink(t, cfg)
	s.maxParams = 20 // 10 rows per statement
	b := recs(200, 0, func(i int) string {
		day := []string{"a", "b", "c"}[i%3]
		if i%37 == 5 {
			return fmt.Sprintf(`{"id":%d,"day":%q}`, i, day)
		}
		return fmt.Sprintf(`{"id":%d,"day":%q,"score":1}`, i, day)
	})
	err := s.Write(t.Context(), b)
	var want []int
	for i := range 200 {
		if i%37 == 5 {
			want = append(want, i)
		}
	}
	if got := failedIndices(t, err); !slices.Equal(got, want) {
		t.Fatalf("failed %v, want %v", got, want)
	}
	db := rawDB(t, cfg)
	total := 0
	for _, day := range []string{"a", "b", "c"} {
		total += count(t, db, `SELECT COUNT(*) FROM r_`+day)
	}
	if total != 200-len(want) {
		t.Fatalf("%d rows, want %d", total, 200-len(want))
	}
}

// TestExactlyOnce writes a batch twice in insert mode: the rows are there
// once, and Positions returns the largest offset of each stream.
func TestExactlyOnce(t *testing.T) {
	cfg := sqliteConfig(t, "events")
	cfg.ExactlyOnce = true
	cfg.CreateTable = &CreateTableConfig{Columns: pairs("id", "INTEGER", "v", "INTEGER NOT NULL")}
	s, reg := openSink(t, cfg)
	if pos, ok, err := s.Positions(t.Context()); err != nil || !ok || len(pos) != 0 {
		t.Fatalf("Positions = %v, %v, %v", pos, ok, err)
	}
	var rs []engine.Record
	for i := range 100 {
		stream := []string{"events/0", "events/1"}[i%2]
		v := fmt.Sprintf(`{"id":%d,"v":%d}`, i, i)
		if i == 99 {
			v = `{"id":99}` // fails: its offset is not stored
		}
		rs = append(rs, rec(v, stream, int64(1000+i/2)))
	}
	b := engine.Batch{Records: rs}
	err := s.Write(t.Context(), b)
	if got := failedIndices(t, err); !slices.Equal(got, []int{99}) {
		t.Fatalf("failed %v: %v", got, err)
	}
	// A replay: nothing written twice, the failed record fails again.
	err = s.Write(t.Context(), engine.Batch{Records: slices.Clone(rs)})
	if got := failedIndices(t, err); !slices.Equal(got, []int{99}) {
		t.Fatalf("replay failed %v: %v", got, err)
	}
	db := rawDB(t, cfg)
	if n := count(t, db, `SELECT COUNT(*) FROM events`); n != 99 {
		t.Fatalf("%d rows, want 99", n)
	}
	pos, ok, err := s.Positions(t.Context())
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if want := map[string]int64{"events/0": 1049, "events/1": 1048}; fmt.Sprint(pos) != fmt.Sprint(want) {
		t.Fatalf("Positions = %v, want %v", pos, want)
	}
	if got := counterValue(t, reg, "sluice_sql_skipped_records_total"); got != 99 {
		t.Errorf("skipped %v, want 99", got)
	}
	// A batch overlapping the stored positions writes only what is new.
	var more []engine.Record
	for off := int64(1040); off < 1060; off++ {
		more = append(more, rec(fmt.Sprintf(`{"id":%d,"v":0}`, 2000+off), "events/0", off))
	}
	if err := s.Write(t.Context(), engine.Batch{Records: more}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM events WHERE id >= 2000`); n != 10 {
		t.Fatalf("%d new rows, want 10", n)
	}
	if n := count(t, db, `SELECT "offset" FROM sluice_positions WHERE pipeline = 'test-pipeline' AND stream = 'events/0'`); n != 1059 {
		t.Fatalf("stored offset %d, want 1059", n)
	}
	// Positions survive a new sink.
	s.Close(t.Context())
	s2, _ := openSink(t, cfg)
	pos, _, err = s2.Positions(t.Context())
	if err != nil || pos["events/0"] != 1059 || pos["events/1"] != 1048 {
		t.Fatalf("Positions after reopen = %v, %v", pos, err)
	}
}

// TestPositionsOff: without exactly_once the sink keeps no positions.
func TestPositionsOff(t *testing.T) {
	cfg := sqliteConfig(t, "t")
	cfg.CreateTable = &CreateTableConfig{Columns: pairs("id", "INTEGER")}
	s, _ := openSink(t, cfg)
	if _, ok, err := s.Positions(t.Context()); ok || err != nil {
		t.Fatalf("Positions ok = %v, err = %v", ok, err)
	}
	var _ engine.PositionKeeper = s
}

// TestTemplatedTable routes the rows of one batch to a table per day,
// created on first use, and fails the records whose table cannot be
// rendered or is not a legal name.
func TestTemplatedTable(t *testing.T) {
	cfg := sqliteConfig(t, "results_{{ day }}")
	cfg.Columns = pairs("id", "id")
	cfg.CreateTable = &CreateTableConfig{Columns: pairs("id", "INTEGER")}
	s, _ := openSink(t, cfg)
	b := engine.Batch{Records: []engine.Record{
		rec(`{"id":1,"day":"20240501"}`, "s", 0),
		rec(`{"id":2,"day":"20240502"}`, "s", 1),
		rec(`{"id":3,"day":"20240501"}`, "s", 2),
		rec(`{"id":4}`, "s", 3),
		rec(`{"id":5,"day":"x; DROP TABLE y"}`, "s", 4),
	}}
	err := s.Write(t.Context(), b)
	if got := failedIndices(t, err); !slices.Equal(got, []int{3, 4}) {
		t.Fatalf("failed %v: %v", got, err)
	}
	db := rawDB(t, cfg)
	if n := count(t, db, `SELECT COUNT(*) FROM results_20240501`); n != 2 {
		t.Fatalf("%d rows in results_20240501", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM results_20240502`); n != 1 {
		t.Fatalf("%d rows in results_20240502", n)
	}
}

// TestMissingTable: Open fails for a missing table that is not a template;
// a template rendering to a missing table fails those records permanently.
func TestMissingTable(t *testing.T) {
	cfg := sqliteConfig(t, "nope")
	s, _ := newSink(t, cfg)
	err := s.Open(t.Context())
	if err == nil || !strings.Contains(err.Error(), "table nope: table does not exist") {
		t.Fatalf("Open: %v", err)
	}
	cfg.Table = "t_{{ day }}"
	cfg.Columns = pairs("id", "id")
	s, _ = openSink(t, cfg)
	db := rawDB(t, cfg)
	mustExec(t, db, `CREATE TABLE t_a (id INTEGER)`)
	err = s.Write(t.Context(), engine.Batch{Records: []engine.Record{rec(`{"id":1,"day":"a"}`, "s", 0), rec(`{"id":2,"day":"b"}`, "s", 1)}})
	if got := failedIndices(t, err); !slices.Equal(got, []int{1}) || !strings.Contains(err.Error(), "table t_b: table does not exist") {
		t.Fatalf("failed %v: %v", got, err)
	}
}

// TestMissingColumn: Open fails when the table lacks a configured column.
func TestMissingColumn(t *testing.T) {
	cfg := sqliteConfig(t, "t")
	cfg.CreateTable = &CreateTableConfig{Columns: pairs("id", "INTEGER", "other", "TEXT")}
	openSink(t, cfg)
	cfg.CreateTable = nil
	cfg.Columns = pairs("id", "id", "name", "name")
	s, _ := newSink(t, cfg)
	if err := s.Open(t.Context()); err == nil || !strings.Contains(err.Error(), "has no column name") {
		t.Fatalf("Open: %v", err)
	}
}

// TestCreateTable creates the declared table with its primary key.
func TestCreateTable(t *testing.T) {
	cfg := sqliteConfig(t, "match_results")
	cfg.Mode, cfg.Key = ModeUpsert, []string{"match_id", "player_id"}
	cfg.CreateTable = &CreateTableConfig{
		Columns:    pairs("match_id", "BIGINT", "player_id", "BIGINT", "score", "INT", "nick", "VARCHAR(32) NOT NULL", "settled_at", "TIMESTAMP"),
		PrimaryKey: []string{"match_id", "player_id"},
	}
	s, _ := openSink(t, cfg)
	db := rawDB(t, cfg)
	var ddl string
	if err := db.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'match_results'`).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	want := `CREATE TABLE "match_results" ("match_id" BIGINT, "player_id" BIGINT, "score" INT, "nick" VARCHAR(32) NOT NULL, "settled_at" TIMESTAMP, PRIMARY KEY ("match_id", "player_id"))`
	if ddl != want {
		t.Fatalf("DDL\n got %s\nwant %s", ddl, want)
	}
	// A second sink finds it there.
	s.Close(t.Context())
	openSink(t, cfg)
}

func TestValidate(t *testing.T) {
	valid := func() Config {
		c := Defaults()
		c.Driver, c.DSN, c.Table = DriverMySQL, "u:p@tcp(db:3306)/games", "match_results"
		return c
	}
	cases := []struct {
		name  string
		edit  func(*Config)
		wants []string
	}{
		{"valid", func(*Config) {}, nil},
		{"valid template", func(c *Config) { c.Table = "results_{{ day }}" }, nil},
		{"valid schema", func(c *Config) { c.Table = "games.results" }, nil},
		{"required", func(c *Config) { *c = Defaults() },
			[]string{`driver: expected mysql, postgres or sqlite, got ""`, "dsn: a connection string is required", "table: a table name or template is required"}},
		{"names", func(c *Config) {
			c.Table = "match-results"
			c.Columns = pairs("ok", "a", "bad name", "b", "x", " ")
			c.Key = []string{"ok", "ok", "zz"}
			c.PositionsTable = strings.Repeat("p", 65)
		}, []string{
			`table: "match-results": only letters, digits and _ are allowed`,
			`columns.bad name: "bad name": only letters`,
			"columns.x: an expression is required",
			"key[1]: column ok is repeated",
			"key[2]: column zz is not among columns",
			"positions_table: \"" + strings.Repeat("p", 65) + "\": longer than 64 characters",
		}},
		{"postgres 63", func(c *Config) { c.Driver, c.DSN, c.Table = DriverPostgres, "postgres://x", strings.Repeat("t", 64) },
			[]string{"longer than 63 characters"}},
		{"schema twice", func(c *Config) { c.Table = "a.b.c" }, []string{"at most one dot"}},
		{"upsert without key", func(c *Config) { c.Mode = ModeUpsert }, []string{"key: upsert needs the key columns"}},
		{"mode", func(c *Config) { c.Mode = "merge" }, []string{`mode: expected insert, upsert or insert_ignore, got "merge"`}},
		{"limits", func(c *Config) { c.MaxOpenConns, c.MaxStatementBytes, c.ConnectTimeout = -1, 10, 0 },
			[]string{"max_open_conns: must not be negative", "max_statement_bytes: expected at least 1KiB", "connect_timeout: expected a positive duration"}},
		{"bad mysql dsn", func(c *Config) { c.DSN = "u:s3cretpw@tcp(db:3306" }, []string{"dsn: not a go-sql-driver/mysql DSN"}},
		{"create_table", func(c *Config) {
			c.Mode, c.Key = ModeUpsert, []string{"a"}
			c.Columns = pairs("a", "a", "c", "c")
			c.CreateTable = &CreateTableConfig{Columns: pairs("a", "BIGINT", "b", "INT; DROP TABLE x", "d", "DECIMAL(10, 2)", "e", "VARCHAR(8) NOT NULL"), PrimaryKey: []string{"a", "z"}}
		}, []string{
			`create_table.columns.b: expected a type such as BIGINT`,
			"create_table.primary_key[1]: column z is not among create_table.columns",
			"columns.c: column is not among create_table.columns",
			"create_table.primary_key: must be the key columns [a]",
		}},
		{"create_table empty", func(c *Config) { c.CreateTable = &CreateTableConfig{} }, []string{"create_table.columns: at least one column is required"}},
		{"tls on postgres", func(c *Config) { c.Driver, c.DSN = DriverPostgres, "postgres://x"; c.TLS.Enabled = true },
			[]string{"tls: only for mysql; for postgres set sslmode"}},
		{"tls half", func(c *Config) { c.TLS = TLSConfig{CAFile: "ca.pem", CertFile: "c.pem"} },
			[]string{"tls.enabled: must be true"}},
		{"tls cert without key", func(c *Config) { c.TLS = TLSConfig{Enabled: true, CertFile: "c.pem"} },
			[]string{"tls: cert_file and key_file go together"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.edit(&c)
			err := c.Validate()
			if len(tc.wants) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate passed")
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "s3cretpw") {
				t.Errorf("error shows the password: %v", err)
			}
			var fe *spec.FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error is not a spec.FieldError: %T", err)
			}
		})
	}
}

func TestCheckIdent(t *testing.T) {
	for _, ok := range []string{"a", "match_results", "A1", "1a", "_x", strings.Repeat("a", 64)} {
		if err := checkIdent(ok, 64, false); err != nil {
			t.Errorf("checkIdent(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a-b", "a b", "a;b", "a`b", `a"b`, "é", "a.b", strings.Repeat("a", 65)} {
		if err := checkIdent(bad, 64, false); err == nil {
			t.Errorf("checkIdent(%q) passed", bad)
		}
	}
	if err := checkIdent("games.results", 64, true); err != nil {
		t.Error(err)
	}
	if got := dialects[DriverMySQL].quote("games.results"); got != "`games`.`results`" {
		t.Errorf("quote = %s", got)
	}
	if got := dialects[DriverPostgres].quote("offset"); got != `"offset"` {
		t.Errorf("quote = %s", got)
	}
}

// TestNew compiles the table template and the column expressions.
func TestNew(t *testing.T) {
	cfg := sqliteConfig(t, "t_{{ day ")
	cfg.Columns = pairs("a", "a +", "b", "nofunc(b)")
	_, err := New(cfg, engine.TestEnv())
	if err == nil {
		t.Fatal("New passed")
	}
	for _, w := range []string{"table: ", "columns.a: ", "columns.b: "} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not mention %q: %v", w, err)
		}
	}
}

// TestNotOpen: Write and Positions before Open ask for a reconnect.
func TestNotOpen(t *testing.T) {
	cfg := sqliteConfig(t, "t")
	cfg.ExactlyOnce = true
	s, _ := newSink(t, cfg)
	if err := s.Write(t.Context(), recs(1, 0, func(int) string { return `{}` })); !errors.Is(err, engine.ErrNotConnected) {
		t.Fatalf("Write: %v", err)
	}
	if _, _, err := s.Positions(t.Context()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Positions: %v", err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestSecretNotInErrors: the password of the dsn appears in no error, nor
// in %v of the config.
func TestSecretNotInErrors(t *testing.T) {
	const pw = "s3cretpw"
	cases := []struct {
		driver, dsn string
	}{
		{DriverMySQL, "sluice:" + pw + "@tcp(127.0.0.1:1)/x"},
		{DriverPostgres, "postgres://sluice:" + pw + "@127.0.0.1:1/x?sslmode=disable"},
		{DriverPostgres, "host=127.0.0.1 port=1 user=sluice password=" + pw + " sslmode=disable"},
		{DriverPostgres, "postgres://sluice:" + pw + "@127.0.0.1:1/x?sslmode=bogus"},
	}
	for _, tc := range cases {
		t.Run(tc.driver, func(t *testing.T) {
			cfg := Defaults()
			cfg.Driver, cfg.DSN, cfg.Table = tc.driver, spec.Secret(tc.dsn), "t"
			cfg.ConnectTimeout = 2 * time.Second
			s, _ := newSink(t, cfg)
			err := s.Open(t.Context())
			if err == nil {
				t.Fatal("Open passed")
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), pw) {
				t.Fatalf("password shown: %v", err)
			}
		})
	}
	if got := redact(errors.New("cannot parse `x:"+pw+"@y`"), pw).Error(); strings.Contains(got, pw) {
		t.Fatal(got)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		permanent bool
	}{
		{"mysql data too long", &mysql.MySQLError{Number: 1406, SQLState: [5]byte{'2', '2', '0', '0', '1'}}, true},
		{"mysql not null", &mysql.MySQLError{Number: 1048, SQLState: [5]byte{'2', '3', '0', '0', '0'}}, true},
		{"mysql bad value", &mysql.MySQLError{Number: 1366}, true},
		{"mysql truncated", &mysql.MySQLError{Number: 1292}, true},
		{"mysql duplicate", &mysql.MySQLError{Number: 1062}, true},
		{"mysql fk", &mysql.MySQLError{Number: 1452}, true},
		{"mariadb check", &mysql.MySQLError{Number: 4025, SQLState: [5]byte{'2', '3', '0', '0', '0'}}, true},
		{"mysql deadlock", &mysql.MySQLError{Number: 1213, SQLState: [5]byte{'4', '0', '0', '0', '1'}}, false},
		{"mysql lock wait", &mysql.MySQLError{Number: 1205, SQLState: [5]byte{'H', 'Y', '0', '0', '0'}}, false},
		{"mysql gone", &mysql.MySQLError{Number: 2006}, false},
		{"mysql lost", &mysql.MySQLError{Number: 2013}, false},
		{"mysql read only", &mysql.MySQLError{Number: 1290}, false},
		{"mysql invalid conn", mysql.ErrInvalidConn, false},
		{"bad conn", driver.ErrBadConn, false},
		{"eof", io.EOF, false},
		{"pg not null", &pgconn.PgError{Code: "23502"}, true},
		{"pg too long", &pgconn.PgError{Code: "22001"}, true},
		{"pg twice", &pgconn.PgError{Code: "21000"}, true},
		{"pg serialization", &pgconn.PgError{Code: "40001"}, false},
		{"pg deadlock", &pgconn.PgError{Code: "40P01"}, false},
		{"pg admin shutdown", &pgconn.PgError{Code: "57P01"}, false},
		{"pg connection", &pgconn.PgError{Code: "08006"}, false},
		{"wrapped", fmt.Errorf("write: %w", &pgconn.PgError{Code: "23505"}), true},
		{"context", context.DeadlineExceeded, false},
	}
	for _, tc := range cases {
		if got := classify(tc.err); got != tc.permanent {
			t.Errorf("%s: classify = %v, want %v", tc.name, got, tc.permanent)
		}
	}
}

// TestGoldenSQL keeps the statements of every dialect and mode in
// testdata; refresh with go test ./sinks/sql -run TestGoldenSQL -update.
func TestGoldenSQL(t *testing.T) {
	cols := []string{"match_id", "player_id", "score", "settled_at"}
	key := []string{"match_id", "player_id"}
	for _, name := range []string{DriverMySQL, DriverPostgres, DriverSQLite} {
		d := dialects[name]
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			for _, mode := range []string{ModeInsert, ModeUpsert, ModeInsertIgnore} {
				fmt.Fprintf(&b, "-- %s, 2 rows\n%s;\n\n", mode, d.insert("match_results", cols, 2, mode, key))
			}
			fmt.Fprintf(&b, "-- upsert, every column in the key\n%s;\n\n", d.insert("seen", key, 2, ModeUpsert, key))
			fmt.Fprintf(&b, "-- create_table\n%s;\n\n", d.createTable("games.match_results",
				[][2]string{{"match_id", "BIGINT"}, {"player_id", "BIGINT"}, {"score", "INT"}, {"settled_at", "TIMESTAMP"}}, key))
			fmt.Fprintf(&b, "-- exactly_once: positions table\n%s;\n\n", d.createPositions("sluice_positions"))
			fmt.Fprintf(&b, "-- exactly_once: create the rows of 2 streams\n%s;\n\n", d.ensurePositions("sluice_positions", 2))
			fmt.Fprintf(&b, "-- exactly_once: lock them\n%s;\n\n", d.lockPositions("sluice_positions", 2))
			fmt.Fprintf(&b, "-- exactly_once: save 2 offsets\n%s;\n\n", d.savePositions("sluice_positions", 2))
			fmt.Fprintf(&b, "-- Positions\n%s;\n\n", d.readPositions("sluice_positions"))
			fmt.Fprintf(&b, "-- column types\n%s;\n", d.probe("match_results"))
			golden := filepath.Join("testdata", name+".sql")
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if b.String() != string(want) {
				t.Errorf("statements differ from %s (run with -update to accept):\n%s", golden, b.String())
			}
		})
	}
}

// TestCancelledWrite: a Write whose context ends writes nothing and says
// so.
func TestCancelledWrite(t *testing.T) {
	cfg := sqliteConfig(t, "t")
	cfg.CreateTable = &CreateTableConfig{Columns: pairs("id", "INTEGER")}
	s, _ := openSink(t, cfg)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Write(ctx, recs(5, 0, func(i int) string { return fmt.Sprintf(`{"id":%d}`, i) })); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write: %v", err)
	}
}

// TestExactlyOnceOutOfOrder: batches of a stream that arrive out of order
// are all written; replays within the process, after a restart and after
// a rebalance to another instance and back write nothing twice.
func TestExactlyOnceOutOfOrder(t *testing.T) {
	cfg := sqliteConfig(t, "events")
	cfg.ExactlyOnce = true
	cfg.Columns = pairs("id", "id")
	cfg.CreateTable = &CreateTableConfig{Columns: pairs("id", "INTEGER")}
	// Records of stream "p" at offsets [from, to), every third one filtered
	// out before the sink.
	batch := func(from, to int) engine.Batch {
		var rs []engine.Record
		for o := from; o < to; o++ {
			if o%3 != 2 {
				rs = append(rs, rec(fmt.Sprintf(`{"id":%d}`, o), "p", int64(o)))
			}
		}
		return engine.Batch{Records: rs}
	}
	x, _ := openSink(t, cfg)
	db := rawDB(t, cfg)
	rows := func() (n, distinct int) {
		t.Helper()
		if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT id) FROM events`).Scan(&n, &distinct); err != nil {
			t.Fatal(err)
		}
		return n, distinct
	}
	write := func(s *Sink, from, to int) {
		t.Helper()
		if err := s.Write(t.Context(), batch(from, to)); err != nil {
			t.Fatal(err)
		}
	}
	want := func(n int) {
		t.Helper()
		if got, distinct := rows(); got != n || distinct != n {
			t.Fatalf("%d rows (%d distinct), want %d", got, distinct, n)
		}
	}
	kept := func(from, to int) int { return len(batch(from, to).Records) }

	write(x, 100, 200) // ahead of 0-100
	write(x, 200, 300)
	write(x, 0, 100) // late: written
	want(kept(0, 300))
	write(x, 50, 250) // replay within the process: revoked and assigned again
	want(kept(0, 300))

	y, _ := openSink(t, cfg) // a restart, or another instance after a rebalance
	write(y, 0, 300)
	want(kept(0, 300))
	write(y, 300, 400)
	write(x, 250, 420) // back to x, which must see y's writes
	want(kept(0, 420))

	// Out of order by more than the window: lost, as documented.
	x.window = 30 // two batches of 14
	write(x, 500, 520)
	write(x, 520, 540)
	write(x, 480, 500)
	want(kept(0, 420) + kept(480, 540))
	write(x, 440, 480) // older than the window: skipped
	want(kept(0, 420) + kept(480, 540))
}
