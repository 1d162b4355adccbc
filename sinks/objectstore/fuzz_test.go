package objectstore

import (
	"bytes"
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// FuzzArrowMapping feeds arbitrary JSON to the mapping from records to
// Arrow columns: a JSON object is one record, an array of objects several.
// Inference, the checks, the column builders and the Parquet writer must
// not panic, every row that passes its check must be written, and the file
// must read back with as many rows. The same rows are also checked against
// a declared schema.
func FuzzArrowMapping(f *testing.F) {
	for _, s := range []string{
		`{"event_id":"g1-42","ts":"2026-11-25T10:00:00.420Z","player_id":1042,"latency_ms":48.5,"device":{"os":"android","ver":"14"},"tags":["a"]}`,
		`[{"a":1},{"a":1.5},{"a":"x"},{"a":null},{"b":{"c":[1,[2]]}}]`,
		`[{"l":[]},{"l":[null]},{"l":[{"x":1},{"y":"z"}]},{"l":[[1],[2.5]]}]`,
		`{"":1,"a.b":{"":[]},"e":{},"n":null}`,
		`[{"s":{}},{"s":{"t":{}}},{"s":{"t":{"u":1}}}]`,
		`{"deep":[[[[[[[[[[[[[[[[[[[[{"x":1}]]]]]]]]]]]]]]]]]]]}`,
		`{"ts":1714566600123,"d":"2024-05-01","n":9223372036854775807,"f":1e308}`,
		`{}`, `[]`, `1`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	declared := fromSchema(mustSchema(f, `{event_id: string, ts: timestamp, d: date, player_id: int64, n: int32, latency_ms: float64,
		f: float32, b: binary, ok: bool, device: {os: string, ver: string}, tags: [string], l: [{x: int64}], a: int64}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := jsonCodec.Decode(data)
		if err != nil {
			return
		}
		var rows []map[string]any
		switch x := v.(type) {
		case map[string]any:
			rows = append(rows, x)
		case []any:
			for _, e := range x {
				if m, ok := e.(map[string]any); ok {
					rows = append(rows, m)
				}
			}
		}
		if len(rows) == 0 {
			return
		}
		in := newInferrer()
		for _, r := range rows {
			in.observe(r)
		}
		inferred := in.schema()
		for _, root := range []*colType{inferred, declared} {
			var ok []map[string]any
			for _, r := range rows {
				if checkRow(root, r) == nil {
					ok = append(ok, r)
				}
			}
			if len(root.fields) == 0 || len(ok) == 0 {
				continue
			}
			var buf bytes.Buffer
			enc, err := newParquetEncoder(&buf, root, objectOptions{compression: "snappy", rowGroupSize: 2})
			if err != nil {
				t.Fatalf("parquet writer for %v: %v", arrowSchema(root), err)
			}
			for _, r := range ok {
				if err := enc.add(r); err != nil {
					t.Fatalf("write row %v: %v", r, err)
				}
			}
			if err := enc.close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			tbl, err := fr.ReadTable(context.Background())
			if err != nil {
				t.Fatalf("read back %v: %v", arrowSchema(root), err)
			}
			if tbl.NumRows() != int64(len(ok)) {
				t.Fatalf("read back %d rows, wrote %d", tbl.NumRows(), len(ok))
			}
			tbl.Release()
			pf.Close()
		}
	})
}
