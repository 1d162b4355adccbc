package objectstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/batch"
	"github.com/sluicehq/sluice/engine/expr"
	"github.com/sluicehq/sluice/engine/spec"
	"github.com/sluicehq/sluice/internal/bucket"
)

// DefaultBatch is the sink's default batching policy: a Write, and so an
// object per partition, carries up to 100000 records or 64MiB, and waits
// at most a minute to fill up.
var DefaultBatch = batch.Policy{Count: 100000, Bytes: 64 << 20, Period: time.Minute}

// Register adds the objectstore sink to r.
func Register(r *engine.Registry) error {
	registerZstdCodec()
	return engine.RegisterSink(r, engine.SinkSpec[Config]{
		Name:     "objectstore",
		Summary:  "Writes records to a bucket (S3, local files) as Parquet or JSON-lines objects under partitioned paths, named by their source positions.",
		Example:  `objectstore: {url: "s3://lake?endpoint=${S3_ENDPOINT}", path: 'events/dt={{ format_time(ts, "2006-01-02") }}/', format: parquet}`,
		Defaults: Defaults,
		Batch:    DefaultBatch,
		New: func(c Config, env engine.Env) (engine.Sink, error) {
			return New(c, env)
		},
	})
}

// Sink writes each batch as objects in a bucket: one per partition path,
// more when a partition's records exceed the roll limits. Write may be
// called concurrently; Open, Write and Close follow engine.Sink.
type Sink struct {
	cfg  Config
	log  *slog.Logger
	opts objectOptions
	ext  string

	path       string         // the path, when it is not a template
	pathT      *expr.Template // the path template, else nil
	declared   *colType       // the declared Parquet schema; nil: inferred per object
	pathFields []string       // the fields pathT reads, nil for all

	objectsWritten prometheus.Counter
	bytesWritten   prometheus.Counter
	unconditional  atomic.Bool // the bucket refused a conditional write
	keys           keyLocks

	mu     sync.RWMutex // Write holds it shared, Open and Close exclusively
	bucket *blob.Bucket
}

// New builds a sink from c: it compiles the path template and converts
// the declared schema. It does no I/O; Open opens the bucket.
func New(c Config, env engine.Env) (*Sink, error) {
	registerZstdCodec()
	s := &Sink{cfg: c, log: env.Log, ext: c.extension()}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var errs []error
	t, err := expr.CompileTemplate(c.Path)
	switch {
	case err != nil:
		errs = append(errs, spec.At("path", err))
	default:
		if static, ok := t.Static(); ok {
			if err := checkPath(static); err != nil {
				errs = append(errs, spec.At("path", err))
			}
			s.path = static
		} else {
			s.pathT = t
		}
	}
	if _, ok := compressionsOf[c.Format]; !ok {
		errs = append(errs, spec.Errorf("format", "expected parquet or jsonl, got %q", c.Format))
	}
	if len(c.Schema) > 0 {
		if err := c.Schema.Validate(); err != nil {
			errs = append(errs, spec.At("schema", err))
		}
		s.declared = fromSchema(c.Schema)
	}
	if c.RowGroupSize < 1 {
		errs = append(errs, spec.Errorf("row_group_size", "expected at least 1 row, got %d", c.RowGroupSize))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if s.pathT != nil {
		if f, exact := s.pathT.Fields(); exact {
			s.pathFields = f
		}
	}
	s.opts = objectOptions{
		format:       c.Format,
		compression:  c.compression(),
		contentType:  c.contentType(),
		rowGroupSize: c.RowGroupSize,
	}
	if env.Metrics != nil {
		s.objectsWritten = env.Metrics.Counter("sluice_objectstore_objects_written_total",
			"Objects the objectstore sink wrote to its bucket (each one complete and visible).")
		s.bytesWritten = env.Metrics.Counter("sluice_objectstore_bytes_written_total",
			"Bytes of the objects the objectstore sink wrote, after format and compression.")
	} else {
		s.objectsWritten = prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_objectstore_objects_written_total"})
		s.bytesWritten = prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_objectstore_bytes_written_total"})
	}
	return s, nil
}

// Open opens the bucket and checks that it exists and can be listed. ctx
// limits the attempt; a missing or unreachable bucket makes it fail.
func (s *Sink) Open(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bucket != nil {
		return nil
	}
	start := time.Now()
	safe := bucket.Safe(s.cfg.URL)
	b, err := bucket.Open(ctx, s.cfg.URL)
	if err != nil {
		return err
	}
	ok, err := b.IsAccessible(ctx)
	if err == nil && !ok {
		err = errors.New("the bucket does not exist")
	}
	if err != nil {
		b.Close()
		return fmt.Errorf("open bucket %s: %w", safe, err)
	}
	s.bucket = b
	s.log.Info("opened", "bucket", safe, "format", s.cfg.Format, "compression", s.opts.compression,
		"path", s.cfg.Path, engine.AttrElapsed, time.Since(start).Round(time.Millisecond).String())
	return nil
}

// Close closes the bucket. Every object of a Write that returned is
// already complete; ctx is not used.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	b := s.bucket
	s.bucket = nil
	s.mu.Unlock()
	if b == nil {
		return nil
	}
	if err := b.Close(); err != nil {
		return fmt.Errorf("close bucket %s: %w", bucket.Safe(s.cfg.URL), err)
	}
	s.log.Info("closed")
	return nil
}

// Write writes the records of b as objects and returns once every object
// is complete in the bucket: one object per partition path, or several
// when the roll limits cut a partition's records. Records whose path
// cannot be rendered, or that do not fit the Parquet schema, fail
// permanently, and the others are written; a storage error fails the
// records of the object it hit and of the objects not yet written,
// retryably, in a *engine.BatchError. Objects are named by the source
// positions they hold, and never replaced by other records: a retry finds
// the same names, and an object that already holds the same records is
// not written again. When ctx ends, the object being written is aborted
// and Write returns ctx.Err().
func (s *Sink) Write(ctx context.Context, b engine.Batch) error {
	if len(b.Records) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.bucket == nil {
		return ErrClosed
	}
	start := time.Now()
	w := &batchWrite{s: s, recs: b.Records, names: map[string]bool{}}
	pieces := w.plan()
	objects := 0
	for p, pc := range pieces {
		done, err := w.writePiece(ctx, s.bucket, pc)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The storage failed: retry this object's records and those
			// of the objects not written yet.
			for _, rest := range pieces[p:] {
				for _, i := range rest.idx {
					w.fail(i, err)
				}
			}
			break
		}
		if done {
			objects++
		}
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.Debug("batch written", engine.AttrRecords, len(b.Records), "objects", objects,
			"failed", len(w.failed), engine.AttrElapsed, time.Since(start).String())
	}
	slices.SortFunc(w.failed, func(a, b engine.RecordError) int { return a.Index - b.Index })
	return engine.NewBatchError(w.failed)
}

// writePiece writes piece pc as one object. An error it returns is the
// storage's, or the context's. done reports whether the records are in an
// object, new or found.
func (w *batchWrite) writePiece(ctx context.Context, b *blob.Bucket, pc *piece) (done bool, err error) {
	s := w.s
	recs := make([]*engine.Record, len(pc.idx))
	for k, i := range pc.idx {
		recs[k] = &w.recs[i]
	}
	opts := s.opts
	opts.metadata = objectMetadata(recs, pc.sum)
	write := func(key string, conditional bool) (int64, error) {
		opts := opts
		opts.ifNotExist = conditional
		o, err := createObject(ctx, b, key, pc.root, opts)
		if err != nil {
			return 0, err
		}
		for k, i := range pc.idx {
			if pc.root != nil {
				err = w.addRow(o, pc.root, i)
			} else {
				err = o.addLine(pc.lines[k])
			}
			if err != nil {
				o.abort()
				return 0, err
			}
		}
		return o.commit()
	}
	key, n, written, err := w.publish(ctx, b, pc.path+objectName(recs), pc.sum, write)
	if err != nil {
		return false, err
	}
	if written {
		s.objectsWritten.Inc()
		s.bytesWritten.Add(float64(n))
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		msg := "object written"
		if !written {
			msg = "object already written"
		}
		s.log.Debug(msg, engine.AttrObject, key, engine.AttrRecords, len(pc.idx), engine.AttrBytes, n)
	}
	return true, nil
}

// maxCandidates bounds the names publish tries for one object.
const maxCandidates = 16

// publish finds the name of an object and writes it there, never
// replacing an object that holds other records. It tries the base name,
// then the base name with a hash of the contents (see candidate), skipping
// the names this Write already used. A name that is free is written with a
// conditional create, so that a concurrent writer cannot be overwritten
// either; a name whose object holds the same contents (its metadata says
// so: a replay) is the object's, and nothing is written. write writes the
// object at a key, conditionally or not; written reports whether it was
// called successfully.
func (w *batchWrite) publish(ctx context.Context, b *blob.Bucket, base, sum string, write func(string, bool) (int64, error)) (key string, n int64, written bool, err error) {
	s := w.s
	for k := 0; k < maxCandidates; k++ {
		key = candidate(base, sum, k) + s.ext
		if w.names[key] {
			continue
		}
		w.names[key] = true
		unlock := s.keys.lock(key)
		p, err := w.tryPublish(ctx, b, key, sum, write)
		unlock()
		if err != nil || !p.taken {
			return key, p.n, p.written, err
		}
	}
	return key, 0, false, fmt.Errorf("no free object name for %s%s after %d tries", base, s.ext, maxCandidates)
}

// published is what tryPublish did.
type published struct {
	n       int64 // bytes written
	written bool  // the object was written
	taken   bool  // the key holds another object: try the next name
}

// tryPublish publishes the object at key, unless the key holds another
// object.
func (w *batchWrite) tryPublish(ctx context.Context, b *blob.Bucket, key, sum string, write func(string, bool) (int64, error)) (published, error) {
	s := w.s
	for range 2 {
		state, err := existing(ctx, b, key, sum)
		if err != nil {
			return published{}, err
		}
		if state == stateSame {
			return published{}, nil
		}
		if state == stateOther {
			return published{taken: true}, nil
		}
		conditional := !s.unconditional.Load()
		n, err := write(key, conditional)
		if conditional && gcerrors.Code(err) == gcerrors.Unimplemented {
			s.unconditional.Store(true)
			s.log.Warn("the bucket does not support conditional writes; writing without them",
				"bucket", bucket.Safe(s.cfg.URL), engine.AttrError, err.Error())
			n, err = write(key, false)
		}
		if err == nil {
			return published{n: n, written: true}, nil
		}
		if gcerrors.Code(err) != gcerrors.FailedPrecondition {
			return published{}, err
		}
		// Another process created the object meanwhile: look again.
	}
	return published{taken: true}, nil
}

// keyLocks serializes, within the process, the publishing of one key:
// fileblob's conditional create is not atomic between writers, and the
// check before the write saves an upload on every scheme.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	users int
}

// lock locks key and returns the function that unlocks it.
func (l *keyLocks) lock(key string) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*keyLock{}
	}
	k := l.m[key]
	if k == nil {
		k = &keyLock{}
		l.m[key] = k
	}
	k.users++
	l.mu.Unlock()
	k.Lock()
	return func() {
		k.Unlock()
		l.mu.Lock()
		if k.users--; k.users == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
}

type objectState int

const (
	stateAbsent objectState = iota
	stateSame               // holds the same contents
	stateOther              // holds other contents, or unknown ones
)

// contentKey is the metadata key of an object's content hash.
const contentKey = "sluice-content-sha256"

// existing reports what the bucket holds at key.
func existing(ctx context.Context, b *blob.Bucket, key, sum string) (objectState, error) {
	a, err := b.Attributes(ctx, key)
	switch {
	case gcerrors.Code(err) == gcerrors.NotFound:
		return stateAbsent, nil
	case err != nil:
		return 0, fmt.Errorf("attributes of %s: %w", key, err)
	case a.Metadata[contentKey] == sum:
		return stateSame, nil
	}
	return stateOther, nil
}

// objectMetadata describes an object: the hash of its contents, which
// tells a replay that the object is already written, and, for people
// browsing the bucket, how many records it holds and, for one stream,
// which.
func objectMetadata(recs []*engine.Record, sum string) map[string]string {
	m := map[string]string{contentKey: sum, "sluice-records": strconv.Itoa(len(recs))}
	spans := spansOf(recs)
	if len(spans) == 1 && len(spans[0].stream) <= 256 && isPrintableASCII(spans[0].stream) {
		s := spans[0]
		m["sluice-positions"] = s.stream + "@" + strconv.FormatInt(s.first, 10) + "-" + strconv.FormatInt(s.last, 10)
	} else {
		m["sluice-streams"] = strconv.Itoa(len(spans))
	}
	return m
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
