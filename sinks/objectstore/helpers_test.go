package objectstore

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"go.yaml.in/yaml/v3"
	"gocloud.dev/blob"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/codec"
	"github.com/sluicehq/sluice/engine/field"
	"github.com/sluicehq/sluice/engine/spec"
)

var jsonCodec = func() codec.Codec {
	c, err := codec.Lookup("json")
	if err != nil {
		panic(err)
	}
	return c
}()

// rec returns a JSON record with value v read from stream at offset.
func rec(v, stream string, offset int64) engine.Record {
	r := engine.NewRecord([]byte(v), jsonCodec)
	r.Source = engine.Position{Stream: stream, Offset: offset}
	r.Time = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(offset) * time.Second)
	return r
}

// decodeConfig decodes a YAML config over the defaults, as a pipeline
// file would, and validates it.
func decodeConfig(t testing.TB, src string) Config {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	d := spec.NewDecoder("test.yaml", nil)
	cfg := Defaults()
	d.Decode(&n, "", &cfg)
	if err := d.Err(); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return cfg
}

// openSink builds and opens a sink; it is closed when the test ends.
func openSink(t testing.TB, cfg Config) *Sink {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	s, err := New(cfg, engine.TestEnv())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Open(ctx); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// keys lists every object of b, sorted.
func keys(t testing.TB, b *blob.Bucket) []string {
	t.Helper()
	var out []string
	it := b.List(nil)
	for {
		o, err := it.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o.Key)
	}
	return out
}

// readLines reads a JSONL object, decompressing it by its extension.
func readLines(t testing.TB, b *blob.Bucket, key string) [][]byte {
	t.Helper()
	data, err := b.ReadAll(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = bytes.NewReader(data)
	switch {
	case strings.HasSuffix(key, ".gz"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case strings.HasSuffix(key, ".zst"):
		zr, err := zstd.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	var out [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return out
}

// readParquet reads a Parquet object back as an Arrow table, with the
// number of row groups in the file.
func readParquet(t testing.TB, b *blob.Bucket, key string) (arrow.Table, int) {
	t.Helper()
	data, err := b.ReadAll(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	tbl, groups, err := parquetTable(data)
	if err != nil {
		t.Fatalf("read parquet %s: %v", key, err)
	}
	t.Cleanup(tbl.Release)
	return tbl, groups
}

// readParquetBytes reads a Parquet file back as an Arrow table.
func readParquetBytes(t testing.TB, data []byte) arrow.Table {
	t.Helper()
	tbl, _, err := parquetTable(data)
	if err != nil {
		t.Fatalf("read parquet: %v", err)
	}
	t.Cleanup(tbl.Release)
	return tbl
}

func parquetTable(data []byte) (arrow.Table, int, error) {
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return nil, 0, err
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return nil, 0, err
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		return nil, 0, err
	}
	return tbl, pf.NumRowGroups(), nil
}

// event appends a synthetic game-telemetry event as JSON to dst, like the
// generate source's: seq numbers it, ts is its time.
func event(dst []byte, r *rand.Rand, seq int64, ts time.Time) []byte {
	dst = append(dst, `{"event_id":"g1-`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `","event":"`...)
	dst = append(dst, events[r.IntN(len(events))]...)
	dst = append(dst, `","ts":"`...)
	dst = ts.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	dst = append(dst, `","player_id":`...)
	dst = strconv.AppendInt(dst, int64(1000+r.IntN(10000)), 10)
	dst = append(dst, `,"match_id":`...)
	dst = strconv.AppendInt(dst, 70000+seq/200, 10)
	dst = append(dst, `,"region":"`...)
	dst = append(dst, regions[r.IntN(len(regions))]...)
	platform := platforms[r.IntN(len(platforms))]
	dst = append(dst, `","platform":"`...)
	dst = append(dst, platform...)
	dst = append(dst, `","latency_ms":`...)
	dst = strconv.AppendFloat(dst, float64(int64(r.ExpFloat64()*600))/10, 'f', -1, 64)
	dst = append(dst, `,"score":`...)
	dst = strconv.AppendInt(dst, int64(r.IntN(5000)), 10)
	dst = append(dst, `,"level":`...)
	dst = strconv.AppendInt(dst, int64(1+r.IntN(60)), 10)
	dst = append(dst, `,"device":{"os":"`...)
	dst = append(dst, platform...)
	dst = append(dst, `","ver":"`...)
	dst = append(dst, versions[r.IntN(len(versions))]...)
	dst = append(dst, `"},"tags":["`...)
	dst = append(dst, regions[r.IntN(len(regions))]...)
	dst = append(dst, `","`...)
	dst = append(dst, events[r.IntN(len(events))]...)
	dst = append(dst, `"]}`...)
	return dst
}

var (
	events    = []string{"heartbeat", "login", "match_start", "kill", "purchase", "match_end", "logout"}
	regions   = []string{"eu-west", "us-east", "ap-south", "sa-east"}
	platforms = []string{"android", "ios", "pc", "console"}
	versions  = []string{"12", "13", "14", "17.1", "18.0"}
)

// eventSchema is the declared schema of the synthetic events.
const eventSchema = `{event_id: string, event: string, ts: timestamp, player_id: int64, match_id: int64,
  region: string, platform: string, latency_ms: float64, score: int32, level: int32,
  device: {os: string, ver: string}, tags: [string]}`

// eventBatch returns n synthetic events from stream, starting at offset
// from, one millisecond apart from base; the values share one buffer.
func eventBatch(n int, stream string, from int64, base time.Time) (engine.Batch, int) {
	r := rand.New(rand.NewPCG(uint64(from), 7))
	var buf []byte
	ends := make([]int, n)
	for i := range n {
		buf = event(buf, r, from+int64(i), base.Add(time.Duration(from+int64(i))*time.Millisecond))
		ends[i] = len(buf)
	}
	recs := make([]engine.Record, n)
	prev := 0
	for i := range recs {
		recs[i] = engine.NewRecord(buf[prev:ends[i]:ends[i]], jsonCodec)
		recs[i].Source = engine.Position{Stream: stream, Offset: from + int64(i)}
		recs[i].Time = base.Add(time.Duration(from+int64(i)) * time.Millisecond)
		prev = ends[i]
	}
	return engine.Batch{Records: recs}, len(buf)
}

func mustSchema(t testing.TB, src string) Schema {
	t.Helper()
	s, err := ParseSchema(src)
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	return s
}

func fmtKeys(ks []string) string { return fmt.Sprintf("%q", ks) }

// parquetSchemaText prints the Parquet schema of a file.
func parquetSchemaText(t testing.TB, data []byte) string {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	var b strings.Builder
	schema.PrintSchema(pf.MetaData().Schema.Root(), &b, 2)
	return b.String()
}

// setFields changes r as the set transform does, with Record.Values and
// SetValue: set's fields get their values, del's are removed.
func setFields(r *engine.Record, set map[string]any, del ...string) error {
	names := slices.Collect(maps.Keys(set))
	l, _, err := r.Values(field.NewLayout(append(names, del...)...))
	if err != nil {
		return err
	}
	for name, v := range set {
		i, _ := l.Index(name)
		r.SetValue(l, i, field.FromAny(v))
	}
	for _, name := range del {
		i, _ := l.Index(name)
		r.SetValue(l, i, field.Missing())
	}
	return nil
}
