package objectstore

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/klauspost/compress/zstd"
	"gocloud.dev/blob"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/internal/bucket"
)

// testBucket returns the URL of an empty file bucket and the bucket open
// on it.
func testBucket(t *testing.T) (string, *blob.Bucket) {
	t.Helper()
	u := "file://" + t.TempDir()
	b, err := bucket.Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return u, b
}

func put(t *testing.T, b *blob.Bucket, key string, data []byte) {
	t.Helper()
	if err := b.WriteAll(context.Background(), key, data, nil); err != nil {
		t.Fatal(err)
	}
}

// jsonl returns n lines {"id":"<name>-i"}.
func jsonl(name string, n int) []byte {
	var buf bytes.Buffer
	for i := range n {
		fmt.Fprintf(&buf, "{\"id\":\"%s-%d\"}\n", name, i)
	}
	return buf.Bytes()
}

func gzipped(t *testing.T, data []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstded(t *testing.T, data []byte) []byte {
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(data, nil)
}

// parquetFile returns n rows {id, name, ts, device{os}, tags[]} in row
// groups of 3, and the JSON the source makes of each.
func parquetFile(t testing.TB, n int) ([]byte, []string) {
	t.Helper()
	return parquetFileGroups(t, n, 3)
}

// parquetFileGroups is parquetFile with row groups of groupRows.
func parquetFileGroups(t testing.TB, n, groupRows int) ([]byte, []string) {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "device", Type: arrow.StructOf(arrow.Field{Name: "os", Type: arrow.BinaryTypes.String})},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String)},
	}, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer rb.Release()
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	want := make([]string, n)
	for i := range n {
		rb.Field(0).(*array.Int64Builder).Append(int64(i))
		name := fmt.Sprintf(`"n\"%d"`, i)
		if i == 1 {
			rb.Field(1).(*array.StringBuilder).AppendNull()
			name = "null"
		} else {
			rb.Field(1).(*array.StringBuilder).Append(fmt.Sprintf(`n"%d`, i))
		}
		ts := base.Add(time.Duration(i) * 1500 * time.Millisecond)
		rb.Field(2).(*array.TimestampBuilder).AppendTime(ts)
		rb.Field(3).(*array.Float64Builder).Append(float64(i) + 0.5)
		sb := rb.Field(4).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.StringBuilder).Append("ios")
		lb := rb.Field(5).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.StringBuilder).Append("a")
		lb.ValueBuilder().(*array.StringBuilder).Append(fmt.Sprint(i))
		want[i] = fmt.Sprintf(`{"id":%d,"name":%s,"ts":%q,"score":%v,"device":{"os":"ios"},"tags":["a","%d"]}`,
			i, name, ts.Format(time.RFC3339Nano), float64(i)+0.5, i)
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(int64(groupRows)))
	fw, err := pqarrow.NewFileWriter(sc, &buf, props, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), want
}

// config returns a config reading url with small batches.
func config(url string) Config {
	c := Defaults()
	c.URL = url
	c.BatchSize = 4
	return c
}

func open(t *testing.T, c Config, env engine.Env) *Source {
	t.Helper()
	s, err := New(c, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// readAll reads to the end, acknowledging every batch, and closes.
func readAll(t *testing.T, c Config, env engine.Env) []engine.Record {
	t.Helper()
	s := open(t, c, env)
	var out []engine.Record
	for {
		b, ack, err := s.Read(t.Context())
		if errors.Is(err, engine.ErrEndOfInput) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, detach(b.Records)...)
		ack(t.Context(), nil)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	return out
}

// detach returns copies of recs that keep nothing of the batch, whose
// buffers the source reuses once it is acknowledged.
func detach(recs []engine.Record) []engine.Record {
	out := make([]engine.Record, len(recs))
	for i, r := range recs {
		out[i] = engine.NewRecord(bytes.Clone(r.Value), r.Codec())
		out[i].Key, out[i].Time, out[i].Source = bytes.Clone(r.Key), r.Time, r.Source
	}
	return out
}

func values(recs []engine.Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, string(r.Value))
	}
	return strings.Join(s, "\n")
}

func streams(recs []engine.Record) map[string]int {
	m := map[string]int{}
	for _, r := range recs {
		m[r.Source.Stream]++
	}
	return m
}

// testBucketAt opens the file bucket at url.
func testBucketAt(t *testing.T, url string) (string, *blob.Bucket) {
	t.Helper()
	b, err := bucket.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return url, b
}
