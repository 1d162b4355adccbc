package objectstore

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/engine/spec"
	"github.com/sluicehq/sluice/internal/bucket"
)

// Config configures the objectstore sink.
type Config struct {
	URL          string `yaml:"url" spec:"required" doc:"Bucket URL: s3://BUCKET?region=... (AWS), s3://BUCKET?endpoint=http://HOST:PORT&use_path_style=true&region=us-east-1 (any S3-compatible server), file:///DIR or file://relative/dir (a local directory, created if missing), mem:// (in memory, tests). S3 credentials come from the usual AWS sources; the query part of the URL is never logged."`
	Path         string `yaml:"path" doc:"Prefix of the object names: a template rendered per record from its fields, such as 'events/dt={{ day }}/hour={{ format_time(ts, \"15\") }}/' (Hive-style partitions). Each object holds the records of one rendered prefix, and its name is appended to the prefix as it is: end the prefix with / for a directory. Default empty: objects at the root of the bucket. A record whose path cannot be rendered fails permanently (dead-lettered)."`
	Format       string `yaml:"format" enum:"parquet,jsonl" doc:"File format: parquet (columnar, typed by schema or inferred from the records) or jsonl (one record value per line, as the pipeline's codec encodes it)."`
	Compression  string `yaml:"compression" enum:"zstd,snappy,gzip,none" doc:"Compression. parquet: zstd, snappy or none, applied per column page inside the file; jsonl: gzip, zstd or none, of the whole object (.jsonl.gz, .jsonl.zst). Default: zstd for parquet, none for jsonl."`
	Schema       Schema `yaml:"schema" doc:"Parquet columns, name: type, in order; types are string, int64, int32, float64, float32, bool, timestamp (milliseconds, UTC), date, binary, {field: type, ...} for a struct and [type] for a list, such as {event_id: string, ts: timestamp, device: {os: string, ver: string}, tags: [string]}. Record fields not declared are not written; a declared field a record lacks, or that is null, is null. Default: each object's columns are inferred from the records it holds."`
	RowGroupSize int    `yaml:"row_group_size" doc:"Rows per Parquet row group. The sink builds one row group at a time and streams it to the bucket, so its memory grows with this, not with the object size."`
	Roll         Roll   `yaml:"roll" doc:"When to start a new object within one batch. The sink never keeps an object open across batches: size objects with the sink's batch policy and use roll to cut batches that are too large."`
	ContentType  string `yaml:"content_type" doc:"Content-Type of the objects. Default: application/vnd.apache.parquet, application/x-ndjson, or application/gzip and application/zstd for compressed jsonl."`
}

// Roll says when an object is closed and the next records of the same
// partition go to a new one. Each limit is measured on the records as the
// source read them, not on the bytes written, so that a replay of the same
// batch cuts it at the same records and writes the same object names. 0
// turns a limit off.
type Roll struct {
	Bytes   spec.ByteSize `yaml:"bytes" doc:"Largest size of the records of one object, counted as the batch policy counts them (value and key bytes as read, before format and compression): Parquet objects end up several times smaller. A single larger record gets an object of its own. 0: no limit."`
	Records int           `yaml:"records" doc:"Most records in one object. 0: no limit."`
	Age     time.Duration `yaml:"age" doc:"Longest span of record time (the event time the source set, else the read time) in one object: a record whose time is this far or further from the first record's time starts a new object. 0: no limit."`
}

// Formats.
const (
	FormatParquet = "parquet"
	FormatJSONL   = "jsonl"
)

// DefaultRowGroupSize is the default number of rows per Parquet row group.
const DefaultRowGroupSize = 64 << 10

// Defaults returns the sink defaults: Parquet with zstd, row groups of
// 65536 rows, objects of at most 128MiB of input records.
func Defaults() Config {
	return Config{
		Format:       FormatParquet,
		RowGroupSize: DefaultRowGroupSize,
		Roll:         Roll{Bytes: 128 << 20},
	}
}

var compressionsOf = map[string][]string{
	FormatParquet: {"zstd", "snappy", "none"},
	FormatJSONL:   {"gzip", "zstd", "none"},
}

// compression returns the compression in effect for c's format.
func (c Config) compression() string {
	if c.Compression != "" {
		return c.Compression
	}
	if c.Format == FormatParquet {
		return "zstd"
	}
	return "none"
}

// maxRowGroupSize bounds row_group_size: a row group is built in memory.
const maxRowGroupSize = 16 << 20

// Validate reports every problem at once. The path template is compiled by
// New.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.URL) == "" {
		errs = append(errs, spec.Errorf("url", "a bucket URL is required, such as s3://lake?region=eu-west-1 or file:///var/lib/lake"))
	} else if u, err := url.Parse(c.URL); err != nil {
		errs = append(errs, spec.Errorf("url", "cannot parse %s as a URL", bucket.Safe(c.URL)))
	} else if !slices.Contains(bucket.Schemes, u.Scheme) {
		errs = append(errs, spec.Errorf("url", "unsupported scheme %q in %s (supported: %s)", u.Scheme, bucket.Safe(c.URL), strings.Join(bucket.Schemes, ", ")))
	}
	if strings.HasPrefix(c.Path, "/") {
		errs = append(errs, spec.Errorf("path", "must not start with /: object names are relative to the bucket"))
	}
	comps, ok := compressionsOf[c.Format]
	if !ok {
		errs = append(errs, spec.Errorf("format", "expected parquet or jsonl, got %q", c.Format))
	} else if c.Compression != "" && !slices.Contains(comps, c.Compression) {
		errs = append(errs, spec.Errorf("compression", "expected %s for %s, got %q", strings.Join(comps, ", "), c.Format, c.Compression))
	}
	if len(c.Schema) > 0 {
		if c.Format != FormatParquet {
			errs = append(errs, spec.Errorf("schema", "applies to format parquet only, not %s", c.Format))
		}
		for _, err := range splitErrors(c.Schema.Validate()) {
			errs = append(errs, spec.At("schema", err))
		}
	}
	if c.RowGroupSize < 1 || c.RowGroupSize > maxRowGroupSize {
		errs = append(errs, spec.Errorf("row_group_size", "expected 1 to %d rows, got %d", maxRowGroupSize, c.RowGroupSize))
	}
	if c.Roll.Bytes < 0 {
		errs = append(errs, spec.Errorf("roll.bytes", "must not be negative, got %d", c.Roll.Bytes))
	}
	if c.Roll.Records < 0 {
		errs = append(errs, spec.Errorf("roll.records", "must not be negative, got %d", c.Roll.Records))
	}
	if c.Roll.Age < 0 {
		errs = append(errs, spec.Errorf("roll.age", "must not be negative, got %s", c.Roll.Age))
	}
	if strings.ContainsAny(c.ContentType, "\r\n") {
		errs = append(errs, spec.Errorf("content_type", "must be one line"))
	}
	return errors.Join(errs...)
}

// extension returns the file name extension of c's objects.
func (c Config) extension() string {
	if c.Format == FormatParquet {
		return ".parquet"
	}
	switch c.compression() {
	case "gzip":
		return ".jsonl.gz"
	case "zstd":
		return ".jsonl.zst"
	}
	return ".jsonl"
}

// contentType returns the Content-Type of c's objects.
func (c Config) contentType() string {
	if c.ContentType != "" {
		return c.ContentType
	}
	if c.Format == FormatParquet {
		return "application/vnd.apache.parquet"
	}
	switch c.compression() {
	case "gzip":
		return "application/gzip"
	case "zstd":
		return "application/zstd"
	}
	return "application/x-ndjson"
}

// splitErrors returns the errors joined in err, or err alone.
func splitErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
