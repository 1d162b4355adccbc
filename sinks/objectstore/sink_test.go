package objectstore

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	dto "github.com/prometheus/client_model/go"
	"go.yaml.in/yaml/v3"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/enginetest"
	"github.com/sluicehq/sluice/engine/spec"
	"github.com/sluicehq/sluice/internal/bucket"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestSinkConformance runs the engine's sink suite on a file:// bucket in
// JSONL: Read lists the bucket and reads every line of every object.
func TestSinkConformance(t *testing.T) {
	var dir string
	enginetest.SinkSuite(t, enginetest.SinkHarness{
		Reset: func(t *testing.T) { dir = t.TempDir() },
		New: func(t *testing.T) engine.Sink {
			cfg := Defaults()
			cfg.URL = "file://" + dir
			cfg.Format = FormatJSONL
			cfg.Path = "archive/"
			s, err := New(cfg, engine.TestEnv())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Read: func(t *testing.T) [][]byte {
			s := openSink(t, Config{URL: "file://" + dir, Format: FormatJSONL, RowGroupSize: 1})
			var out [][]byte
			for _, k := range keys(t, s.bucket) {
				out = append(out, readLines(t, s.bucket, k)...)
			}
			return out
		},
		Idempotent: true,
	})
}

func TestJSONLRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		compression, ext, contentType string
	}{
		{"", ".jsonl", "application/x-ndjson"},
		{"gzip", ".jsonl.gz", "application/gzip"},
		{"zstd", ".jsonl.zst", "application/zstd"},
	} {
		t.Run("compression="+tc.compression, func(t *testing.T) {
			cfg := Defaults()
			cfg.URL, cfg.Format, cfg.Compression = "mem://", FormatJSONL, tc.compression
			s := openSink(t, cfg)
			var want [][]byte
			for b := range 3 {
				recs := make([]engine.Record, 100)
				for i := range recs {
					n := b*100 + i
					v := fmt.Sprintf(`{"n":%d,"s":"x\u00e9%d"}`, n, n)
					want = append(want, []byte(v))
					recs[i] = rec(v, "topic/0", int64(n))
				}
				if err := s.Write(t.Context(), engine.Batch{Records: recs}); err != nil {
					t.Fatal(err)
				}
			}
			ks := keys(t, s.bucket)
			if len(ks) != 3 {
				t.Fatalf("objects %s, want 3", fmtKeys(ks))
			}
			var got [][]byte
			for _, k := range ks {
				if !strings.HasSuffix(k, tc.ext) {
					t.Errorf("object %s does not end with %s", k, tc.ext)
				}
				a, err := s.bucket.Attributes(t.Context(), k)
				if err != nil {
					t.Fatal(err)
				}
				if a.ContentType != tc.contentType {
					t.Errorf("%s: content type %q, want %q", k, a.ContentType, tc.contentType)
				}
				if a.Metadata["sluice-records"] != "100" || !strings.HasPrefix(a.Metadata["sluice-positions"], "topic/0@") {
					t.Errorf("%s: metadata %v", k, a.Metadata)
				}
				got = append(got, readLines(t, s.bucket, k)...)
			}
			// Names sort in offset order, so the objects read in order.
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("read back %d lines, differing from the %d written", len(got), len(want))
			}
		})
	}
}

// TestJSONLChangedAndMultiline checks that a record changed by a transform
// is written as re-encoded, and that a pretty-printed JSON value is put on
// one line.
func TestJSONLChangedAndMultiline(t *testing.T) {
	s := openSink(t, Config{URL: "mem://", Format: FormatJSONL, RowGroupSize: 1})
	r0 := rec(`{"a":1}`, "s", 0)
	f, _ := r0.Fields()
	f["b"] = "two"
	r0.MarkChanged()
	r1 := rec("{\n  \"c\": 3\n}", "s", 1)
	r2 := engine.NewRecord([]byte("not\njson"), nil)
	r2.Source = engine.Position{Stream: "s", Offset: 2}
	err := s.Write(t.Context(), engine.Batch{Records: []engine.Record{r0, r1, r2}})
	var be *engine.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 1 || be.Failed[0].Index != 2 || !engine.IsPermanent(be.Failed[0].Err) {
		t.Fatalf("err = %v, want record 2 failed permanently", err)
	}
	ks := keys(t, s.bucket)
	if len(ks) != 1 {
		t.Fatalf("objects %s", fmtKeys(ks))
	}
	got := readLines(t, s.bucket, ks[0])
	want := []string{`{"a":1,"b":"two"}`, `{"c":3}`}
	if len(got) != 2 || string(got[0]) != want[0] || string(got[1]) != want[1] {
		t.Fatalf("lines %q, want %q", got, want)
	}
}

func TestParquetDeclaredSchema(t *testing.T) {
	cfg := Defaults()
	cfg.URL = "file://" + t.TempDir()
	cfg.Schema = mustSchema(t, eventSchema)
	cfg.RowGroupSize = 100
	s := openSink(t, cfg)
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	b, _ := eventBatch(250, "game-events/3", 1000, base)
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	ks := keys(t, s.bucket)
	if len(ks) != 1 || !strings.HasSuffix(ks[0], "-00000000000000001000-00000000000000001249.parquet") {
		t.Fatalf("objects %s", fmtKeys(ks))
	}
	tbl, groups := readParquet(t, s.bucket, ks[0])
	if tbl.NumRows() != 250 || groups != 3 {
		t.Fatalf("%d rows in %d row groups, want 250 in 3", tbl.NumRows(), groups)
	}
	sc := tbl.Schema()
	wantTypes := map[string]arrow.DataType{
		"event_id":   arrow.BinaryTypes.String,
		"ts":         timestampType,
		"player_id":  arrow.PrimitiveTypes.Int64,
		"score":      arrow.PrimitiveTypes.Int32,
		"latency_ms": arrow.PrimitiveTypes.Float64,
	}
	for name, want := range wantTypes {
		fs, ok := sc.FieldsByName(name)
		if !ok || !arrow.TypeEqual(fs[0].Type, want) {
			t.Errorf("column %s: %v, want %v", name, fs, want)
		}
	}
	if got := sc.Field(0).Name; got != "event_id" {
		t.Errorf("first column %s, want event_id (declared order)", got)
	}
	// Compare every row with the record it came from.
	rows := tableRows(t, tbl)
	for i, row := range rows {
		f, err := b.Records[i].Fields()
		if err != nil {
			t.Fatal(err)
		}
		ts, _ := time.Parse(time.RFC3339Nano, f["ts"].(string))
		dev := f["device"].(map[string]any)
		want := map[string]any{
			"event_id": f["event_id"], "event": f["event"], "ts": ts.UnixMilli(),
			"player_id": f["player_id"], "match_id": f["match_id"], "region": f["region"],
			"platform": f["platform"], "latency_ms": f["latency_ms"],
			"score": int32(f["score"].(int64)), "level": int32(f["level"].(int64)),
			"device": map[string]any{"os": dev["os"], "ver": dev["ver"]},
			"tags":   f["tags"],
		}
		if lat, ok := want["latency_ms"].(int64); ok {
			want["latency_ms"] = float64(lat)
		}
		if !reflect.DeepEqual(row, want) {
			t.Fatalf("row %d:\n got %v\nwant %v", i, row, want)
		}
	}
}

// TestParquetInferred writes records whose types are inferred: integers
// stay int64, a field with an integer and then a fraction widens to
// float64, objects become structs, arrays lists, time values timestamps,
// and missing fields are null. A record whose field conflicts with the
// inferred type fails permanently, naming the field.
func TestParquetInferred(t *testing.T) {
	s := openSink(t, Config{URL: "mem://", Format: FormatParquet, RowGroupSize: 1000})
	at := time.Date(2024, 5, 1, 12, 30, 0, 123e6, time.UTC)
	values := []string{
		`{"id":1,"lat":5,"user":{"name":"a","tags":["x","y"]},"ok":true}`,
		`{"id":2,"lat":7.5,"user":{"name":"b","age":30},"extra":null}`,
		`{"id":3,"lat":1,"user":{"name":"c","tags":[]}}`,
		`{"id":"four","lat":2}`,    // id conflicts: fails
		`{"id":5,"user":"nobody"}`, // user conflicts: fails
	}
	recs := make([]engine.Record, len(values)+1)
	for i, v := range values {
		recs[i] = rec(v, "s", int64(i))
	}
	recs[len(values)] = rec(`{}`, "s", int64(len(values)))
	recs[len(values)].SetData(map[string]any{"id": int64(6), "at": at})
	err := s.Write(t.Context(), engine.Batch{Records: recs})
	var be *engine.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 2 {
		t.Fatalf("err = %v, want records 3 and 4 failed", err)
	}
	for k, want := range map[int]string{3: `field "id": value is a string, want int64`, 4: `field "user": value is a string, want an object`} {
		f := be.Failed[0]
		if k == 4 {
			f = be.Failed[1]
		}
		if f.Index != k || !engine.IsPermanent(f.Err) || !strings.Contains(f.Err.Error(), want) {
			t.Errorf("failure %d: %v, want permanent %q", k, f, want)
		}
	}
	ks := keys(t, s.bucket)
	if len(ks) != 1 {
		t.Fatalf("objects %s", fmtKeys(ks))
	}
	tbl, _ := readParquet(t, s.bucket, ks[0])
	want := arrow.NewSchema([]arrow.Field{
		{Name: "at", Type: timestampType, Nullable: true},
		{Name: "extra", Type: arrow.Null, Nullable: true},
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "lat", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "user", Type: arrow.StructOf(
			arrow.Field{Name: "age", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			arrow.Field{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "tags", Type: arrow.ListOfField(arrow.Field{Name: "element", Type: arrow.BinaryTypes.String, Nullable: true}), Nullable: true},
		), Nullable: true},
	}, nil)
	if !sameFields(tbl.Schema(), want) {
		t.Fatalf("schema\n%v\nwant\n%v", tbl.Schema(), want)
	}
	rows := tableRows(t, tbl)
	wantRows := []map[string]any{
		{"at": nil, "extra": nil, "id": int64(1), "lat": 5.0, "ok": true, "user": map[string]any{"age": nil, "name": "a", "tags": []any{"x", "y"}}},
		{"at": nil, "extra": nil, "id": int64(2), "lat": 7.5, "ok": nil, "user": map[string]any{"age": int64(30), "name": "b", "tags": nil}},
		{"at": nil, "extra": nil, "id": int64(3), "lat": 1.0, "ok": nil, "user": map[string]any{"age": nil, "name": "c", "tags": []any{}}},
		{"at": at.UnixMilli(), "extra": nil, "id": int64(6), "lat": nil, "ok": nil, "user": nil},
	}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Fatalf("rows\n%v\nwant\n%v", rows, wantRows)
	}
}

// TestParquetDeclaredConversions checks the conversions of a declared
// schema: timestamps from RFC 3339, unix milliseconds and times; dates;
// numbers that fit; and the errors of values that do not.
func TestParquetDeclaredConversions(t *testing.T) {
	cfg := Config{URL: "mem://", Format: FormatParquet, RowGroupSize: 10,
		Schema: mustSchema(t, `{ts: timestamp, d: date, n: int32, f: float32, b: binary, s: string, l: [int64]}`)}
	s := openSink(t, cfg)
	at := time.Date(2024, 5, 1, 23, 59, 59, 999e6, time.UTC)
	values := []string{
		`{"ts":"2024-05-01T23:59:59.999Z","d":"2024-05-01","n":7,"f":1.5,"b":"raw","s":"x","l":[1,2.0]}`,
		`{"ts":1714607999999,"d":"2024-05-01T23:59:59+00:00","n":-7,"f":2,"l":[]}`,
		`{"ts":"2024-05-02T01:59:59.999+02:00"}`,
		`{"ts":"yesterday"}`,
		`{"n":3000000000}`,
		`{"l":[1,"x"]}`,
		`{"d":12}`,
		`{"s":1}`,
	}
	recs := make([]engine.Record, len(values)+1)
	for i, v := range values {
		recs[i] = rec(v, "s", int64(i))
	}
	recs[len(values)] = rec(`{}`, "s", int64(len(values)))
	recs[len(values)].SetData(map[string]any{"ts": at, "d": at})
	err := s.Write(t.Context(), engine.Batch{Records: recs})
	var be *engine.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v", err)
	}
	wantErrs := map[int]string{
		3: `field "ts": value "yesterday" is not an RFC 3339 time`,
		4: `field "n": value 3000000000 is out of the range of int32`,
		5: `field "l[1]": value is a string, want int64`,
		6: `field "d": value is an integer, want a date`,
		7: `field "s": value is an integer, want string`,
	}
	if len(be.Failed) != len(wantErrs) {
		t.Fatalf("failed %v, want %d", be.Failed, len(wantErrs))
	}
	for _, f := range be.Failed {
		if want := wantErrs[f.Index]; !strings.Contains(f.Err.Error(), want) || !engine.IsPermanent(f.Err) {
			t.Errorf("record %d: %v, want %q", f.Index, f.Err, want)
		}
	}
	ks := keys(t, s.bucket)
	tbl, _ := readParquet(t, s.bucket, ks[0])
	rows := tableRows(t, tbl)
	ms := at.UnixMilli()
	day := int32(at.Unix() / 86400)
	want := []map[string]any{
		{"ts": ms, "d": day, "n": int32(7), "f": float32(1.5), "b": []byte("raw"), "s": "x", "l": []any{int64(1), int64(2)}},
		{"ts": ms, "d": day, "n": int32(-7), "f": float32(2), "b": nil, "s": nil, "l": []any{}},
		{"ts": ms, "d": nil, "n": nil, "f": nil, "b": nil, "s": nil, "l": nil},
		{"ts": ms, "d": day, "n": nil, "f": nil, "b": nil, "s": nil, "l": nil},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows\n%v\nwant\n%v", rows, want)
	}
}

func TestPartitionedPaths(t *testing.T) {
	cfg := Defaults()
	cfg.URL = "file://" + t.TempDir()
	cfg.Path = `events/dt={{ format_time(ts, "2006-01-02") }}/hour={{ format_time(ts, "15") }}/`
	cfg.Format = FormatJSONL
	s := openSink(t, cfg)
	var recs []engine.Record
	days := []string{"2024-05-01", "2024-05-02", "2024-05-03"}
	// Interleaved: each day's records are spread over the batch.
	for i := range 30 {
		v := fmt.Sprintf(`{"n":%d,"ts":"%sT10:%02d:00Z"}`, i, days[i%3], i)
		recs = append(recs, rec(v, "p0", int64(i)))
	}
	if err := s.Write(t.Context(), engine.Batch{Records: recs}); err != nil {
		t.Fatal(err)
	}
	ks := keys(t, s.bucket)
	if len(ks) != 3 {
		t.Fatalf("objects %s, want 3", fmtKeys(ks))
	}
	for d, k := range ks {
		prefix := "events/dt=" + days[d] + "/hour=10/"
		if !strings.HasPrefix(k, prefix) {
			t.Errorf("object %s not under %s", k, prefix)
		}
		lines := readLines(t, s.bucket, k)
		if len(lines) != 10 {
			t.Errorf("%s: %d lines, want 10", k, len(lines))
		}
		for _, l := range lines {
			if !strings.Contains(string(l), days[d]) {
				t.Errorf("%s holds %s", k, l)
			}
		}
		// The object's name covers the offsets of its own records.
		first, last := fmt.Sprintf("%020d", d), fmt.Sprintf("%020d", 27+d)
		if !strings.HasSuffix(k, "-"+first+"-"+last+".jsonl") {
			t.Errorf("object %s, want offsets %s-%s", k, first, last)
		}
	}
}

// TestDeterministicNames writes the same batches twice, and again through
// a new sink (a restart that replays): the objects keep their names, and
// none is added. Batches that mix streams are named by a hash of their
// position ranges, whatever the order of their records.
func TestDeterministicNames(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{URL: "file://" + dir, Format: FormatParquet, RowGroupSize: 1000, Path: "lake/"}
	single := func() engine.Batch {
		b, _ := eventBatch(50, "game-events/0", 100, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
		return b
	}
	mixed := func(seed uint64) engine.Batch {
		var recs []engine.Record
		for i := range 30 {
			recs = append(recs, rec(fmt.Sprintf(`{"i":%d}`, i), fmt.Sprintf("game-events/%d", i%3), int64(500+i/3)))
		}
		rand.New(rand.NewPCG(seed, 1)).Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		return engine.Batch{Records: recs}
	}
	s := openSink(t, cfg)
	for _, b := range []engine.Batch{single(), mixed(1)} {
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	first := keys(t, s.bucket)
	if len(first) != 2 {
		t.Fatalf("objects %s, want 2", fmtKeys(first))
	}
	var mix string
	for _, k := range first {
		if strings.HasPrefix(k, "lake/mix-") {
			mix = k
		}
	}
	if mix == "" {
		t.Fatalf("no mix- object in %s", fmtKeys(first))
	}
	for _, b := range []engine.Batch{single(), mixed(2)} {
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	s2 := openSink(t, cfg)
	for _, b := range []engine.Batch{single(), mixed(3)} {
		if err := s2.Write(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	if got := keys(t, s2.bucket); !reflect.DeepEqual(got, first) {
		t.Fatalf("after replays: objects %s, want %s", fmtKeys(got), fmtKeys(first))
	}
	tbl, _ := readParquet(t, s2.bucket, mix)
	if tbl.NumRows() != 30 {
		t.Fatalf("mix object has %d rows", tbl.NumRows())
	}
}

// TestSinglePositionNames checks the names of objects whose records share
// one position (fanned out of one source record): the first takes the
// position name, the others, holding other records, get a hash of their
// contents, and identical ones within a Write are numbered. A replay finds
// its object and writes nothing.
func TestSinglePositionNames(t *testing.T) {
	s := openSink(t, Config{URL: "mem://", Format: FormatJSONL, RowGroupSize: 1, Roll: Roll{Records: 1}})
	w := func(vs ...string) {
		var recs []engine.Record
		for _, v := range vs {
			recs = append(recs, rec(v, "s", 42))
		}
		if err := s.Write(t.Context(), engine.Batch{Records: recs}); err != nil {
			t.Fatal(err)
		}
	}
	w(`{"part":1}`)
	w(`{"part":2}`)
	w(`{"same":true}`, `{"same":true}`)
	w(`{"part":1}`) // a replay of the first
	ks := keys(t, s.bucket)
	if len(ks) != 4 {
		t.Fatalf("objects %s, want 4", fmtKeys(ks))
	}
	// The base name is the shortest; "-" sorts before ".".
	base := strings.TrimSuffix(ks[len(ks)-1], ".jsonl")
	var lines, numbered int
	for _, k := range ks {
		lines += len(readLines(t, s.bucket, k))
		if !strings.HasPrefix(k, base) {
			t.Errorf("object %s does not start with %s", k, base)
		}
		if strings.HasSuffix(k, "-2.jsonl") {
			numbered++
		}
	}
	if numbered != 1 {
		t.Errorf("objects %s: want one numbered -2", fmtKeys(ks))
	}
	if lines != 4 {
		t.Fatalf("%d lines in %s, want 4", lines, fmtKeys(ks))
	}
}

// TestReplayNeverReplaces replays a batch: with the same records (in
// another order) it finds its object and writes nothing; with other bytes
// at the same positions (a transform that stamps the time) it writes them
// beside the first object, which it never replaces.
func TestReplayNeverReplaces(t *testing.T) {
	env := engine.TestEnv()
	s, err := New(Config{URL: "file://" + t.TempDir(), Format: FormatJSONL, RowGroupSize: 1}, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	batch := func(stamp string, reverse bool) engine.Batch {
		var recs []engine.Record
		for i := range 10 {
			recs = append(recs, rec(fmt.Sprintf(`{"i":%d,"at":%q}`, i, stamp), "s", int64(i)))
		}
		if reverse {
			slices.Reverse(recs)
		}
		return engine.Batch{Records: recs}
	}
	for _, b := range []engine.Batch{batch("t1", false), batch("t1", true)} {
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	if ks := keys(t, s.bucket); len(ks) != 1 {
		t.Fatalf("objects %s, want 1", fmtKeys(ks))
	}
	if n := counterOf(t, env, "sluice_objectstore_objects_written_total"); n != 1 {
		t.Fatalf("objects written %v, want 1: the replay found its object", n)
	}
	if err := s.Write(t.Context(), batch("t2", false)); err != nil {
		t.Fatal(err)
	}
	ks := keys(t, s.bucket) // the base name sorts last: "-" before "."
	if len(ks) != 2 || !strings.HasPrefix(ks[0], strings.TrimSuffix(ks[1], ".jsonl")+"-") {
		t.Fatalf("objects %s, want the first and one with a content hash", fmtKeys(ks))
	}
	if got := readLines(t, s.bucket, ks[1]); !strings.Contains(string(got[0]), "t1") {
		t.Fatalf("the first object was replaced: %s", got[0])
	}
}

// TestConcurrentSamePositions writes, concurrently, batches that hold
// other records at the same positions: none replaces another.
func TestConcurrentSamePositions(t *testing.T) {
	for _, u := range []string{"mem://", "file://" + t.TempDir()} {
		t.Run(strings.SplitN(u, ":", 2)[0], func(t *testing.T) {
			s := openSink(t, Config{URL: u, Format: FormatJSONL, RowGroupSize: 1})
			const writers = 6
			errs := make(chan error, writers)
			for w := range writers {
				go func() {
					recs := []engine.Record{rec(fmt.Sprintf(`{"copy":%d,"n":0}`, w), "s", 5), rec(fmt.Sprintf(`{"copy":%d,"n":1}`, w), "s", 9)}
					errs <- s.Write(t.Context(), engine.Batch{Records: recs})
				}()
			}
			for range writers {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			var lines int
			for _, k := range keys(t, s.bucket) {
				lines += len(readLines(t, s.bucket, k))
			}
			if lines != 2*writers {
				t.Fatalf("%d lines in %s, want %d", lines, fmtKeys(keys(t, s.bucket)), 2*writers)
			}
		})
	}
}

func TestRoll(t *testing.T) {
	for _, tc := range []struct {
		name  string
		roll  Roll
		want  int
		sizes []int
	}{
		{"records", Roll{Records: 100}, 4, []int{100, 100, 100, 50}},
		{"bytes", Roll{Bytes: 20 * 100}, 4, []int{100, 100, 100, 50}}, // each value is 20 bytes
		{"age", Roll{Age: 2 * time.Minute}, 3, []int{120, 120, 110}},  // one record a second
		{"off", Roll{}, 1, []int{350}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openSink(t, Config{URL: "mem://", Format: FormatParquet, RowGroupSize: 64, Roll: tc.roll})
			recs := make([]engine.Record, 350)
			for i := range recs {
				recs[i] = rec(fmt.Sprintf(`{"n":"%012d"}`, i), "s", int64(i))
			}
			if err := s.Write(t.Context(), engine.Batch{Records: recs}); err != nil {
				t.Fatal(err)
			}
			ks := keys(t, s.bucket)
			if len(ks) != tc.want {
				t.Fatalf("objects %s, want %d", fmtKeys(ks), tc.want)
			}
			from := 0
			for i, k := range ks {
				tbl, _ := readParquet(t, s.bucket, k)
				if int(tbl.NumRows()) != tc.sizes[i] {
					t.Errorf("%s: %d rows, want %d", k, tbl.NumRows(), tc.sizes[i])
				}
				want := fmt.Sprintf("-%020d-%020d.parquet", from, from+tc.sizes[i]-1)
				if !strings.HasSuffix(k, want) {
					t.Errorf("object %s, want a name ending %s", k, want)
				}
				from += tc.sizes[i]
			}
		})
	}
}

// TestPermanentRecordErrors checks that a record whose path cannot be
// rendered, or renders to an unusable one, or that is not an object, fails
// permanently alone, and the others are written.
func TestPermanentRecordErrors(t *testing.T) {
	s := openSink(t, Config{URL: "mem://", Format: FormatParquet, RowGroupSize: 10, Path: "{{ region }}/"})
	values := []string{
		`{"region":"eu","n":0}`,
		`{"n":1}`, // no region
		`{"region":"us","n":2}`,
		`{"region":"../x","n":3}`, // escapes the prefix
		`[1,2]`,                   // not an object
		`{"region":"","n":5}`,     // empty segment
		`{"region":"eu","n":6}`,
	}
	recs := make([]engine.Record, len(values))
	for i, v := range values {
		recs[i] = rec(v, "s", int64(i))
	}
	err := s.Write(t.Context(), engine.Batch{Records: recs})
	var be *engine.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v", err)
	}
	var idx []int
	for _, f := range be.Failed {
		idx = append(idx, f.Index)
		if !engine.IsPermanent(f.Err) {
			t.Errorf("record %d: %v is not permanent", f.Index, f.Err)
		}
	}
	if !reflect.DeepEqual(idx, []int{1, 3, 4, 5}) {
		t.Fatalf("failed %v, want 1, 3, 4, 5: %v", idx, be.Failed)
	}
	if !strings.Contains(be.Failed[0].Err.Error(), "{{ region }} is nil") {
		t.Errorf("missing field error: %v", be.Failed[0].Err)
	}
	ks := keys(t, s.bucket)
	if len(ks) != 2 || !strings.HasPrefix(ks[0], "eu/") || !strings.HasPrefix(ks[1], "us/") {
		t.Fatalf("objects %s", fmtKeys(ks))
	}
	tbl, _ := readParquet(t, s.bucket, ks[0])
	if tbl.NumRows() != 2 {
		t.Fatalf("eu/ holds %d rows, want 2", tbl.NumRows())
	}
}

// TestEmptyObjects: a record that is an empty object gives Parquet no
// column, and fails permanently when its object has no other.
func TestEmptyObjects(t *testing.T) {
	s := openSink(t, Config{URL: "mem://", Format: FormatParquet, RowGroupSize: 10, Roll: Roll{Records: 2}})
	recs := []engine.Record{rec(`{}`, "s", 0), rec(`{}`, "s", 1), rec(`{}`, "s", 2), rec(`{"a":1}`, "s", 3)}
	err := s.Write(t.Context(), engine.Batch{Records: recs})
	var be *engine.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 2 || !errors.Is(be.Failed[0].Err, ErrNoColumns) {
		t.Fatalf("err = %v, want records 0 and 1 failed with ErrNoColumns", err)
	}
	ks := keys(t, s.bucket)
	if len(ks) != 1 {
		t.Fatalf("objects %s", fmtKeys(ks))
	}
	tbl, _ := readParquet(t, s.bucket, ks[0])
	if tbl.NumRows() != 2 {
		t.Fatalf("%d rows", tbl.NumRows())
	}
}

// TestStorageErrorIsRetryable makes the bucket refuse one partition (a
// file stands where its directory should be): that object's records fail
// retryably, the other partition is written, and the retry, once the
// storage is fixed, writes the name the first attempt would have.
func TestStorageErrorIsRetryable(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "b"), []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := openSink(t, Config{URL: "file://" + dir, Format: FormatJSONL, RowGroupSize: 1, Path: "{{ p }}/"})
	recs := []engine.Record{rec(`{"p":"a","n":0}`, "s", 0), rec(`{"p":"b","n":1}`, "s", 1), rec(`{"p":"b","n":2}`, "s", 2)}
	err := s.Write(t.Context(), engine.Batch{Records: recs})
	var be *engine.BatchError
	if !errors.As(err, &be) || len(be.Retryable()) != 2 || len(be.Failed) != 2 || be.Failed[0].Index != 1 {
		t.Fatalf("err = %v, want records 1 and 2 failed retryably", err)
	}
	if ks := keys(t, s.bucket); len(ks) != 2 || !strings.HasPrefix(ks[0], "a/") || ks[1] != "b" {
		t.Fatalf("objects %s", fmtKeys(ks))
	}
	if err := os.Remove(filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), engine.Batch{Records: recs[1:]}); err != nil {
		t.Fatal(err)
	}
	ks := keys(t, s.bucket)
	if len(ks) != 2 || !strings.HasSuffix(ks[1], "-00000000000000000001-00000000000000000002.jsonl") {
		t.Fatalf("objects %s", fmtKeys(ks))
	}
}

// TestAbortLeavesNothing checks that an object is invisible until it is
// committed, and that aborting it, or cancelling its context before the
// commit, leaves nothing, on file:// and mem:// buckets.
func TestAbortLeavesNothing(t *testing.T) {
	for _, u := range []string{"mem://", "file://" + t.TempDir()} {
		t.Run(strings.SplitN(u, ":", 2)[0], func(t *testing.T) {
			s := openSink(t, Config{URL: u, Format: FormatParquet, RowGroupSize: 10})
			root := fromSchema(mustSchema(t, `{n: int64}`))
			opts := s.opts
			o, err := createObject(t.Context(), s.bucket, "x/aborted.parquet", root, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 25 {
				if err := o.addRow(map[string]any{"n": int64(i)}); err != nil {
					t.Fatal(err)
				}
			}
			if ks := keys(t, s.bucket); len(ks) != 0 {
				t.Fatalf("objects %s visible before commit", fmtKeys(ks))
			}
			o.abort()
			ctx, cancel := context.WithCancel(t.Context())
			o, err = createObject(ctx, s.bucket, "x/cancelled.parquet", root, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 25 {
				o.addRow(map[string]any{"n": int64(i)})
			}
			cancel()
			if _, err := o.commit(); err == nil {
				t.Fatal("commit with a cancelled context succeeded")
			}
			if ks := keys(t, s.bucket); len(ks) != 0 {
				t.Fatalf("objects %s left behind", fmtKeys(ks))
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	env := engine.TestEnv()
	cfg := Config{URL: "mem://", Format: FormatJSONL, RowGroupSize: 1, Path: "{{ p }}/"}
	s, err := New(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	recs := []engine.Record{rec(`{"p":"a"}`, "s", 0), rec(`{"p":"b"}`, "s", 1)}
	if err := s.Write(t.Context(), engine.Batch{Records: recs}); err != nil {
		t.Fatal(err)
	}
	mfs, err := env.Metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()] += counterValue(m)
		}
	}
	if got["sluice_objectstore_objects_written_total"] != 2 || got["sluice_objectstore_bytes_written_total"] != float64(len(`{"p":"a"}`+"\n")*2) {
		t.Fatalf("metrics %v", got)
	}
}

// counterOf returns the value of a counter of env's metrics.
func counterOf(t *testing.T, env engine.Env, name string) float64 {
	t.Helper()
	mfs, err := env.Metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				v += counterValue(m)
			}
		}
	}
	return v
}

func counterValue(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return 0
}

func TestOpenAndClosed(t *testing.T) {
	s, err := New(Config{URL: "mem://", Format: FormatJSONL, RowGroupSize: 1}, engine.TestEnv())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), engine.Batch{Records: []engine.Record{rec(`{}`, "s", 0)}}); !errors.Is(err, ErrClosed) || !errors.Is(err, engine.ErrNotConnected) {
		t.Fatalf("Write before Open: %v", err)
	}
	if err := s.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), engine.Batch{Records: []engine.Record{rec(`{}`, "s", 0)}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, tc := range []struct{ url, want string }{
		// Nothing listens on port 1: IsAccessible fails.
		{"s3://bucket?endpoint=http://127.0.0.1:1&region=us-east-1&use_path_style=true", "connection refused"},
		// The URL's query is never shown.
		{"s3://bucket?endpoint=http://127.0.0.1:1&region=us-east-1&secret=hunter2", "unknown query parameter"},
	} {
		s, err := New(Config{URL: tc.url, Format: FormatJSONL, RowGroupSize: 1}, engine.TestEnv())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		err = s.Open(ctx)
		cancel()
		if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "s3://bucket") || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("Open of %s: %v, want an error about %q", bucket.Safe(tc.url), err, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Defaults()
	ok.URL = "mem://"
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want []string // paths with problems
	}{
		{"defaults with url", func(*Config) {}, nil},
		{"no url", func(c *Config) { c.URL = "" }, []string{"url"}},
		{"bad scheme, secret hidden", func(c *Config) { c.URL = "ftp://h/x?key=hunter2" }, []string{"url"}},
		{"bad format", func(c *Config) { c.Format = "csv" }, []string{"format"}},
		{"snappy jsonl", func(c *Config) { c.Format, c.Compression = FormatJSONL, "snappy" }, []string{"compression"}},
		{"gzip parquet", func(c *Config) { c.Compression = "gzip" }, []string{"compression"}},
		{"schema with jsonl", func(c *Config) { c.Format, c.Schema = FormatJSONL, Schema{{Name: "a", Type: Type{Name: "string"}}} }, []string{"schema"}},
		{"bad schema", func(c *Config) {
			c.Schema = Schema{{Name: "a", Type: Type{Name: "text"}}, {Name: "b", Type: Type{Fields: Schema{}}}}
		}, []string{"schema.a", "schema.b"}},
		{"row groups", func(c *Config) { c.RowGroupSize = 0 }, []string{"row_group_size"}},
		{"negative roll", func(c *Config) { c.Roll = Roll{Bytes: -1, Records: -1, Age: -time.Second} }, []string{"roll.bytes", "roll.records", "roll.age"}},
		{"absolute path", func(c *Config) { c.Path = "/x/" }, []string{"path"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			var got []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var fe *spec.FieldError
					if !errors.As(e, &fe) {
						t.Fatalf("error %v has no path", e)
					}
					got = append(got, fe.Path)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error shows the URL's query: %v", err)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("problems at %v (%v), want %v", got, err, tc.want)
			}
		})
	}
}

// TestNewCompileErrors: New reports a bad path template at its key.
func TestNewCompileErrors(t *testing.T) {
	_, err := New(Config{URL: "mem://", Format: FormatJSONL, RowGroupSize: 1, Path: "dt={{ day "}, engine.TestEnv())
	var fe *spec.FieldError
	if !errors.As(err, &fe) || fe.Path != "path" {
		t.Fatalf("err = %v", err)
	}
}

func TestDecodeConfig(t *testing.T) {
	cfg := decodeConfig(t, `
url: file:///tmp/lake
path: 'events/dt={{ day }}/'
schema: {event_id: string, ts: timestamp, player_id: int64, latency_ms: float64, device: {os: string, ver: string}, tags: [string]}
roll: {bytes: 128MiB, records: 0, age: 5m}
`)
	if got := cfg.Schema.String(); got != "{event_id: string, ts: timestamp, player_id: int64, latency_ms: float64, device: {os: string, ver: string}, tags: [string]}" {
		t.Errorf("schema %s", got)
	}
	if cfg.Roll != (Roll{Bytes: 128 << 20, Age: 5 * time.Minute}) || cfg.RowGroupSize != DefaultRowGroupSize || cfg.compression() != "zstd" {
		t.Errorf("config %+v", cfg)
	}
	// Unknown types are reported at their line and column.
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("schema: {a: string, b: {c: varchar}, d: [int64, string]}\nurl: mem://\n"), &n); err != nil {
		t.Fatal(err)
	}
	d := spec.NewDecoder("p.yaml", nil)
	c := Defaults()
	d.Decode(&n, "sinks.lake.objectstore", &c)
	errs := d.Errors()
	if len(errs) != 2 || errs[0].Pos.Line != 1 || errs[0].Path != "sinks.lake.objectstore.schema.b.c" || !strings.Contains(errs[0].Msg, `unknown type "varchar"`) ||
		errs[1].Path != "sinks.lake.objectstore.schema.d" {
		t.Fatalf("errors %v", errs)
	}
}

// TestRegister checks the registration, and that its example decodes
// strictly into the config, validates and builds.
func TestRegister(t *testing.T) {
	r := engine.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	c, ok := r.Lookup(engine.KindSink, "objectstore")
	if !ok || c.Batch != DefaultBatch {
		t.Fatalf("Lookup = %+v, %v", c, ok)
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(c.Example), &n); err != nil {
		t.Fatal(err)
	}
	d := spec.NewDecoder("example.yaml", func(name string) (string, bool) { return "http://127.0.0.1:9000", name == "S3_ENDPOINT" })
	cfg := Defaults()
	d.Decode(n.Content[0].Content[1], "sinks.lake.objectstore", &cfg)
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, engine.TestEnv()); err != nil {
		t.Fatal(err)
	}
}

func TestDocs(t *testing.T) {
	if err := spec.CheckDocs(reflect.TypeFor[Config]()); err != nil {
		t.Fatal(err)
	}
	s := spec.Schema(Defaults())
	if _, ok := s["properties"].(map[string]any)["schema"]; !ok {
		t.Fatalf("JSON Schema has no schema key: %v", s)
	}
}

// TestGoldenSchema compares the Arrow and Parquet schemas of the declared
// example with testdata/declared_schema.golden; -update rewrites it.
func TestGoldenSchema(t *testing.T) {
	sc := mustSchema(t, `{event_id: string, ts: timestamp, player_id: int64, latency_ms: float64, device: {os: string, ver: string}, tags: [string]}`)
	s := openSink(t, Config{URL: "mem://", Format: FormatParquet, RowGroupSize: 10, Schema: sc})
	r := rec(`{"event_id":"e1","ts":"2024-05-01T12:00:00Z","player_id":7,"latency_ms":1.5,"device":{"os":"ios","ver":"17"},"tags":["a"]}`, "s", 0)
	if err := s.Write(t.Context(), engine.Batch{Records: []engine.Record{r}}); err != nil {
		t.Fatal(err)
	}
	ks := keys(t, s.bucket)
	data, err := s.bucket.ReadAll(t.Context(), ks[0])
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# declared: %s\n\n# Arrow schema\n%s\n\n# Parquet schema\n", sc, arrowSchema(fromSchema(sc)))
	b.WriteString(parquetSchemaText(t, data))
	got := b.String()
	golden := filepath.Join("testdata", "declared_schema.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("schema differs from %s (run with -update if the change is intended):\n%s", golden, got)
	}
}

// tableRows converts a table to one map per row: Arrow values as Go
// values (timestamps as unix milliseconds, dates as days, structs as maps,
// lists as slices), nulls as nil.
func tableRows(t testing.TB, tbl arrow.Table) []map[string]any {
	t.Helper()
	tr := array.NewTableReader(tbl, 1<<20)
	defer tr.Release()
	var out []map[string]any
	for tr.Next() {
		rb := tr.RecordBatch()
		for i := 0; i < int(rb.NumRows()); i++ {
			row := map[string]any{}
			for c, f := range rb.Schema().Fields() {
				row[f.Name] = goValue(rb.Column(c), i)
			}
			out = append(out, row)
		}
	}
	return out
}

// sameFields compares the names, types and nullability of two schemas'
// fields, not their metadata.
func sameFields(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.NumFields() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Nullable != fb.Nullable || !arrow.TypeEqual(fa.Type, fb.Type) {
			return false
		}
	}
	return true
}

func goValue(a arrow.Array, i int) any {
	if _, ok := a.(*array.Null); ok || a.IsNull(i) {
		return nil
	}
	switch x := a.(type) {
	case *array.String:
		return x.Value(i)
	case *array.Binary:
		return slices.Clone(x.Value(i))
	case *array.Int64:
		return x.Value(i)
	case *array.Int32:
		return x.Value(i)
	case *array.Float64:
		return x.Value(i)
	case *array.Float32:
		return x.Value(i)
	case *array.Boolean:
		return x.Value(i)
	case *array.Timestamp:
		return int64(x.Value(i))
	case *array.Date32:
		return int32(x.Value(i))
	case *array.Struct:
		m := map[string]any{}
		st := x.DataType().(*arrow.StructType)
		for f := 0; f < x.NumField(); f++ {
			m[st.Field(f).Name] = goValue(x.Field(f), i)
		}
		return m
	case *array.List:
		start, end := x.ValueOffsets(i)
		l := []any{}
		for j := start; j < end; j++ {
			l = append(l, goValue(x.ListValues(), int(j)))
		}
		return l
	}
	return fmt.Sprintf("unhandled %T", a)
}
