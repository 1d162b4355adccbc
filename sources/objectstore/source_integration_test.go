//go:build integration

package objectstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/enginetest"
	"github.com/sluicehq/sluice/internal/bucket"
)

// TestS3 reads JSON lines and Parquet objects back from an S3-compatible
// server (SLUICE_TEST_S3_URL, such as
// s3://sluice-test?endpoint=http://127.0.0.1:9000&use_path_style=true&region=us-east-1),
// keeping its state in the same bucket, and resumes after a Close.
func TestS3(t *testing.T) {
	raw := enginetest.Env(t, "SLUICE_TEST_S3_URL")
	prefix := fmt.Sprintf("sluice-it/objectstore-source-%d/", time.Now().UnixNano())
	b, err := bucket.Open(t.Context(), raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		deleteAll(b, prefix)
		b.Close()
	})
	for i := range 3 {
		put(t, b, fmt.Sprintf("%sdata/dt=2026-11-0%d/part.jsonl.gz", prefix, i+1), gzipped(t, jsonl(fmt.Sprint(i), 10)))
	}
	pq, pqWant := parquetFile(t, 7)
	put(t, b, prefix+"data/dt=2026-11-04/part.parquet", pq)

	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + prefix + "state/"
	c := config(raw)
	c.Prefix = prefix + "data/"
	c.State = u.String()
	c.CheckpointInterval = time.Hour
	env := engine.TestEnv()
	env.Checkpoints = nil

	s := open(t, c, env)
	var first []engine.Record
	for range 4 { // object 1 (4+4+2) and the first batch of object 2
		bt, ack, err := s.Read(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		first = append(first, detach(bt.Records)...)
		ack(t.Context(), nil)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Exists(t.Context(), prefix+"state/"+s.StateKey()); !ok {
		t.Fatalf("no state object in the bucket: %v", err)
	}
	rest := readAll(t, c, env)
	if len(first) != 14 || len(rest) != 16+7 {
		t.Fatalf("read %d then %d records, want 14 then 23", len(first), len(rest))
	}
	if rest[0].Source.Offset != 4 || values(rest[len(rest)-7:]) != values(recordsOf(pqWant)) {
		t.Fatalf("resumed at %v; parquet rows:\n%s", rest[0].Source, values(rest[len(rest)-7:]))
	}
	if got := readAll(t, c, env); len(got) != 0 {
		t.Fatalf("third run read %d records", len(got))
	}
}

func recordsOf(vals []string) []engine.Record {
	out := make([]engine.Record, len(vals))
	for i, v := range vals {
		out[i].Value = []byte(v)
	}
	return out
}

// deleteAll removes the objects under prefix.
func deleteAll(b *blob.Bucket, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) || err != nil {
			return
		}
		b.Delete(ctx, o.Key)
	}
}
