package objectstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/checkpoint"
	"github.com/sluicehq/sluice/engine/codec"
	"github.com/sluicehq/sluice/engine/field"
	"github.com/sluicehq/sluice/internal/bucket"
)

// Register adds the objectstore source to r.
func Register(r *engine.Registry) error {
	return engine.RegisterSource(r, engine.SourceSpec[Config]{
		Name:     "objectstore",
		Summary:  "Reads archived JSON lines, CSV and Parquet objects from a bucket prefix, for backfills; resumable and shardable.",
		Example:  `objectstore: {url: "s3://lake?endpoint=${S3_ENDPOINT}", prefix: events/, glob: '**/*.jsonl.gz', shard: '${SLUICE_SHARD:-0/1}'}`,
		Bounded:  true,
		Defaults: Defaults,
		New: func(c Config, env engine.Env) (engine.Source, error) {
			return New(c, env)
		},
	})
}

// Progress is how far a backfill got, for a progress bar. Totals count the
// objects of this shard that match the filters, including those finished
// by earlier runs.
//
// ObjectsDone counts objects whose every record was acknowledged;
// BytesRead is the stored bytes fetched plus the size of objects done before
// this run; Records counts the records handed out by this run.
type Progress = engine.Progress

// object is a listed object.
type object struct {
	key     string
	size    int64
	modTime time.Time
}

// objState tracks the acknowledgements of one object being read.
type objState struct {
	obj     object
	tracker *checkpoint.Tracker[int64]
	handed  int64 // offset after the last record handed out; where to reopen after a read error
	eof     bool  // every record was handed out
	done    bool  // and acknowledged
}

// token is the saved state.
type token struct {
	Version    int              `json:"version"`
	Done       []string         `json:"done"`
	InProgress map[string]int64 `json:"in_progress,omitempty"` // key: offset to resume from
}

// pending is a batch read from an object but not yet handed out.
type pending struct {
	recs   []engine.Record
	chunks []*readChunk // the chunks recs' values lie in, one reference each
	st     *objState
	end    int64 // decoder position after the batch
	bytes  int
	eof    bool // the object ended with this batch
}

// Source reads the objects of a bucket prefix. Read is called from one
// goroutine; the acks it returns, Progress and the state saver run
// concurrently with it.
type Source struct {
	cfg      Config
	env      engine.Env
	timeRE   *regexp.Regexp
	from, to time.Time
	// timePath is time_field split at its dots; timeLayout the layout of
	// its first part, which records' JSON is picked for.
	timePath   []string
	timeLayout *field.Layout
	shardI     uint64
	shardN     uint64
	stateKey   string

	resumeFrom map[string]int64 // set by ResumeFrom before Open

	objectsRead prometheus.Counter
	bytesRead   prometheus.Counter

	// Set by Open.
	life        context.Context // outlives Read calls; cancelled by Close
	cancel      context.CancelFunc
	bucket      *blob.Bucket
	stateBucket *blob.Bucket // owned when state names a bucket
	store       checkpoint.Store
	queue       []object // objects left to read, by key

	// Owned by the goroutine that calls Read.
	next      int // index in queue of the object to read next
	cur       decoder
	curState  *objState
	held      *pending
	timeKeys  codec.KeyCache // of the time field's picks
	recycle   *recycler      // chunks and record slices of acknowledged batches
	recLimit  limiter
	byteLimit limiter

	mu      sync.Mutex
	done    map[string]bool
	offsets map[string]int64 // committed offsets of unfinished objects
	dirty   bool

	saveMu    sync.Mutex
	stopSaver chan struct{}
	saverDone chan struct{}
	saveNow   chan struct{} // an object was finished: save without waiting for the period
	closed    atomic.Bool

	objectsTotal, objectsDone atomic.Int64
	bytesTotal, bytesFetched  atomic.Int64
	records                   atomic.Int64
}

var (
	_ engine.Source  = (*Source)(nil)
	_ engine.Resumer = (*Source)(nil)
)

// New returns an objectstore source for c. It does no I/O.
func New(c Config, env engine.Env) (*Source, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := &Source{cfg: c, env: env, done: map[string]bool{}, offsets: map[string]int64{}, recycle: newRecycler()}
	if c.TimeKeyPattern != "" {
		s.timeRE, _ = compileTimeKey(c.TimeKeyPattern)
	}
	if c.TimeField != "" {
		s.timePath = strings.Split(c.TimeField, ".")
		s.timeLayout = field.NewLayout(s.timePath[0])
	}
	if c.From != "" {
		s.from, _ = time.Parse(time.RFC3339Nano, c.From)
	}
	if c.To != "" {
		s.to, _ = time.Parse(time.RFC3339Nano, c.To)
	}
	s.shardI, s.shardN, _ = parseShard(c.Shard)
	if c.State == "" && env.Checkpoints == nil {
		return nil, errors.New("objectstore: no checkpoint store: set state, such as file://.sluice/state")
	}
	pipeline := strings.NewReplacer("/", "_", "\\", "_", "..", "_").Replace(env.Pipeline)
	if pipeline == "" || pipeline == "." {
		pipeline = "default"
	}
	s.stateKey = fmt.Sprintf("%s/objectstore/shard-%d-of-%d", pipeline, s.shardI, s.shardN)
	s.recLimit = limiter{rate: float64(c.Rate.Records)}
	s.byteLimit = limiter{rate: float64(c.Rate.Bytes)}
	if env.Metrics != nil {
		s.objectsRead = env.Metrics.Counter("sluice_objectstore_objects_read_total",
			"Objects the objectstore source read to the end.")
		s.bytesRead = env.Metrics.Counter("sluice_objectstore_bytes_read_total",
			"Stored (compressed) bytes the objectstore source fetched.")
	}
	return s, nil
}

// ResumeFrom makes the source start each object named in positions after
// the given offset (line or row index) when that is further than its own
// saved position. Objects the saved state has as done are not read again.
// It is called before Open.
func (s *Source) ResumeFrom(positions map[string]int64) {
	s.resumeFrom = positions
}

// StateKey returns the key under which the source saves its state in the
// checkpoint store: the pipeline and the shard.
func (s *Source) StateKey() string { return s.stateKey }

// Progress returns how far the source got. Safe to call at any time.
func (s *Source) Progress() Progress {
	return Progress{
		ObjectsTotal: s.objectsTotal.Load(),
		ObjectsDone:  s.objectsDone.Load(),
		BytesTotal:   s.bytesTotal.Load(),
		BytesRead:    s.bytesFetched.Load(),
		Records:      s.records.Load(),
	}
}

// Open opens the bucket and the state store, loads the state (or deletes
// it with reset), lists the prefix and starts saving the state
// periodically. ctx limits these steps only.
func (s *Source) Open(ctx context.Context) (err error) {
	b, err := bucket.Open(ctx, s.cfg.URL)
	if err != nil {
		return err
	}
	s.bucket = b
	defer func() {
		if err != nil {
			s.closeBuckets()
			s.bucket, s.stateBucket = nil, nil
		}
	}()
	if err := s.openState(ctx); err != nil {
		return err
	}
	if s.cfg.Reset {
		if err := s.store.Delete(ctx, s.stateKey); err != nil {
			return fmt.Errorf("reset state: %w", err)
		}
	}
	if err := s.loadState(ctx); err != nil {
		return err
	}
	if err := s.list(ctx); err != nil {
		return err
	}
	s.life, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.stopSaver, s.saverDone, s.saveNow = make(chan struct{}), make(chan struct{}), make(chan struct{}, 1)
	go s.saver()
	s.env.Log.Info("objectstore source open", "bucket", bucket.Safe(s.cfg.URL), "prefix", s.cfg.Prefix,
		"objects", len(s.queue), "done", s.objectsDone.Load())
	return nil
}

// openState sets s.store from the state URL, or the pipeline's store.
func (s *Source) openState(ctx context.Context) error {
	if s.cfg.State == "" {
		s.store = s.env.Checkpoints
		return nil
	}
	openBucket := func(ctx context.Context, u *url.URL) (checkpoint.Store, error) {
		v := *u
		prefix := strings.TrimPrefix(v.Path, "/")
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		v.Path, v.RawPath = "", ""
		b, err := bucket.Open(ctx, v.String())
		if err != nil {
			return nil, err
		}
		s.stateBucket = b
		return NewBucketStore(b, prefix), nil
	}
	extra := map[string]checkpoint.Opener{}
	for _, scheme := range bucket.Schemes {
		if scheme != "file" && scheme != "mem" {
			extra[scheme] = openBucket
		}
	}
	st, err := checkpoint.Open(ctx, s.cfg.State, extra)
	if err != nil {
		return err
	}
	s.store = st
	return nil
}

// loadState reads the saved token, if any.
func (s *Source) loadState(ctx context.Context) error {
	raw, err := s.store.Load(ctx, s.stateKey)
	if errors.Is(err, checkpoint.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var tok token
	if err := json.Unmarshal(raw, &tok); err != nil {
		return engine.Permanent(fmt.Errorf("state %q: %w (delete it, or set reset: true, to start over)", s.stateKey, err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range tok.Done {
		s.done[k] = true
	}
	for k, off := range tok.InProgress {
		if !s.done[k] {
			s.offsets[k] = off
		}
	}
	return nil
}

// list lists the prefix and queues the matching objects that are not done.
func (s *Source) list(ctx context.Context) error {
	it := s.bucket.List(&blob.ListOptions{Prefix: s.cfg.Prefix})
	var all []object
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("list %s prefix %q: %w", bucket.Safe(s.cfg.URL), s.cfg.Prefix, err)
		}
		if o.IsDir || !s.wanted(o.Key, o.ModTime) {
			continue
		}
		all = append(all, object{key: o.Key, size: o.Size, modTime: o.ModTime})
	}
	slices.SortFunc(all, func(a, b object) int { return strings.Compare(a.key, b.key) })
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range all {
		s.objectsTotal.Add(1)
		s.bytesTotal.Add(o.size)
		if s.done[o.key] {
			s.objectsDone.Add(1)
			s.bytesFetched.Add(o.size)
			continue
		}
		s.queue = append(s.queue, o)
	}
	return nil
}

// wanted reports whether the object passes the glob, shard and time
// filters.
func (s *Source) wanted(key string, mod time.Time) bool {
	if s.cfg.Glob != "" && !matchGlob(s.cfg.Glob, key) {
		return false
	}
	if s.shardN > 1 {
		h := fnv.New64a()
		h.Write([]byte(key))
		if h.Sum64()%s.shardN != s.shardI {
			return false
		}
	}
	if s.from.IsZero() && s.to.IsZero() {
		return true
	}
	start, span := mod, time.Duration(0)
	if s.timeRE != nil {
		if t, sp, ok := keyTime(s.timeRE, key); ok {
			start, span = t, sp
		}
	}
	if !s.to.IsZero() && !start.Before(s.to) {
		return false
	}
	if !s.from.IsZero() {
		if span == 0 {
			return !start.Before(s.from)
		}
		return start.Add(span).After(s.from)
	}
	return true
}

// keyTime takes an object's time, and the span it covers, from its key.
func keyTime(re *regexp.Regexp, key string) (time.Time, time.Duration, bool) {
	m := re.FindStringSubmatch(key)
	if m == nil {
		return time.Time{}, 0, false
	}
	group := func(name string) string {
		if i := re.SubexpIndex(name); i >= 0 {
			return m[i]
		}
		return ""
	}
	if d := group("date"); d != "" {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return time.Time{}, 0, false
		}
		if h := group("hour"); h != "" {
			ht, err := time.Parse("15", h)
			if err != nil {
				return time.Time{}, 0, false
			}
			return t.Add(time.Duration(ht.Hour()) * time.Hour), time.Hour, true
		}
		return t, 24 * time.Hour, true
	}
	if d := group("datetime"); d != "" {
		for _, l := range []struct {
			layout string
			span   time.Duration
		}{{time.RFC3339Nano, 0}, {"2006-01-02T15:04:05", 0}, {"2006-01-02T15:04", time.Minute}, {"2006-01-02T15", time.Hour}} {
			if t, err := time.Parse(l.layout, d); err == nil {
				return t, l.span, true
			}
		}
	}
	return time.Time{}, 0, false
}

// Read returns the next batch of records of the current object, opening
// the next object when one ends. It returns engine.ErrEndOfInput once
// every object was handed out, and waits when the rate limit asks for it.
// A read error is returned as it is; the next Read reopens the object
// after the last record handed out.
func (s *Source) Read(ctx context.Context) (engine.Batch, engine.Ack, error) {
	if s.closed.Load() {
		return engine.Batch{}, nil, ErrClosed
	}
	if s.bucket == nil {
		return engine.Batch{}, nil, engine.ErrNotConnected
	}
	for {
		if s.held == nil {
			if s.cur == nil {
				if s.next >= len(s.queue) {
					return engine.Batch{}, nil, engine.ErrEndOfInput
				}
				if err := s.openObject(); err != nil {
					return engine.Batch{}, nil, err
				}
			}
			p, err := s.fill()
			if err != nil {
				key := s.curState.obj.key
				s.closeCur()
				return engine.Batch{}, nil, classify(fmt.Errorf("read %s: %w", key, err))
			}
			s.held = p
		}
		p := s.held
		if len(p.recs) > 0 {
			if err := s.recLimit.wait(ctx, float64(len(p.recs))); err != nil {
				return engine.Batch{}, nil, err
			}
			if err := s.byteLimit.wait(ctx, float64(p.bytes)); err != nil {
				return engine.Batch{}, nil, err
			}
		}
		s.held = nil
		var ack engine.Ack
		if len(p.recs) > 0 {
			ack = s.track(p)
		}
		if p.eof {
			s.endObject(p.st)
		}
		if len(p.recs) > 0 {
			s.records.Add(int64(len(p.recs)))
			return engine.Batch{Records: p.recs}, ack, nil
		}
		s.recycleBatch(p)
	}
}

// openObject opens s.queue[s.next] at the offset to resume from. The
// object is read with the source's own context, as a Read's ctx may end
// before the object does.
func (s *Source) openObject() error {
	o := s.queue[s.next]
	if s.curState == nil || s.curState.obj.key != o.key {
		s.mu.Lock()
		off := s.offsets[o.key]
		s.mu.Unlock()
		s.curState = &objState{obj: o, tracker: checkpoint.NewTracker[int64](0), handed: off}
	}
	st := s.curState
	r, err := s.bucket.NewReader(s.life, o.key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return engine.Permanent(fmt.Errorf("open %s: deleted since it was listed: %w", o.key, err))
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", o.key, err)
	}
	opts := decodeOptions{
		format:      formatOf(s.cfg.Format, o.key),
		compression: compressionOf(s.cfg.Compression, o.key),
		batchSize:   s.cfg.BatchSize,
		skip:        st.handed,
		pool:        s.recycle,
	}
	if off, ok := s.resumeFrom[o.key]; ok && off+1 > opts.skip {
		opts.skip = off + 1
		st.handed = opts.skip
	}
	opts.delimiter = []rune(s.cfg.CSV.Delimiter)[0]
	d, err := newDecoder(s.life, &countingReader{r: r, s: s}, r, opts)
	if err != nil {
		return classify(fmt.Errorf("open %s: %w", o.key, err))
	}
	if st.handed > 0 {
		s.env.Log.Info("objectstore resuming object", engine.AttrObject, o.key, engine.AttrOffset, st.handed)
	} else {
		s.env.Log.Debug("objectstore reading object", engine.AttrObject, o.key)
	}
	s.cur = d
	return nil
}

// fill reads up to batch_size records from the current object.
func (s *Source) fill() (*pending, error) {
	st := s.curState
	p := &pending{st: st, recs: s.recycle.records(min(s.cfg.BatchSize, 1024))}
	for len(p.recs) < s.cfg.BatchSize {
		v, off, err := s.cur.next()
		if errors.Is(err, io.EOF) {
			p.eof = true
			break
		}
		if err != nil {
			s.takeChunks(p)
			s.recycleBatch(p)
			return nil, err
		}
		// Set the fields of the next record where it lies: building a
		// Record and copying it in costs a copy of the whole struct.
		if len(p.recs) < cap(p.recs) {
			p.recs = p.recs[:len(p.recs)+1] // zero: made so, or cleared when recycled
		} else {
			p.recs = append(p.recs, engine.Record{})
		}
		r := &p.recs[len(p.recs)-1]
		r.Value = v
		r.Time = s.recordTime(v, st.obj.modTime)
		r.Source = engine.Position{Stream: st.obj.key, Offset: off}
		p.bytes += len(v)
	}
	p.end = s.cur.pos()
	s.takeChunks(p)
	return p, nil
}

// takeChunks gives p the references to the chunks its values lie in.
func (s *Source) takeChunks(p *pending) {
	if d, ok := s.cur.(interface {
		takeChunks([]*readChunk) []*readChunk
	}); ok {
		p.chunks = d.takeChunks(p.chunks)
	}
}

// recycleBatch gives back the chunks and the record slice of p, which
// nothing uses any more.
func (s *Source) recycleBatch(p *pending) {
	for _, c := range p.chunks {
		c.release()
	}
	p.chunks = nil
	s.recycle.putRecords(p.recs)
	p.recs = nil
}

// track registers the batch with its object's tracker and returns its ack.
func (s *Source) track(p *pending) engine.Ack {
	st := p.st
	st.handed = p.end
	done, _ := st.tracker.Track(context.Background(), p.end) // unbounded: never blocks
	return func(_ context.Context, result error) {
		// The runtime acknowledges once every sink is done with the
		// records, whatever the result.
		defer s.recycleBatch(p)
		if result != nil {
			return // not committed: the records are read again after a restart
		}
		pos, ok := done()
		s.mu.Lock()
		defer s.mu.Unlock()
		if ok && !st.done {
			s.offsets[st.obj.key] = pos
			s.dirty = true
		}
		s.maybeFinish(st)
	}
}

// endObject is called once every record of the current object was handed
// out.
func (s *Source) endObject(st *objState) {
	s.closeCur()
	s.next++
	if s.objectsRead != nil {
		s.objectsRead.Inc()
	}
	s.mu.Lock()
	st.eof = true
	s.maybeFinish(st)
	s.mu.Unlock()
}

// maybeFinish marks st done once it was read to the end and every batch
// was acknowledged. The caller holds s.mu.
func (s *Source) maybeFinish(st *objState) {
	if st.done || !st.eof || st.tracker.Pending() > 0 {
		return
	}
	st.done = true
	delete(s.offsets, st.obj.key)
	s.done[st.obj.key] = true
	s.dirty = true
	s.objectsDone.Add(1)
	// A finished object is saved at once, so that a crash never reads it
	// again; offsets inside objects wait for the period.
	select {
	case s.saveNow <- struct{}{}:
	default:
	}
}

func (s *Source) closeCur() {
	if s.cur != nil {
		if err := s.cur.close(); err != nil {
			s.env.Log.Debug("objectstore close object", engine.AttrObject, s.curState.obj.key, engine.AttrError, err)
		}
		s.cur = nil
	}
}

// recordTime returns the time in the record's time_field, else mod.
func (s *Source) recordTime(v []byte, mod time.Time) time.Time {
	if s.timeLayout == nil {
		return mod
	}
	// Only the field is read from the record's JSON, not all of it.
	var vals [1]field.Value
	if jsonPicker.PickValues(v, s.timeLayout, 1, vals[:], &s.timeKeys) != nil {
		return mod
	}
	cur := vals[0]
	for _, part := range s.timePath[1:] {
		obj, ok := cur.AnyValue().(map[string]any)
		if !ok {
			return mod
		}
		cur = field.FromAny(obj[part])
	}
	switch cur.Kind() {
	case field.KindString:
		if ts, err := time.Parse(time.RFC3339Nano, cur.Str()); err == nil {
			return ts
		}
	case field.KindInt:
		return time.UnixMilli(cur.Int()).UTC()
	case field.KindFloat:
		return time.UnixMicro(int64(cur.Float() * 1000)).UTC()
	}
	return mod
}

// jsonPicker picks the time field from records.
var jsonPicker = func() codec.Picker {
	c, _ := codec.Lookup("json")
	return c.(codec.Picker)
}()

// saver saves the state every checkpoint_interval until Close.
func (s *Source) saver() {
	defer close(s.saverDone)
	t := time.NewTicker(s.cfg.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopSaver:
			return
		case <-s.saveNow:
			ctx, cancel := context.WithTimeout(s.life, 30*time.Second)
			if err := s.save(ctx); err != nil {
				s.env.Log.Warn("objectstore save state", engine.AttrError, err)
			}
			cancel()
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.life, 30*time.Second)
			if err := s.save(ctx); err != nil {
				s.env.Log.Warn("objectstore save state", engine.AttrError, err)
			}
			cancel()
		}
	}
}

// save writes the state if it changed since the last save.
func (s *Source) save(ctx context.Context) error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return nil
	}
	tok := token{Version: 1, Done: make([]string, 0, len(s.done)), InProgress: make(map[string]int64, len(s.offsets))}
	for k := range s.done {
		tok.Done = append(tok.Done, k)
	}
	for k, off := range s.offsets {
		tok.InProgress[k] = off
	}
	s.dirty = false
	s.mu.Unlock()
	slices.Sort(tok.Done)
	raw, err := json.Marshal(tok)
	if err == nil {
		err = s.store.Save(ctx, s.stateKey, raw)
	}
	if err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		return fmt.Errorf("save state %q: %w", s.stateKey, err)
	}
	return nil
}

// Close saves the state of what was acknowledged and closes the buckets.
func (s *Source) Close(ctx context.Context) error {
	if !s.closed.CompareAndSwap(false, true) || s.bucket == nil {
		return nil
	}
	close(s.stopSaver)
	<-s.saverDone
	s.closeCur()
	err := s.save(ctx)
	s.cancel()
	if cerr := s.closeBuckets(); err == nil {
		err = cerr
	}
	s.env.Log.Info("objectstore source closed", "objects_done", s.objectsDone.Load(), engine.AttrRecords, s.records.Load())
	return err
}

func (s *Source) closeBuckets() error {
	var errs []error
	if s.bucket != nil {
		errs = append(errs, s.bucket.Close())
	}
	if s.stateBucket != nil {
		errs = append(errs, s.stateBucket.Close())
	}
	return errors.Join(errs...)
}

// countingReader counts the stored bytes fetched, and marks the errors of
// fetching them as fetchErrors.
type countingReader struct {
	r io.Reader
	s *Source
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.s.bytesFetched.Add(int64(n))
		if c.s.bytesRead != nil {
			c.s.bytesRead.Add(float64(n))
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		err = &fetchError{err: err}
	}
	return n, err
}

// fetchError is an error of the bucket while reading an object: worth a
// retry, unlike an error in the object's content.
type fetchError struct{ err error }

func (e *fetchError) Error() string { return e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

// classify marks err, from reading an object, permanent unless the bucket
// caused it: a corrupt or truncated object does not heal by reading it
// again, so the pipeline stops with the object's name rather than retry.
func classify(err error) error {
	var fe *fetchError
	if errors.As(err, &fe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return engine.Permanent(err)
}

// limiter is a token bucket that starts empty, refills at rate per second
// and holds at most one second of tokens; a take larger than that goes
// into debt, which later takes wait off.
type limiter struct {
	rate   float64
	tokens float64
	last   time.Time
}

func (l *limiter) refill(now time.Time) {
	if !l.last.IsZero() {
		l.tokens = min(l.rate, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
}

// wait blocks until n tokens are available and takes them; if ctx ends
// first it returns ctx.Err() and takes nothing.
func (l *limiter) wait(ctx context.Context, n float64) error {
	if l.rate <= 0 {
		return nil
	}
	l.refill(time.Now())
	if deficit := n - l.tokens; deficit > 0 {
		wait := time.Duration(min(deficit, l.rate) / l.rate * float64(time.Second))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		l.refill(time.Now())
	}
	l.tokens -= n
	return nil
}
