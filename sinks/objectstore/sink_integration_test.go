//go:build integration

package objectstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/sluicehq/sluice/engine"

	"github.com/sluicehq/sluice/engine/enginetest"
)

// TestIntegrationS3 writes Parquet and JSONL objects to a real
// S3-compatible server (SLUICE_TEST_S3_URL, such as
// s3://sluice-test?endpoint=http://127.0.0.1:7070&use_path_style=true&region=us-east-1,
// with credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), one of
// them over 20MiB so that it goes up as a multipart upload, lists and reads
// them back, replays a batch to check that it writes the same names, and,
// when SLUICE_TEST_PYTHON names a Python with pyarrow (or is 1 for
// python3), reads the Parquet object with pyarrow.
func TestIntegrationS3(t *testing.T) {
	url := enginetest.Env(t, "SLUICE_TEST_S3_URL")
	prefix := fmt.Sprintf("sluice-it/objectstore-%d/", time.Now().UnixNano())
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

	pq := Defaults()
	pq.URL = url
	pq.Path = prefix + `parquet/dt={{ format_time(ts, "2006-01-02") }}/`
	pq.Schema = mustSchema(t, eventSchema)
	pq.RowGroupSize = 4096
	ps := openSink(t, pq)
	t.Cleanup(func() { deletePrefix(t, ps.bucket, prefix) })

	pb, _ := eventBatch(20000, "game-events/0", 0, base)
	if err := ps.Write(t.Context(), pb); err != nil {
		t.Fatalf("write parquet: %v", err)
	}
	pkeys := list(t, ps.bucket, prefix+"parquet/")
	if len(pkeys) != 1 || !strings.HasPrefix(pkeys[0], prefix+"parquet/dt=2024-05-01/") {
		t.Fatalf("parquet objects %s", fmtKeys(pkeys))
	}
	tbl, groups := readParquet(t, ps.bucket, pkeys[0])
	if tbl.NumRows() != 20000 || groups != 5 {
		t.Fatalf("parquet object: %d rows in %d row groups, want 20000 in 5", tbl.NumRows(), groups)
	}

	jl := Defaults()
	jl.URL = url
	jl.Path = prefix + "jsonl/"
	jl.Format = FormatJSONL
	js := openSink(t, jl)
	jb, size := eventBatch(100000, "game-events/1", 0, base)
	if size < 20<<20 {
		t.Fatalf("JSONL batch is %d bytes, want over 20MiB", size)
	}
	start := time.Now()
	if err := js.Write(t.Context(), jb); err != nil {
		t.Fatalf("write jsonl: %v", err)
	}
	t.Logf("wrote a %.1f MiB JSONL object in %s", float64(size)/(1<<20), time.Since(start).Round(time.Millisecond))
	jkeys := list(t, js.bucket, prefix+"jsonl/")
	if len(jkeys) != 1 {
		t.Fatalf("jsonl objects %s", fmtKeys(jkeys))
	}
	lines := readLines(t, js.bucket, jkeys[0])
	if len(lines) != len(jb.Records) {
		t.Fatalf("read back %d lines, wrote %d", len(lines), len(jb.Records))
	}
	for i, l := range lines {
		if !bytes.Equal(l, jb.Records[i].Value) {
			t.Fatalf("line %d differs:\n got %s\nwant %s", i, l, jb.Records[i].Value)
		}
	}
	// A replay through a new sink writes the same name.
	js2 := openSink(t, jl)
	jb2, _ := eventBatch(100000, "game-events/1", 0, base)
	if err := js2.Write(t.Context(), jb2); err != nil {
		t.Fatalf("replay jsonl: %v", err)
	}
	if got := list(t, js.bucket, prefix+"jsonl/"); len(got) != 1 || got[0] != jkeys[0] {
		t.Fatalf("after replay: objects %s, want %s", fmtKeys(got), fmtKeys(jkeys))
	}

	// Concurrent batches holding other records at the same positions (a
	// fan-out transform) never replace one another: the conditional create
	// holds on the server too.
	cc := jl
	cc.Path = prefix + "concurrent/"
	const writers = 4
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		cs := openSink(t, cc) // one sink each: no in-process lock between them
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs := []engine.Record{rec(fmt.Sprintf(`{"copy":%d,"n":0}`, w), "s", 5), rec(fmt.Sprintf(`{"copy":%d,"n":1}`, w), "s", 9)}
			errs <- cs.Write(t.Context(), engine.Batch{Records: recs})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var copies int
	for _, k := range list(t, js.bucket, prefix+"concurrent/") {
		copies += len(readLines(t, js.bucket, k))
	}
	if copies != 2*writers {
		t.Fatalf("concurrent writes left %d records, want %d", copies, 2*writers)
	}

	// A bucket that does not exist fails Open, without printing the query.
	missing := strings.Replace(url, "s3://", "s3://sluice-missing-"+strconv.FormatInt(time.Now().UnixNano(), 36)+"-", 1)
	ms, err := New(Config{URL: missing, Format: FormatJSONL, RowGroupSize: 1}, engine.TestEnv())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	err = ms.Open(ctx)
	cancel()
	if err == nil || strings.Contains(err.Error(), "endpoint=") {
		t.Fatalf("Open of a missing bucket: %v", err)
	}
	t.Logf("missing bucket: %v", err)

	py := os.Getenv("SLUICE_TEST_PYTHON")
	if py == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("SLUICE_TEST_PYTHON is not set: CI must read the Parquet object with pyarrow")
		}
		t.Log("SLUICE_TEST_PYTHON is not set: not reading the Parquet object with pyarrow")
		return
	}
	if py == "1" || py == "true" {
		py = "python3"
	}
	data, err := ps.bucket.ReadAll(t.Context(), pkeys[0])
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "events.parquet")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c",
		`import sys, pyarrow.parquet as pq; t = pq.read_table(sys.argv[1]); print(t.num_rows); print(",".join(t.schema.names)); print(t.schema)`,
		path).CombinedOutput()
	if err != nil {
		t.Fatalf("pyarrow: %v\n%s", err, out)
	}
	outLines := strings.SplitN(string(out), "\n", 3)
	if n, err := strconv.Atoi(strings.TrimSpace(outLines[0])); err != nil || n != 20000 {
		t.Fatalf("pyarrow read %q rows, want 20000:\n%s", outLines[0], out)
	}
	var want []string
	for _, c := range pq.Schema {
		want = append(want, c.Name)
	}
	if got := strings.TrimSpace(outLines[1]); got != strings.Join(want, ",") {
		t.Fatalf("pyarrow columns %s, want %s", got, strings.Join(want, ","))
	}
	t.Logf("pyarrow reads %s", out)
}

// list returns the keys under prefix.
func list(t *testing.T, b *blob.Bucket, prefix string) []string {
	t.Helper()
	var out []string
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(t.Context())
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("list %s: %v", prefix, err)
		}
		out = append(out, o.Key)
	}
}

// deletePrefix removes what the test wrote.
func deletePrefix(t *testing.T, b *blob.Bucket, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(ctx)
		if err != nil {
			return
		}
		if err := b.Delete(ctx, o.Key); err != nil {
			t.Logf("delete %s: %v", o.Key, err)
		}
	}
}
