package sql

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
)

// FuzzRowMapping maps arbitrary JSON objects to rows of a table with a
// column of every kind, both with every field a column and with columns
// computed by expressions: no input may panic, every value that is written
// has a type the drivers take, and every failure is a permanent error of
// the record.
func FuzzRowMapping(f *testing.F) {
	for _, seed := range []string{
		`{"i":1,"f":1.5,"d":"1.25","b":true,"s":"x","t":"2024-05-01T12:00:00Z","j":{"a":[1,2]},"y":"bytes","a":null}`,
		`{"i":"42","f":"1e308","b":"false","t":1714564800000,"j":"text"}`,
		`{"i":1e300,"f":"NaN","b":2,"t":"yesterday","s":{"x":[]}}`,
		`{"i":-9223372036854775808,"f":-0.0,"t":-1e18}`,
		`{"i":18446744073709551615,"d":"1,5"}`,
		`[1,2,3]`, `null`, `"s"`, `{}`, `{"":1,"a b":2}`,
	} {
		f.Add([]byte(seed))
	}
	cols := []column{
		{name: "i", kind: kindInt}, {name: "f", kind: kindFloat}, {name: "d", kind: kindDecimal},
		{name: "b", kind: kindBool}, {name: "s", kind: kindString}, {name: "t", kind: kindTime},
		{name: "j", kind: kindJSON}, {name: "y", kind: kindBytes}, {name: "a", kind: kindAny},
	}
	all := &Sink{d: dialects[DriverSQLite]}
	cfg := Defaults()
	cfg.Driver, cfg.DSN, cfg.Table = DriverSQLite, "file:unused.db", "t"
	cfg.Columns = pairs("i", "i", "f", "f * 2", "d", "d", "b", "b", "s", "s", "t", "t", "j", "j", "y", "y", "a", "a")
	mapped, err := New(cfg, engine.TestEnv())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := engine.NewRecord(data, jsonCodec)
		fields, err := r.Fields()
		if err != nil {
			if !engine.IsPermanent(err) {
				t.Fatalf("decode error is not permanent: %v", err)
			}
			return
		}
		for _, s := range []*Sink{all, mapped} {
			row, err := s.row(cols, rowFields{m: fields}, []int{0}, true, make([]any, len(cols)))
			if err != nil {
				// Conversion errors name their column; expression errors
				// name the column they compute.
				var ce *convertError
				if !errors.As(err, &ce) && !strings.HasPrefix(err.Error(), "columns.") && !strings.HasPrefix(err.Error(), "key column") {
					t.Fatalf("unexpected error %T: %v", err, err)
				}
				continue
			}
			if len(row.vals) != len(cols) {
				t.Fatalf("%d values for %d columns", len(row.vals), len(cols))
			}
			for i, v := range row.vals {
				switch v.(type) {
				case nil, bool, int64, float64, string, []byte, time.Time:
				default:
					t.Fatalf("column %s: value of type %T", cols[i].name, v)
				}
			}
			if row.vals[0] == nil {
				t.Fatal("a NULL key passed")
			}
		}
	})
}
