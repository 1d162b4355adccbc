package objectstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/checkpoint"
	"github.com/sluicehq/sluice/engine/enginetest"
)

func TestFormats(t *testing.T) {
	pq, pqWant := parquetFile(t, 7)
	lines := jsonl("x", 9)
	var lineWant []string
	for i := range 9 {
		lineWant = append(lineWant, fmt.Sprintf(`{"id":"x-%d"}`, i))
	}
	cases := []struct {
		name, key string
		data      []byte
		configure func(*Config)
		want      []string
		offsets   []int64
	}{
		{name: "jsonl", key: "a.jsonl", data: lines, want: lineWant},
		{name: "jsonl_gzip", key: "a.jsonl.gz", data: gzipped(t, lines), want: lineWant},
		{name: "jsonl_zstd", key: "a.jsonl.zst", data: zstded(t, lines), want: lineWant},
		{name: "compression_key", key: "a.data", data: gzipped(t, lines), want: lineWant,
			configure: func(c *Config) { c.Compression, c.Format = "gzip", "jsonl" }},
		{name: "jsonl_blank_lines_crlf", key: "b.jsonl", data: []byte("{\"a\":1}\r\n\n  \n{\"a\":2}"),
			want: []string{`{"a":1}`, `{"a":2}`}, offsets: []int64{0, 3}},
		{name: "csv", key: "c.csv", data: []byte("id,name\n1,\"a, b\"\n2,\"say \"\"hi\"\"\"\n3,x,extra\n"),
			want: []string{`{"id":"1","name":"a, b"}`, `{"id":"2","name":"say \"hi\""}`, `{"id":"3","name":"x","column_3":"extra"}`}},
		{name: "csv_semicolon_gzip", key: "c.csv.gz", data: gzipped(t, []byte("id;v\n1;2\n")),
			want: []string{`{"id":"1","v":"2"}`}, configure: func(c *Config) { c.CSV.Delimiter = ";" }},
		{name: "parquet", key: "p.parquet", data: pq, want: pqWant},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, b := testBucket(t)
			put(t, b, tc.key, tc.data)
			c := config(u)
			if tc.configure != nil {
				tc.configure(&c)
			}
			got := readAll(t, c, engine.TestEnv())
			if values(got) != strings.Join(tc.want, "\n") {
				t.Fatalf("values:\n%s\nwant:\n%s", values(got), strings.Join(tc.want, "\n"))
			}
			for i, r := range got {
				off := int64(i)
				if tc.offsets != nil {
					off = tc.offsets[i]
				}
				if r.Source != (engine.Position{Stream: tc.key, Offset: off}) {
					t.Errorf("record %d position %v, want %s@%d", i, r.Source, tc.key, off)
				}
				if r.Time.IsZero() {
					t.Errorf("record %d has no time", i)
				}
			}
		})
	}
}

func TestParquetResumeMidRowGroup(t *testing.T) {
	u, b := testBucket(t)
	pq, want := parquetFile(t, 7)
	put(t, b, "p.parquet", pq)
	env := engine.TestEnv()
	c := config(u)
	c.CheckpointInterval = time.Hour
	s := open(t, c, env)
	bt, ack, err := s.Read(t.Context()) // rows 0-3
	if err != nil {
		t.Fatal(err)
	}
	ack(t.Context(), nil)
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	rest := readAll(t, c, env)
	if values(rest) != strings.Join(want[4:], "\n") || rest[0].Source.Offset != 4 || bt.Len() != 4 {
		t.Fatalf("resumed at %v:\n%s", rest[0].Source, values(rest))
	}
}

func TestTimeField(t *testing.T) {
	u, b := testBucket(t)
	put(t, b, "a.jsonl", []byte(`{"m":{"ts":"2026-01-02T03:04:05Z"}}`+"\n"+`{"m":{"ts":1700000000000}}`+"\n"+`{"m":1}`+"\n"+
		`{"x":"\u00e9","m":{"ts":1700000000000.5}}`+"\n"+`{"m":{"ts":"not a time"}}`+"\n"+`not json`+"\n"))
	c := config(u)
	c.TimeField = "m.ts"
	got := readAll(t, c, engine.TestEnv())
	if !got[0].Time.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || !got[1].Time.Equal(time.UnixMilli(1700000000000)) ||
		!got[3].Time.Equal(time.UnixMicro(1700000000000500)) {
		t.Fatalf("times %v %v %v", got[0].Time, got[1].Time, got[3].Time)
	}
	for _, i := range []int{2, 4, 5} {
		if got[i].Time.Year() < 2026 { // modification time
			t.Fatalf("record %d: fallback time %v", i, got[i].Time)
		}
	}
}

func TestFilters(t *testing.T) {
	u, b := testBucket(t)
	for _, k := range []string{
		"events/dt=2026-11-01/a.jsonl.gz", "events/dt=2026-11-02/a.jsonl.gz", "events/dt=2026-11-02/h/b.jsonl.gz",
		"events/dt=2026-11-03/a.jsonl.gz", "events/dt=2026-11-02/a.csv", "events/nodate/a.jsonl.gz", "other/dt=2026-11-02/a.jsonl.gz",
	} {
		if strings.HasSuffix(k, ".csv") {
			put(t, b, k, []byte("id\nx\n"))
			continue
		}
		put(t, b, k, gzipped(t, jsonl(k, 1)))
	}
	cases := []struct {
		name      string
		configure func(*Config)
		want      []string
	}{
		{"prefix", func(c *Config) { c.Prefix = "events/dt=2026-11-02" },
			[]string{"events/dt=2026-11-02/a.csv", "events/dt=2026-11-02/a.jsonl.gz", "events/dt=2026-11-02/h/b.jsonl.gz"}},
		{"glob", func(c *Config) { c.Prefix, c.Glob = "events/", "events/*/*.jsonl.gz" },
			[]string{"events/dt=2026-11-01/a.jsonl.gz", "events/dt=2026-11-02/a.jsonl.gz", "events/dt=2026-11-03/a.jsonl.gz", "events/nodate/a.jsonl.gz"}},
		{"double_star", func(c *Config) { c.Glob = "**/h/*.gz" }, []string{"events/dt=2026-11-02/h/b.jsonl.gz"}},
		{"time_range", func(c *Config) {
			c.Prefix, c.Glob = "events/", "**/*.jsonl.gz"
			c.TimeKeyPattern = `dt=(?P<date>\d{4}-\d{2}-\d{2})`
			c.From, c.To = "2026-11-01T12:00:00Z", "2026-11-03T00:00:00Z"
		}, []string{"events/dt=2026-11-01/a.jsonl.gz", "events/dt=2026-11-02/a.jsonl.gz", "events/dt=2026-11-02/h/b.jsonl.gz"}},
		{"mod_time_range", func(c *Config) { c.Prefix, c.To = "events/", "2000-01-01T00:00:00Z" }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config(u)
			tc.configure(&c)
			got := readAll(t, c, engine.TestEnv())
			var keys []string
			for _, r := range got {
				keys = append(keys, r.Source.Stream)
			}
			if !slices.Equal(keys, tc.want) {
				t.Fatalf("read %q, want %q", keys, tc.want)
			}
		})
	}
}

func TestMatchGlob(t *testing.T) {
	cases := []struct {
		glob, key string
		want      bool
	}{
		{"**/*.jsonl.gz", "a.jsonl.gz", true},
		{"**/*.jsonl.gz", "x/y/a.jsonl.gz", true},
		{"**/*.jsonl.gz", "x/y/a.jsonl", false},
		{"x/**/a", "x/a", true},
		{"x/**/a", "x/1/2/a", true},
		{"x/*/a", "x/1/2/a", false},
		{"x/**", "x/1/2", true},
		{"*.csv", "d/a.csv", false},
	}
	for _, tc := range cases {
		if got := matchGlob(tc.glob, tc.key); got != tc.want {
			t.Errorf("matchGlob(%q, %q) = %v", tc.glob, tc.key, got)
		}
	}
}

func TestResume(t *testing.T) {
	u, b := testBucket(t)
	for _, k := range []string{"a.jsonl", "b.jsonl", "c.jsonl"} {
		put(t, b, k, jsonl(k, 10))
	}
	env := engine.TestEnv()
	c := config(u) // batches of 4: 4, 4, 2 per object
	c.CheckpointInterval = time.Hour
	s := open(t, c, env)
	read := func(s *Source) (engine.Batch, engine.Ack) {
		t.Helper()
		bt, ack, err := s.Read(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return bt, ack
	}
	first := map[string]int{}
	for i := range 6 { // a: 3 batches; b: 3 batches
		bt, ack := read(s)
		for k, n := range streams(bt.Records) {
			first[k] += n
		}
		switch i {
		case 4: // b lines 4-7: nacked, so b is committed only to 4
			ack(t.Context(), errors.New("nack"))
		default:
			ack(t.Context(), nil)
		}
	}
	p := s.Progress()
	if p.ObjectsTotal != 3 || p.ObjectsDone != 1 || p.Records != 20 || p.BytesRead == 0 || p.BytesTotal < p.BytesRead {
		t.Fatalf("progress %+v", p)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, c, env)
	if p := s2.Progress(); p.ObjectsDone != 1 || p.ObjectsTotal != 3 {
		t.Fatalf("progress after reopen %+v", p)
	}
	var rest []engine.Record
	for {
		bt, ack, err := s2.Read(t.Context())
		if errors.Is(err, engine.ErrEndOfInput) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rest = append(rest, detach(bt.Records)...)
		ack(t.Context(), nil)
	}
	if err := s2.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rest[0].Source != (engine.Position{Stream: "b.jsonl", Offset: 4}) {
		t.Fatalf("resumed at %v", rest[0].Source)
	}
	if got := streams(rest); got["a.jsonl"] != 0 || got["b.jsonl"] != 6 || got["c.jsonl"] != 10 {
		t.Fatalf("second run read %v", got)
	}
	if p := s2.Progress(); p.ObjectsDone != 3 {
		t.Fatalf("progress at end %+v", p)
	}
	// Everything is done: a third run reads nothing.
	if got := readAll(t, c, env); len(got) != 0 {
		t.Fatalf("third run read %d records", len(got))
	}
	c.Reset = true
	if got := readAll(t, c, env); len(got) != 30 {
		t.Fatalf("reset run read %d records, want 30", len(got))
	}
}

func TestPeriodicSave(t *testing.T) {
	u, b := testBucket(t)
	put(t, b, "a.jsonl", jsonl("a", 10))
	env := engine.TestEnv()
	c := config(u)
	c.CheckpointInterval = 10 * time.Millisecond
	s := open(t, c, env)
	defer s.Close(context.Background())
	_, ack, err := s.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ack(t.Context(), nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		tok, err := env.Checkpoints.Load(t.Context(), s.StateKey())
		if err == nil && strings.Contains(string(tok), `"a.jsonl":4`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("state not saved: %s %v", tok, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStateURL(t *testing.T) {
	u, b := testBucket(t)
	put(t, b, "a.jsonl", jsonl("a", 3))
	c := config(u)
	c.State = "file://" + t.TempDir()
	env := engine.TestEnv()
	env.Checkpoints = nil
	if got := readAll(t, c, env); len(got) != 3 {
		t.Fatalf("read %d", len(got))
	}
	if got := readAll(t, c, env); len(got) != 0 {
		t.Fatalf("second run read %d", len(got))
	}
}

func TestBucketStore(t *testing.T) {
	_, b := testBucket(t)
	s := NewBucketStore(b, "state/")
	ctx := t.Context()
	if _, err := s.Load(ctx, "p/k"); !errors.Is(err, checkpoint.ErrNotFound) {
		t.Fatalf("load missing: %v", err)
	}
	if err := s.Save(ctx, "p/k", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "p/k", []byte("two")); err != nil {
		t.Fatal(err)
	}
	if tok, err := s.Load(ctx, "p/k"); err != nil || string(tok) != "two" {
		t.Fatalf("load: %q %v", tok, err)
	}
	if ok, _ := b.Exists(ctx, "state/p/k"); !ok {
		t.Fatal("token not under the prefix")
	}
	if err := s.Delete(ctx, "p/k"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "p/k"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, "p/k"); !errors.Is(err, checkpoint.ErrNotFound) {
		t.Fatalf("load deleted: %v", err)
	}
	for _, k := range []string{"", "/a", "a/../b", "a//b"} {
		if err := s.Save(ctx, k, nil); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
}

func TestShards(t *testing.T) {
	u, b := testBucket(t)
	for i := range 12 {
		put(t, b, fmt.Sprintf("o%02d.jsonl", i), jsonl(fmt.Sprint(i), 2))
	}
	seen := map[string]int{}
	for i := range 3 {
		c := config(u)
		c.Shard = fmt.Sprintf("%d/3", i)
		for k, n := range streams(readAll(t, c, engine.TestEnv())) {
			seen[k] += n
		}
	}
	if len(seen) != 12 {
		t.Fatalf("shards read %d objects, want 12", len(seen))
	}
	for k, n := range seen {
		if n != 2 {
			t.Errorf("%s read %d records, want 2", k, n)
		}
	}
}

func TestRateLimit(t *testing.T) {
	u, b := testBucket(t)
	put(t, b, "a.jsonl", jsonl("a", 2000))
	c := config(u)
	c.BatchSize = 500
	c.Rate.Records = 4000
	start := time.Now()
	if got := readAll(t, c, engine.TestEnv()); len(got) != 2000 {
		t.Fatalf("read %d", len(got))
	}
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Fatalf("2000 records at 4000/s took %v", el)
	}
}

func TestReadHonoursContext(t *testing.T) {
	u, b := testBucket(t)
	put(t, b, "a.jsonl", jsonl("a", 10))
	c := config(u)
	c.Rate.Records = 40 // a batch of 4 waits 100ms
	s := open(t, c, engine.TestEnv())
	defer s.Close(context.Background())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, _, err := s.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	// The held batch is handed out by the next Read, not lost.
	c2, cancel2 := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel2()
	bt, _, err := s.Read(c2)
	if err != nil || bt.Records[0].Source.Offset != 0 {
		t.Fatalf("after cancel: %v %v", bt.Records, err)
	}
}

func TestMetrics(t *testing.T) {
	u, b := testBucket(t)
	put(t, b, "a.jsonl", jsonl("a", 3))
	put(t, b, "b.jsonl", jsonl("b", 3))
	env := engine.TestEnv()
	readAll(t, config(u), env)
	mfs, err := env.Metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()] += m.GetCounter().GetValue()
		}
	}
	if got["sluice_objectstore_objects_read_total"] != 2 || got["sluice_objectstore_bytes_read_total"] != float64(2*len(jsonl("a", 3))) {
		t.Fatalf("metrics %v", got)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name      string
		configure func(*Config)
		want      string // in the error; empty for valid
	}{
		{"defaults_with_url", func(*Config) {}, ""},
		{"no_url", func(c *Config) { c.URL = "" }, "url"},
		{"bad_glob", func(c *Config) { c.Glob = "a/[" }, "glob"},
		{"bad_from", func(c *Config) { c.From = "yesterday" }, "from"},
		{"to_before_from", func(c *Config) { c.From, c.To = "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z" }, "to"},
		{"pattern_without_group", func(c *Config) { c.TimeKeyPattern = `dt=(\d+)` }, "time_key_pattern"},
		{"bad_format", func(c *Config) { c.Format = "avro" }, "format"},
		{"bad_compression", func(c *Config) { c.Compression = "lz4" }, "compression"},
		{"bad_delimiter", func(c *Config) { c.CSV.Delimiter = ",," }, "csv.delimiter"},
		{"bad_batch", func(c *Config) { c.BatchSize = 0 }, "batch_size"},
		{"bad_shard", func(c *Config) { c.Shard = "3/3" }, "shard"},
		{"good_shard", func(c *Config) { c.Shard = "2/3" }, ""},
		{"bad_interval", func(c *Config) { c.CheckpointInterval = 0 }, "checkpoint_interval"},
		{"bad_rate", func(c *Config) { c.Rate.Records = -1 }, "rate.records"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			c.URL = "mem://"
			tc.configure(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one about %s", err, tc.want)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	r := engine.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	c, ok := r.Lookup(engine.KindSource, "objectstore")
	if !ok || !c.Bounded {
		t.Fatalf("registered %+v", c)
	}
}

func TestConformance(t *testing.T) {
	var (
		url   string
		store *checkpoint.MemStore
	)
	enginetest.SourceSuite(t, enginetest.SourceHarness{
		Reset: func(t *testing.T) {
			url = "file://" + t.TempDir()
			store = checkpoint.NewMemStore()
		},
		Produce: func(t *testing.T, vals [][]byte) {
			_, b := testBucketAt(t, url)
			var data []byte
			for _, v := range vals {
				data = append(append(data, v...), '\n')
			}
			put(t, b, "data/part-0.jsonl", data)
		},
		New: func(t *testing.T) engine.Source {
			c := config(url)
			c.BatchSize = 100
			env := engine.TestEnv()
			env.Checkpoints = store
			s, err := New(c, env)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Timeout: 10 * time.Second,
	})
}

func TestCorruptObjectIsPermanent(t *testing.T) {
	cases := []struct{ name, key, data string }{
		{"gzip", "a.jsonl.gz", "not gzip at all"},
		{"parquet", "a.parquet", "PAR1 nonsense"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, b := testBucket(t)
			put(t, b, tc.key, []byte(tc.data))
			s := open(t, config(u), engine.TestEnv())
			defer s.Close(context.Background())
			_, _, err := s.Read(t.Context())
			if err == nil || !engine.IsPermanent(err) || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("err = %v, want a permanent error naming %s", err, tc.key)
			}
		})
	}
}

func TestResumeFrom(t *testing.T) {
	u, b := testBucket(t)
	put(t, b, "a.jsonl", jsonl("a", 6))
	put(t, b, "b.jsonl", jsonl("b", 3))
	s, err := New(config(u), engine.TestEnv())
	if err != nil {
		t.Fatal(err)
	}
	s.ResumeFrom(map[string]int64{"a.jsonl": 3})
	if err := s.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	bt, _, err := s.Read(t.Context())
	if err != nil || bt.Len() != 2 || bt.Records[0].Source.Offset != 4 {
		t.Fatalf("first batch %v, %v", bt.Records, err)
	}
}
