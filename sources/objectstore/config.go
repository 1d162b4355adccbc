package objectstore

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/engine/spec"
)

// Config configures the objectstore source.
type Config struct {
	URL                string        `yaml:"url" spec:"required" doc:"Bucket URL: s3://BUCKET?region=... (AWS), s3://BUCKET?endpoint=http://HOST:PORT&use_path_style=true&region=us-east-1 (any S3-compatible server), file:///DIR or file://relative/dir (a local directory), mem:// (in memory, tests). The query part of the URL is never logged."`
	Prefix             string        `yaml:"prefix" doc:"Read only objects whose key starts with this prefix, such as events/ or events/dt=2026-11. Default empty: the whole bucket."`
	Glob               string        `yaml:"glob" doc:"Read only objects whose whole key matches this pattern: path.Match syntax per /-separated segment, plus ** for any number of segments, such as '**/*.jsonl.gz'. Default empty: every object under the prefix."`
	From               string        `yaml:"from" doc:"Read only objects whose time is at or after this instant (RFC 3339, such as 2026-11-01T00:00:00Z). An object's time comes from time_key_pattern, else its modification time. Default empty: no lower bound."`
	To                 string        `yaml:"to" doc:"Read only objects whose time is before this instant (RFC 3339). Default empty: no upper bound."`
	TimeKeyPattern     string        `yaml:"time_key_pattern" doc:"Regular expression that takes an object's time from its key, with a named group date (2006-01-02) and optionally hour (15), or a group datetime (RFC 3339, or 2006-01-02T15:04:05 / 2006-01-02T15 in UTC), such as 'dt=(?P<date>\\d{4}-\\d{2}-\\d{2})/hour=(?P<hour>\\d{2})'. A date covers the whole day and an hour the whole hour: the object is read when that span overlaps from..to. A key that does not match uses its modification time. Default empty: modification time."`
	Format             string        `yaml:"format" enum:"auto,jsonl,csv,parquet" doc:"File format: jsonl (one JSON value per line), csv (with a header row; each row becomes a JSON object of strings), parquet (each row becomes a JSON object). auto picks by the key's extension: .parquet, .csv (also .csv.gz, .csv.zst), else jsonl."`
	Compression        string        `yaml:"compression" enum:"auto,none,gzip,zstd" doc:"Compression of whole jsonl and csv objects. auto picks by extension: .gz is gzip, .zst or .zstd is zstd, else none. Parquet objects compress their pages inside the file and ignore this."`
	CSV                CSVConfig     `yaml:"csv" doc:"Options of the csv format."`
	TimeField          string        `yaml:"time_field" doc:"Field of each record that holds its event time, a dotted path such as ts or meta.time; an RFC 3339 string or a number of Unix milliseconds. Records without it, or with another type, take the object's modification time. Default empty: the object's modification time."`
	BatchSize          int           `yaml:"batch_size" doc:"Most records per batch. A batch never spans two objects."`
	State              string        `yaml:"state" doc:"Where to keep which objects are done and how far the current one was read: file://DIR (one machine), s3://BUCKET/PREFIX?endpoint=... (a bucket, for workers that share a backfill), mem:// (tests). Default empty: the pipeline's checkpoint store (file://.sluice/state for sluice run)."`
	CheckpointInterval time.Duration `yaml:"checkpoint_interval" doc:"How often the state is saved while reading; it is also saved on close. A crash re-reads at most this much of acknowledged records."`
	Reset              bool          `yaml:"reset" doc:"Forget the saved state on open and read every matching object again."`
	Shard              string        `yaml:"shard" doc:"Read only shard i of N, written i/N such as 2/8: the objects whose key hashes (FNV-1a 64) to i modulo N. Run N workers with 0/N to N-1/N (for example shard: '${SLUICE_SHARD:-0/1}') to split a backfill. Default empty: every object (0/1)."`
	Rate               Rate          `yaml:"rate" doc:"Most records and bytes per second, averaged over one second. Default: no limit."`
}

// CSVConfig configures the csv format.
type CSVConfig struct {
	Delimiter string `yaml:"delimiter" doc:"Field delimiter, one character, such as , or ; or a tab."`
}

// Rate limits how fast the source reads.
type Rate struct {
	Records int           `yaml:"records" doc:"Most records per second. 0: no limit."`
	Bytes   spec.ByteSize `yaml:"bytes" doc:"Most bytes of record values per second, such as 10MiB. 0: no limit."`
}

// Defaults returns the default config: every object of the bucket, format
// and compression by extension, batches of 500 records, state saved every
// second into the pipeline's checkpoint store, no rate limit.
func Defaults() Config {
	return Config{
		Format:             "auto",
		Compression:        "auto",
		CSV:                CSVConfig{Delimiter: ","},
		BatchSize:          500,
		CheckpointInterval: time.Second,
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, spec.Errorf("url", "must be set"))
	} else if u, err := url.Parse(c.URL); err != nil || u.Scheme == "" {
		errs = append(errs, spec.Errorf("url", "expected a bucket URL such as s3://bucket or file:///dir"))
	}
	if c.Glob != "" {
		if err := checkGlob(c.Glob); err != nil {
			errs = append(errs, spec.At("glob", err))
		}
	}
	var from, to time.Time
	for _, f := range []struct {
		key, val string
		out      *time.Time
	}{{"from", c.From, &from}, {"to", c.To, &to}} {
		if f.val == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f.val)
		if err != nil {
			errs = append(errs, spec.Errorf(f.key, "expected an RFC 3339 time such as 2026-11-25T00:00:00Z, got %q", f.val))
			continue
		}
		*f.out = t
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		errs = append(errs, spec.Errorf("to", "must be after from (%s), got %s", c.From, c.To))
	}
	if c.TimeKeyPattern != "" {
		if _, err := compileTimeKey(c.TimeKeyPattern); err != nil {
			errs = append(errs, spec.At("time_key_pattern", err))
		}
	}
	if !slices.Contains([]string{"auto", "jsonl", "csv", "parquet"}, c.Format) {
		errs = append(errs, spec.Errorf("format", "expected auto, jsonl, csv or parquet, got %q", c.Format))
	}
	if !slices.Contains([]string{"auto", "none", "gzip", "zstd"}, c.Compression) {
		errs = append(errs, spec.Errorf("compression", "expected auto, none, gzip or zstd, got %q", c.Compression))
	}
	if r, size := utf8.DecodeRuneInString(c.CSV.Delimiter); size == 0 || size != len(c.CSV.Delimiter) || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError {
		errs = append(errs, spec.Errorf("csv.delimiter", "expected one character other than a quote or newline, got %q", c.CSV.Delimiter))
	}
	if c.BatchSize < 1 {
		errs = append(errs, spec.Errorf("batch_size", "expected at least 1, got %d", c.BatchSize))
	}
	if c.State != "" {
		if u, err := url.Parse(c.State); err != nil || u.Scheme == "" {
			errs = append(errs, spec.Errorf("state", "expected a URL such as file://.sluice/state or s3://bucket/state"))
		}
	}
	if c.CheckpointInterval <= 0 {
		errs = append(errs, spec.Errorf("checkpoint_interval", "expected a positive duration, got %s", c.CheckpointInterval))
	}
	if _, _, err := parseShard(c.Shard); err != nil {
		errs = append(errs, spec.At("shard", err))
	}
	if c.Rate.Records < 0 {
		errs = append(errs, spec.Errorf("rate.records", "expected 0 or more, got %d", c.Rate.Records))
	}
	if c.Rate.Bytes < 0 {
		errs = append(errs, spec.Errorf("rate.bytes", "expected 0 or more, got %d", c.Rate.Bytes))
	}
	return errors.Join(errs...)
}

// parseShard parses "i/N"; empty is 0/1.
func parseShard(s string) (i, n uint64, err error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if ok {
		i, err = strconv.ParseUint(a, 10, 32)
		if err == nil {
			n, err = strconv.ParseUint(b, 10, 32)
		}
	}
	if !ok || err != nil || n == 0 || i >= n {
		return 0, 0, fmt.Errorf("expected i/N with 0 <= i < N, such as 0/4, got %q", s)
	}
	return i, n, nil
}

// compileTimeKey compiles a time_key_pattern and checks its groups.
func compileTimeKey(p string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	if re.SubexpIndex("date") < 0 && re.SubexpIndex("datetime") < 0 {
		return nil, errors.New("expected a named group date, as in (?P<date>\\d{4}-\\d{2}-\\d{2}), or datetime")
	}
	return re, nil
}

// checkGlob reports a malformed glob.
func checkGlob(g string) error {
	for _, seg := range strings.Split(g, "/") {
		if seg == "**" {
			continue
		}
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("segment %q: %w", seg, err)
		}
	}
	return nil
}

// matchGlob reports whether key matches the glob g: path.Match per
// /-separated segment, with ** matching any number of segments.
func matchGlob(g, key string) bool {
	return matchSegs(strings.Split(g, "/"), strings.Split(key, "/"))
}

func matchSegs(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for len(pat) > 0 && pat[0] == "**" {
				pat = pat[1:]
			}
			if len(pat) == 0 {
				return true
			}
			for i := range segs {
				if matchSegs(pat, segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], segs[0]); !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}
