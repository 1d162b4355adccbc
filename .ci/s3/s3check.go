//go:build ignore

// s3check talks to the S3 server that .ci/lib/s3.sh starts, through
// gocloud.dev/blob's s3blob driver, the same code path as Sluice's s3:// buckets.
// Run from the repository root (it uses the module's go.mod):
//
//	go run .ci/s3/s3check.go mkbucket NAME   # create a bucket (ok if it exists)
//	go run .ci/s3/s3check.go selftest        # round trips on $SLUICE_TEST_S3_URL
//
// Needs the environment s3_start exports: SLUICE_TEST_S3 (endpoint),
// SLUICE_TEST_S3_URL and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: s3check mkbucket NAME | selftest")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var err error
	switch os.Args[1] {
	case "mkbucket":
		if len(os.Args) != 3 {
			err = errors.New("usage: s3check mkbucket NAME")
			break
		}
		err = mkbucket(ctx, os.Args[2])
	case "selftest":
		err = selftest(ctx)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3check:", err)
		os.Exit(1)
	}
}

// bucketURL is the gocloud URL of bucket name on the test server, with extra
// query parameters.
func bucketURL(name string, extra ...string) (string, error) {
	ep := os.Getenv("SLUICE_TEST_S3")
	if ep == "" {
		return "", errors.New("SLUICE_TEST_S3 is not set (run s3_start)")
	}
	q := url.Values{}
	q.Set("endpoint", ep)
	q.Set("use_path_style", "true")
	q.Set("region", "us-east-1")
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return "s3://" + name + "?" + q.Encode(), nil
}

func open(ctx context.Context, rawURL string) (*blob.Bucket, *s3.Client, error) {
	b, err := blob.OpenBucket(ctx, rawURL)
	if err != nil {
		return nil, nil, err
	}
	var c *s3.Client
	if !b.As(&c) {
		b.Close()
		return nil, nil, errors.New("bucket is not an s3blob bucket")
	}
	return b, c, nil
}

func mkbucket(ctx context.Context, name string) error {
	u, err := bucketURL(name)
	if err != nil {
		return err
	}
	b, c, err := open(ctx, u)
	if err != nil {
		return err
	}
	defer b.Close()
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

type step struct {
	name string
	t0   time.Time
}

func begin(name string) *step { return &step{name, time.Now()} }
func (s *step) ok(format string, args ...any) {
	msg := ""
	if format != "" {
		msg = ": " + fmt.Sprintf(format, args...)
	}
	fmt.Printf("  ok   %-34s %6.0fms%s\n", s.name, float64(time.Since(s.t0).Microseconds())/1000, msg)
}

func sum(p []byte) string { h := sha256.Sum256(p); return fmt.Sprintf("%x", h[:6]) }

// bigRoundTrip writes size random bytes through a gocloud writer and reads
// them back; returns the ETag the server gave (a multipart ETag ends in -N).
func bigRoundTrip(ctx context.Context, b *blob.Bucket, c *s3.Client, bucket, key string, size int, opts *blob.WriterOptions) (string, error) {
	data := make([]byte, size)
	rand.Read(data)
	w, err := b.NewWriter(ctx, key, opts)
	if err != nil {
		return "", err
	}
	// Write in 256 KiB pieces, as a streaming sink would.
	for off := 0; off < len(data); off += 256 << 10 {
		end := min(off+256<<10, len(data))
		if _, err := w.Write(data[off:end]); err != nil {
			w.Close()
			return "", fmt.Errorf("write: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("close writer: %w", err)
	}
	got, err := b.ReadAll(ctx, key)
	if err != nil {
		return "", fmt.Errorf("read back: %w", err)
	}
	if !bytes.Equal(got, data) {
		return "", fmt.Errorf("read back %d bytes (sha %s), wrote %d (sha %s)", len(got), sum(got), len(data), sum(data))
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", fmt.Errorf("head: %w", err)
	}
	return strings.Trim(aws.ToString(h.ETag), `"`), nil
}

func selftest(ctx context.Context) error {
	raw := os.Getenv("SLUICE_TEST_S3_URL")
	bucket := os.Getenv("SLUICE_TEST_S3_BUCKET")
	if raw == "" || bucket == "" {
		return errors.New("SLUICE_TEST_S3_URL / SLUICE_TEST_S3_BUCKET not set (run s3_start)")
	}
	b, c, err := open(ctx, raw)
	if err != nil {
		return fmt.Errorf("open %s: %w", raw, err)
	}
	defer b.Close()
	prefix := fmt.Sprintf("selftest-%d/", time.Now().UnixNano())

	s := begin("accessible")
	if ok, err := b.IsAccessible(ctx); err != nil || !ok {
		return fmt.Errorf("bucket not accessible: %v", err)
	}
	s.ok("")

	// Small object with content type and metadata.
	s = begin("small write/read")
	small := []byte("hello from sluice\n")
	if err := b.WriteAll(ctx, prefix+"small.txt", small, &blob.WriterOptions{
		ContentType: "text/plain", Metadata: map[string]string{"sluice-run": "selftest"}}); err != nil {
		return fmt.Errorf("write small: %w", err)
	}
	got, err := b.ReadAll(ctx, prefix+"small.txt")
	if err != nil || !bytes.Equal(got, small) {
		return fmt.Errorf("read small: %q, %v", got, err)
	}
	a, err := b.Attributes(ctx, prefix+"small.txt")
	if err != nil {
		return fmt.Errorf("attributes: %w", err)
	}
	if a.Size != int64(len(small)) || a.ContentType != "text/plain" || a.Metadata["sluice-run"] != "selftest" {
		return fmt.Errorf("attributes: size %d type %q metadata %v", a.Size, a.ContentType, a.Metadata)
	}
	s.ok("%d bytes, etag %s, metadata kept", a.Size, a.ETag)

	s = begin("range read")
	r, err := b.NewRangeReader(ctx, prefix+"small.txt", 6, 4, nil)
	if err != nil {
		return fmt.Errorf("range reader: %w", err)
	}
	part, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(part) != "from" {
		return fmt.Errorf("range read: %q, %v", part, err)
	}
	s.ok("")

	s = begin("conditional write (IfNotExist)")
	err = b.WriteAll(ctx, prefix+"small.txt", []byte("x"), &blob.WriterOptions{IfNotExist: true})
	if gcerrors.Code(err) != gcerrors.FailedPrecondition {
		return fmt.Errorf("IfNotExist on an existing key: want FailedPrecondition, got %v", err)
	}
	if err := b.WriteAll(ctx, prefix+"new.txt", []byte("x"), &blob.WriterOptions{IfNotExist: true}); err != nil {
		return fmt.Errorf("IfNotExist on a new key: %w", err)
	}
	s.ok("existing key refused, new key written")

	s = begin("copy")
	if err := b.Copy(ctx, prefix+"dir/copy.txt", prefix+"small.txt", nil); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	s.ok("")

	s = begin("list")
	var keys []string
	it := b.List(&blob.ListOptions{Prefix: prefix, Delimiter: "/"})
	for {
		o, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		keys = append(keys, strings.TrimPrefix(o.Key, prefix))
	}
	if strings.Join(keys, ",") != "dir/,new.txt,small.txt" {
		return fmt.Errorf("list with delimiter: %v", keys)
	}
	s.ok("%v", keys)

	// Multipart: the transfer manager under s3blob uploads in 8 MiB parts once
	// an object passes 16 MiB; the Parquet sink writes this way.
	const big = 20 << 20
	s = begin("20 MiB, default writer")
	etag, err := bigRoundTrip(ctx, b, c, bucket, prefix+"big-default.bin", big, nil)
	if err != nil {
		return fmt.Errorf("20 MiB default: %w", err)
	}
	if !strings.Contains(etag, "-") {
		return fmt.Errorf("20 MiB default: etag %s is not a multipart etag", etag)
	}
	s.ok("etag %s", etag)

	s = begin("20 MiB, 5 MiB parts x2")
	etag, err = bigRoundTrip(ctx, b, c, bucket, prefix+"big-5m.bin", big, &blob.WriterOptions{BufferSize: 5 << 20, MaxConcurrency: 2})
	if err != nil {
		return fmt.Errorf("20 MiB, 5 MiB parts: %w", err)
	}
	s.ok("etag %s", etag)

	s = begin("20 MiB, checksum when_required")
	u2, err := bucketURL(bucket, "request_checksum_calculation", "when_required", "response_checksum_validation", "when_required")
	if err != nil {
		return err
	}
	b2, c2, err := open(ctx, u2)
	if err != nil {
		return err
	}
	etag, err = bigRoundTrip(ctx, b2, c2, bucket, prefix+"big-nochecksum.bin", big, nil)
	b2.Close()
	if err != nil {
		return fmt.Errorf("20 MiB, when_required: %w", err)
	}
	s.ok("etag %s", etag)

	// An upload cancelled half way must leave no object and no open upload.
	s = begin("cancelled multipart write")
	cctx, ccancel := context.WithCancel(ctx)
	w, err := b.NewWriter(cctx, prefix+"cancelled.bin", &blob.WriterOptions{BufferSize: 5 << 20})
	if err != nil {
		ccancel()
		return err
	}
	// 24 MiB: past the 16 MiB threshold, so parts are on their way.
	chunk := make([]byte, 1<<20)
	for i := 0; i < 24; i++ {
		if _, err := w.Write(chunk); err != nil {
			break
		}
	}
	ccancel()
	werr := w.Close()
	if werr == nil {
		return errors.New("cancelled write: Close returned nil")
	}
	if ok, err := b.Exists(ctx, prefix+"cancelled.bin"); err != nil || ok {
		return fmt.Errorf("cancelled write: object exists=%v err=%v", ok, err)
	}
	var open int
	for i := 0; i < 20; i++ { // the abort may still be on its way
		mu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
		if err != nil {
			return fmt.Errorf("list multipart uploads: %w", err)
		}
		open = len(mu.Uploads)
		if open == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if open != 0 {
		// gocloud v0.47 / transfermanager v0.4.3 abort with the cancelled
		// context (Options.FailTimeout is unset), so the abort never leaves.
		fmt.Printf("  WARN a cancelled multipart write left %d open upload(s) (the client's abort used the cancelled context)\n", open)
	}
	s.ok("Close: %v; open uploads left: %d", firstLine(werr), open)

	s = begin("delete")
	for _, k := range []string{"small.txt", "new.txt", "dir/copy.txt", "big-default.bin", "big-5m.bin", "big-nochecksum.bin"} {
		if err := b.Delete(ctx, prefix+k); err != nil {
			return fmt.Errorf("delete %s: %w", k, err)
		}
	}
	if _, err := b.Attributes(ctx, prefix+"small.txt"); gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("after delete: want NotFound, got %v", err)
	}
	if err := b.Delete(ctx, prefix+"small.txt"); gcerrors.Code(err) != gcerrors.NotFound && err != nil {
		return fmt.Errorf("delete again: %v", err)
	}
	it = b.List(&blob.ListOptions{Prefix: prefix})
	if o, err := it.Next(ctx); err != io.EOF {
		return fmt.Errorf("after delete, list: %v %v", o, err)
	}
	s.ok("prefix empty")
	return nil
}

func firstLine(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 90 {
		msg = msg[:90] + "..."
	}
	return msg
}
