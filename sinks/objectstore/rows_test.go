package objectstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/sluicehq/sluice/engine"
)

// TestJSONTree checks that the tree holds what the json codec decodes, for
// the values it reads, and that it leaves to the codec what it does not.
func TestJSONTree(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		parses    bool
	}{
		{"event", `{"event_id":"g1-42","ts":"2026-11-25T10:00:00.420Z","player_id":1042,"latency_ms":48.5,"device":{"os":"android","ver":"14"},"tags":["a"]}`, true},
		{"space", " \t\r\n{ \"a\" : [ 1 , 2.5 , -0 , -0.0 , 1e3 , 1E-2 ] , \"b\" : { } , \"c\" : [ ] } \n", true},
		{"literals", `{"t":true,"f":false,"n":null}`, true},
		{"escapes", `{"s":"a\"b\\c\/d\be\ff\ng\rh\ti","u":"\u00e9\u4e2d\uD83D\uDE00","k\u00e9y":1}`, true},
		{"lone surrogates", `{"a":"\uD800","b":"\uDC00x","c":"\uD800\u0041","d":"\uD83D\uD83D\uDE00"}`, true},
		{"utf-8", `{"s":"héllo wörld 中文 😀"}`, true},
		{"big integers", `{"max":9223372036854775807,"min":-9223372036854775808,"over":9223372036854775808,"long":123456789012345678901234567890}`, true},
		{"repeated key", `{"a":1,"a":"two"}`, true},
		{"not an object", `[1,2]`, false},
		{"scalar", `"x"`, false},
		{"empty", ``, false},
		{"trailing", `{"a":1} x`, false},
		{"two values", `{"a":1}{"b":2}`, false},
		{"bad number", `{"a":01}`, false},
		{"bad fraction", `{"a":1.}`, false},
		{"bad exponent", `{"a":1e}`, false},
		{"out of range", `{"a":1e400}`, false},
		{"bad escape", `{"a":"\x"}`, false},
		{"bad unicode escape", `{"a":"\u12G4"}`, false},
		{"control character", "{\"a\":\"x\ty\"}", false},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", false},
		{"unterminated", `{"a":"x`, false},
		{"missing colon", `{"a" 1}`, false},
		{"trailing comma", `{"a":1,}`, false},
		{"deep", `{"a":` + strings.Repeat("[", maxTreeDepth) + strings.Repeat("]", maxTreeDepth) + `}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tr jsonTree
			if got := tr.parse([]byte(tc.src)); got != tc.parses {
				t.Fatalf("parse = %v, want %v", got, tc.parses)
			}
			if !tc.parses {
				return
			}
			want, err := jsonCodec.Decode([]byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			if got := tr.toAny(0); !reflect.DeepEqual(got, want) {
				t.Fatalf("tree holds\n%#v\nthe codec decodes\n%#v", got, want)
			}
		})
	}
}

// TestChangedRecords writes records that transforms changed through View,
// as the set transform does: the values they set, of types JSON does not
// give back (a time), reach the Parquet columns as they are, and the
// fields they did not touch come from the bytes.
func TestChangedRecords(t *testing.T) {
	s := openSink(t, Config{URL: "mem://", Format: FormatParquet, RowGroupSize: 10, Path: "{{ day }}/"})
	at := time.Date(2024, 5, 1, 12, 30, 0, 123e6, time.UTC)
	recs := make([]engine.Record, 3)
	for i := range recs {
		recs[i] = rec(`{"n":`+string(rune('0'+i))+`,"ts":"2024-05-01T12:30:00Z","drop":true}`, "s", int64(i))
		set := map[string]any{"day": "2024-05-01", "at": at.Add(time.Duration(i) * time.Second), "n": int64(i) * 10}
		if err := setFields(&recs[i], set, "drop"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Write(t.Context(), engine.Batch{Records: recs}); err != nil {
		t.Fatal(err)
	}
	ks := keys(t, s.bucket)
	if len(ks) != 1 || !strings.HasPrefix(ks[0], "2024-05-01/") {
		t.Fatalf("objects %s", fmtKeys(ks))
	}
	tbl, _ := readParquet(t, s.bucket, ks[0])
	var got []string
	for _, f := range tbl.Schema().Fields() {
		got = append(got, f.Name+":"+f.Type.String())
	}
	if want := []string{"at:timestamp[ms, tz=UTC]", "day:utf8", "n:int64", "ts:utf8"}; !slices.Equal(got, want) {
		t.Fatalf("columns %v, want %v", got, want)
	}
	rows := tableRows(t, tbl)
	for i, row := range rows {
		want := map[string]any{"at": at.Add(time.Duration(i) * time.Second).UnixMilli(), "day": "2024-05-01",
			"n": int64(i * 10), "ts": "2024-05-01T12:30:00Z"}
		if !reflect.DeepEqual(row, want) {
			t.Errorf("row %d: %v, want %v", i, row, want)
		}
	}
}

// TestRepeatedKeys: a record that repeats a key is written with the last
// value, as the codec decodes it, whichever way the sink reads it.
func TestRepeatedKeys(t *testing.T) {
	for _, cfg := range []Config{
		{URL: "mem://", Format: FormatParquet, RowGroupSize: 10},
		{URL: "mem://", Format: FormatParquet, RowGroupSize: 10, Schema: mustSchema(t, `{a: string, o: {b: int64}}`)},
	} {
		s := openSink(t, cfg)
		recs := []engine.Record{
			rec(`{"a":1,"a":"one","o":{"b":"x","b":2}}`, "s", 0),
			rec(`{"a":"two","o":{"b":3}}`, "s", 1),
		}
		if err := s.Write(t.Context(), engine.Batch{Records: recs}); err != nil {
			t.Fatal(err)
		}
		tbl, _ := readParquet(t, s.bucket, keys(t, s.bucket)[0])
		want := []map[string]any{{"a": "one", "o": map[string]any{"b": int64(2)}}, {"a": "two", "o": map[string]any{"b": int64(3)}}}
		if rows := tableRows(t, tbl); !reflect.DeepEqual(rows, want) {
			t.Errorf("schema %v: rows %v, want %v", cfg.Schema, rows, want)
		}
	}
}

// TestDictionaryColumns checks that columns whose values are all distinct
// are written without a dictionary, and the others with one.
func TestDictionaryColumns(t *testing.T) {
	for _, schema := range []string{"", eventSchema} {
		cfg := Config{URL: "mem://", Format: FormatParquet, RowGroupSize: 2000}
		if schema != "" {
			cfg.Schema = mustSchema(t, schema)
		}
		s := openSink(t, cfg)
		b, _ := eventBatch(5000, "s", 0, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatal(err)
		}
		data, err := s.bucket.ReadAll(t.Context(), keys(t, s.bucket)[0])
		if err != nil {
			t.Fatal(err)
		}
		pf, err := file.NewParquetReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		var plain []string
		for rg := range pf.NumRowGroups() {
			md := pf.MetaData().RowGroup(rg)
			for c := range md.NumColumns() {
				cc, err := md.ColumnChunk(c)
				if err != nil {
					t.Fatal(err)
				}
				if !cc.HasDictionaryPage() && rg == 0 {
					plain = append(plain, cc.PathInSchema().String())
				}
			}
		}
		pf.Close()
		if want := []string{"event_id", "ts"}; !slices.Equal(plain, want) {
			t.Errorf("schema %q: columns without a dictionary %v, want %v", schema, plain, want)
		}
	}
}

// FuzzTreeAgreesWithMaps checks the reading of records through jsonTree
// against the map-based reading it replaces. Each line of the input is a
// record. A line the tree parses must hold what the json codec decodes.
// And a Write of the lines, with an inferred and with a declared schema,
// some records changed by a transform, must fail the same records with
// the same errors, and write the same rows, as inferring, checking and
// appending their decoded maps does.
func FuzzTreeAgreesWithMaps(f *testing.F) {
	for _, s := range []string{
		`{"event_id":"g1-42","ts":"2026-11-25T10:00:00.420Z","player_id":1042,"latency_ms":48.5,"device":{"os":"android","ver":"14"},"tags":["a"]}`,
		"{\"a\":1}\n{\"a\":1.5}\n{\"a\":\"x\"}\n{\"a\":null}\n{\"b\":{\"c\":[1,[2]]}}",
		"{\"l\":[]}\n{\"l\":[null]}\n{\"l\":[{\"x\":1},{\"y\":\"z\"}]}\n{\"l\":[[1],[2.5]]}",
		"{\"\":1,\"a.b\":{\"\":[]},\"e\":{},\"n\":null}\n{\"e\":{\"f\":1}}",
		"{\"s\":{}}\n{\"s\":{\"t\":{}}}\n{\"s\":{\"t\":{\"u\":1}}}",
		"{\"a\":1,\"a\":\"x\"}\n{\"o\":{\"b\":1,\"b\":2.5}}\n{\"a\":2}",
		`{"ts":1714566600123,"d":"2024-05-01","n":9223372036854775807,"f":1e308,"x":-0}`,
		"{\"ts\":\"2024-05-01T23:59:59.999+02:00\",\"d\":\"2024-05-01T01:00:00Z\",\"b\":\"\\u00e9\\n\"}\n{\"ts\":\"yesterday\",\"d\":12}",
		"{\"s\":\"\\uD800\"}\n{\"s\":\"\\ud83d\\ude00\"}\n{\"k\\u00e9y\":true}",
		"{}\n[]\n1\n\"x\"\nnot json\n{\"a\":01}",
	} {
		f.Add([]byte(s))
	}
	declared := mustSchema(f, `{event_id: string, ts: timestamp, d: date, player_id: int64, n: int32, latency_ms: float64,
		f: float32, b: binary, ok: bool, device: {os: string, ver: string}, tags: [string], l: [{x: int64}], a: int64,
		s: {t: {u: float64}}, o: {b: int64}, at: timestamp, k: string}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Split(data, []byte("\n"))
		if len(lines) > 32 {
			lines = lines[:32]
		}
		var tr jsonTree
		for _, l := range lines {
			if !tr.parse(l) {
				continue
			}
			v, err := jsonCodec.Decode(l)
			if err != nil {
				t.Fatalf("the tree parses %q, the codec rejects it: %v", l, err)
			}
			if got := tr.toAny(0); !reflect.DeepEqual(got, v) {
				t.Fatalf("the tree of %q holds\n%#v\nthe codec decodes\n%#v", l, got, v)
			}
		}
		records := func() []engine.Record {
			recs := make([]engine.Record, len(lines))
			for i, l := range lines {
				recs[i] = rec(string(l), "s", int64(i))
				if i%3 == 1 {
					// As a set transform: a time, a string, a deleted field.
					setFields(&recs[i], map[string]any{"at": time.UnixMilli(int64(i) * 1000).UTC(), "k": "set"}, "a")
				}
			}
			return recs
		}
		for _, schema := range []Schema{nil, declared} {
			s := openSink(t, Config{URL: "mem://", Format: FormatParquet, RowGroupSize: 3, Schema: schema})
			err := s.Write(t.Context(), engine.Batch{Records: records()})
			got := map[int]string{}
			var be *engine.BatchError
			if errors.As(err, &be) {
				for _, fe := range be.Failed {
					if !engine.IsPermanent(fe.Err) {
						t.Fatalf("record %d: %v is not permanent", fe.Index, fe.Err)
					}
					got[fe.Index] = fe.Err.Error()
				}
			} else if err != nil {
				t.Fatal(err)
			}

			// What the map-based functions make of the same records.
			want := map[int]string{}
			recs := records()
			var rows []map[string]any
			var idx []int
			for i := range recs {
				m, err := recs[i].DecodeFields()
				if err != nil {
					want[i] = engine.Permanent(err).Error()
					continue
				}
				rows, idx = append(rows, m), append(idx, i)
			}
			root := s.declared
			if root == nil {
				in := newInferrer()
				for _, m := range rows {
					in.observe(m)
				}
				root = in.schema()
			}
			var ok []map[string]any
			for k, m := range rows {
				err := checkRow(root, m)
				switch {
				case len(root.fields) == 0:
					err = ErrNoColumns
				case err != nil && schema == nil:
					err = errors.New("parquet: " + err.Error() + " (column types are inferred from the first value of each field in the object's records)")
				case err != nil:
					err = errors.New("parquet: " + err.Error())
				}
				if err != nil {
					want[idx[k]] = engine.Permanent(err).Error()
					continue
				}
				ok = append(ok, m)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("schema %v: failed\n%v\nwant\n%v", schema, got, want)
			}
			ks := keys(t, s.bucket)
			if len(ok) == 0 {
				if len(ks) != 0 {
					t.Fatalf("objects %s, want none", fmtKeys(ks))
				}
				continue
			}
			var buf bytes.Buffer
			enc, err := newParquetEncoder(&buf, root, objectOptions{compression: "snappy", rowGroupSize: 3})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ok {
				if err := enc.add(m); err != nil {
					t.Fatal(err)
				}
			}
			if err := enc.close(); err != nil {
				t.Fatal(err)
			}
			if len(ks) != 1 {
				t.Fatalf("objects %s, want one", fmtKeys(ks))
			}
			gotTbl, _ := readParquet(t, s.bucket, ks[0])
			wantTbl := readParquetBytes(t, buf.Bytes())
			if !sameFields(gotTbl.Schema(), wantTbl.Schema()) {
				t.Fatalf("schema\n%v\nwant\n%v", gotTbl.Schema(), wantTbl.Schema())
			}
			if g, w := tableRows(t, gotTbl), tableRows(t, wantTbl); !reflect.DeepEqual(g, w) {
				t.Fatalf("rows\n%v\nwant\n%v", g, w)
			}
		}
	})
}

// TestZstdCodec checks that the zstd codec the sink gives arrow-go
// compresses pages that arrow-go's own codec decodes, at every level.
func TestZstdCodec(t *testing.T) {
	registerZstdCodec()
	c, err := compress.GetCodec(compress.Codecs.Zstd)
	if err != nil {
		t.Fatal(err)
	}
	zc, ok := c.(*zstdCodec)
	if !ok {
		t.Fatalf("the zstd codec is a %T", c)
	}
	page, _ := eventBatch(5000, "s", 0, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	var src []byte
	for _, r := range page.Records {
		src = append(src, r.Value...)
	}
	for _, size := range []int{0, 1, 1000, zstdWindow, len(src)} {
		for _, level := range []int{compress.DefaultCompressionLevel, 1, 3, 9, 19} {
			enc := zc.EncodeLevel(nil, src[:size], level)
			if size > 1000 && len(enc) > size/2 {
				t.Errorf("%d bytes at level %d compress to %d", size, level, len(enc))
			}
			dec, err := zc.base.DecodeWithError(nil, enc)
			if err != nil || !bytes.Equal(dec, src[:size]) {
				t.Fatalf("%d bytes at level %d: decoded %d bytes, %v", size, level, len(dec), err)
			}
		}
	}
}

// TestCompareSums: record hashes sort as bytes.Compare sorts them, which
// the content hash of existing objects depends on.
func TestCompareSums(t *testing.T) {
	var sums [][32]byte
	for i := range 2000 {
		var s [32]byte
		s[i%3] = byte(i % 7) // many equal prefixes
		s[8+i%5] = byte(i)
		s[31] = byte(i * 13)
		sums = append(sums, s)
	}
	a, b := slices.Clone(sums), slices.Clone(sums)
	slices.SortFunc(a, compareSums)
	slices.SortFunc(b, func(x, y [32]byte) int { return bytes.Compare(x[:], y[:]) })
	if !slices.Equal(a, b) {
		t.Fatal("compareSums orders hashes otherwise than bytes.Compare")
	}
}

// TestContentHash checks the content hash in an object's metadata against
// its definition, computed here independently: the SHA-256 of the sorted
// SHA-256s of each record's stream, offset and bytes, each
// length-prefixed. A replay finds the objects an earlier version wrote
// only if it computes the same.
func TestContentHash(t *testing.T) {
	for _, format := range []string{FormatJSONL, FormatParquet} {
		s := openSink(t, Config{URL: "mem://", Format: format, RowGroupSize: 10})
		recs := []engine.Record{rec(`{"a":1}`, "t/0", 7), rec(`{"a":2}`, "t/0", 8), rec(`{"a":3}`, "t/1", 3)}
		if err := s.Write(t.Context(), engine.Batch{Records: recs}); err != nil {
			t.Fatal(err)
		}
		var sums [][]byte
		for _, r := range recs {
			h := sha256.New()
			h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(r.Source.Stream))))
			h.Write([]byte(r.Source.Stream))
			h.Write(binary.BigEndian.AppendUint64(nil, uint64(r.Source.Offset)))
			h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(r.Value))))
			h.Write(r.Value)
			sums = append(sums, h.Sum(nil))
		}
		slices.SortFunc(sums, bytes.Compare)
		h := sha256.New()
		for _, s := range sums {
			h.Write(s)
		}
		want := hex.EncodeToString(h.Sum(nil))
		a, err := s.bucket.Attributes(t.Context(), keys(t, s.bucket)[0])
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Metadata[contentKey]; got != want {
			t.Errorf("%s: content hash %s, want %s", format, got, want)
		}
	}
}
