package objectstore

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/codec"
)

// batchWrite is the state of one Write.
//
// A Write reads its records in two passes. The first (plan) renders each
// record's path, cuts each path's records into objects by the roll
// limits, and checks each record against its object: its line (JSONL), or
// its schema (Parquet), inferring the schema as it goes; it also hashes
// the records each object holds, which names the object before it is
// written. The second (writePiece) encodes each object's records and
// streams the object to the bucket, one object, and one Parquet row group,
// at a time. A record is never held decoded between the passes: a JSON
// record is parsed into a reusable jsonTree in each pass, without a map
// per record; other records are decoded with their codec in each pass.
type batchWrite struct {
	s      *Sink
	recs   []engine.Record
	failed []engine.RecordError
	names  map[string]bool // object keys written by this Write

	walker   treeWalker
	root     *colType         // the declared schema, for this Write; nil: inferred
	decoded  []bool           // records read through their codec's decode rather than a tree; nil: none
	overlays []map[string]any // per record, the fields it holds as Go values; nil: none
	env      map[string]any   // the fields a path template reads
	pathKey  []byte           // the path fields of the record routed last
	lastKey  []byte           // those of the record before, and its group
	last     *group
	sumBuf   []byte
}

// group is the records of one rendered path: the objects, pieces, they
// are cut into by the roll limits, in order.
type group struct {
	path   string
	pieces []*piece
	// the records and bytes of the last piece, as roll counts them, and
	// the time of its first record
	n     int
	size  int64
	first time.Time
}

// piece is the records of one object.
type piece struct {
	path     string
	idx      []int               // the records the object holds, in batch order
	sums     [][sha256.Size]byte // the hash of each (see addSum), in any order
	lines    [][]byte            // jsonl: the line of each record of idx
	root     *colType            // parquet: the object's schema
	rejected []int               // parquet: records that did not fit the schema
	sum      string              // the content hash of the object, hex
}

func (w *batchWrite) fail(i int, err error) {
	w.failed = append(w.failed, engine.RecordError{Index: i, Err: err})
}

// plan is the first pass over the batch: it returns the objects to write,
// grouped by path in the order the paths first appear, and fails the
// records that cannot be written.
func (w *batchWrite) plan() []*piece {
	parquet := w.s.cfg.Format == FormatParquet
	if parquet && w.s.declared != nil {
		w.root = w.s.declared.clone()
	}
	r := router{byPath: map[string]*group{}}
	for i := range w.recs {
		g, m, loaded, ok := w.route(&r, i)
		if !ok {
			continue
		}
		pc := w.roll(g, &w.recs[i])
		if !parquet {
			w.addLine(pc, i)
			continue
		}
		if !loaded {
			var err error
			if m, err = w.load(i, true); err != nil {
				w.fail(i, engine.Permanent(err))
				continue
			}
		}
		w.admit(pc, i, m)
	}
	var pieces []*piece
	for _, g := range r.groups {
		for _, pc := range g.pieces {
			if parquet {
				w.complete(pc)
			}
			if len(pc.idx) == 0 {
				continue
			}
			slices.SortFunc(pc.sums, compareSums)
			h := sha256.New()
			for k := range pc.sums {
				h.Write(pc.sums[k][:])
			}
			pc.sum, pc.sums = hex.EncodeToString(h.Sum(nil)), nil
			pieces = append(pieces, pc)
		}
	}
	return pieces
}

// router is the state of routing a batch's records to groups.
type router struct {
	groups []*group // in the order their paths first appear
	byPath map[string]*group
	prev   *group // the group of the last path rendered
	buf    []byte // the rendered path
}

// route returns the group of record i, by the path rendered from its
// fields, and fails the record when there is none. A record read for the
// path template is returned loaded: m, or the tree when m is nil.
func (w *batchWrite) route(r *router, i int) (g *group, m map[string]any, loaded, ok bool) {
	s := w.s
	if s.pathT == nil {
		if len(r.groups) == 0 {
			r.groups = append(r.groups, &group{path: s.path})
		}
		return r.groups[0], nil, false, true
	}
	m, err := w.load(i, true)
	if err != nil {
		w.fail(i, engine.Permanent(err))
		return nil, nil, false, false
	}
	if m == nil && w.samePath() {
		return w.last, nil, true, true
	}
	r.buf, err = s.pathT.AppendRender(r.buf[:0], w.pathEnv(m))
	if err != nil {
		w.fail(i, engine.Permanent(fmt.Errorf("path: %w", err)))
		return nil, nil, false, false
	}
	if r.prev != nil && r.prev.path == string(r.buf) {
		g = r.prev
	} else if g = r.byPath[string(r.buf)]; g == nil {
		p := string(r.buf)
		if err := checkPath(p); err != nil {
			w.fail(i, engine.Permanent(err))
			return nil, nil, false, false
		}
		g = &group{path: p}
		r.byPath[p] = g
		r.groups = append(r.groups, g)
	}
	r.prev = g
	w.remember(m, g)
	return g, m, true, true
}

// roll returns the piece of group g that rec goes to, starting a new one
// when rec would take the last one over a roll limit. The limits are
// measured on the records as read, failed or not, so that the cut is the
// same on every replay.
func (w *batchWrite) roll(g *group, rec *engine.Record) *piece {
	r := w.s.cfg.Roll
	n := int64(len(rec.Value) + len(rec.Key))
	if g.n > 0 {
		age := rec.Time.Sub(g.first)
		if (r.Records > 0 && g.n >= r.Records) ||
			(r.Bytes > 0 && g.size+n > int64(r.Bytes)) ||
			(r.Age > 0 && (age >= r.Age || age <= -r.Age)) {
			g.n, g.size = 0, 0
		}
	}
	if g.n == 0 {
		pc := &piece{path: g.path, root: w.root}
		if w.s.cfg.Format == FormatParquet && pc.root == nil {
			pc.root = &colType{kind: kindStruct}
		}
		g.pieces = append(g.pieces, pc)
		g.first = rec.Time
	}
	g.n++
	g.size += n
	return g.pieces[len(g.pieces)-1]
}

// addLine adds record i to JSONL piece pc, or fails it: a value holding a
// newline is compacted if it is JSON, and fails otherwise.
func (w *batchWrite) addLine(pc *piece, i int) {
	rec := &w.recs[i]
	v, err := rec.Bytes()
	if err != nil {
		w.fail(i, engine.Permanent(err))
		return
	}
	if bytes.IndexByte(v, '\n') >= 0 {
		var c bytes.Buffer
		if err := json.Compact(&c, v); err != nil {
			w.fail(i, engine.Permanent(errors.New("jsonl: the value holds a newline and is not JSON that can be put on one line")))
			return
		}
		v = c.Bytes()
	}
	pc.idx = append(pc.idx, i)
	pc.lines = append(pc.lines, v)
	w.addSum(pc, rec, v)
}

// admit adds record i, loaded (m, or w.walker's tree when m is nil), to
// Parquet piece pc: it widens the inferred schema with it and checks it
// against the schema as it is so far. A record that fits it fits the final
// schema, which only widens (null to a type, int64 to float64, new
// fields); one that does not is checked again against the final schema
// by complete, which says why it does not fit.
func (w *batchWrite) admit(pc *piece, i int, m map[string]any) {
	rec := &w.recs[i]
	inferred := w.root == nil
	var err error
	if m == nil && inferred && !w.walker.observeRow(pc.root) {
		if m, err = w.decode(i); err != nil {
			w.fail(i, engine.Permanent(err))
			return
		}
	}
	if m != nil && inferred {
		observeMap(pc.root, m, 1)
	}
	r := fits
	if m == nil {
		if r = w.walker.checkRow(pc.root); r == repeated {
			if m, err = w.decode(i); err != nil {
				w.fail(i, engine.Permanent(err))
				return
			}
		}
	}
	if m != nil {
		r = fits
		if checkRow(pc.root, m) != nil {
			r = misfits
		}
	}
	if r != fits {
		pc.rejected = append(pc.rejected, i)
		return
	}
	pc.idx = append(pc.idx, i)
	w.addSum(pc, rec, contentOf(rec))
}

// complete completes the schema of Parquet piece pc, fails the records that
// do not fit it, with the reason, and those of a piece without columns.
func (w *batchWrite) complete(pc *piece) {
	inferred := w.root == nil
	if inferred {
		for i := range pc.root.fields {
			settle(pc.root.fields[i].typ)
		}
		if len(pc.root.fields) == 0 {
			for _, i := range slices.Concat(pc.idx, pc.rejected) {
				w.fail(i, engine.Permanent(ErrNoColumns))
			}
			pc.idx, pc.sums = nil, nil
			return
		}
	}
	for _, i := range pc.rejected {
		f, err := w.decode(i)
		if err == nil {
			err = checkRow(pc.root, f)
			if err != nil && inferred {
				err = fmt.Errorf("%w (column types are inferred from the first value of each field in the object's records)", err)
			}
			if err != nil {
				err = fmt.Errorf("parquet: %w", err)
			}
		}
		if err != nil {
			w.fail(i, engine.Permanent(err))
			continue
		}
		// It fits after all (a value that only the final schema takes).
		k, _ := slices.BinarySearch(pc.idx, i)
		pc.idx = slices.Insert(pc.idx, k, i)
		w.addSum(pc, &w.recs[i], contentOf(&w.recs[i]))
	}
	pc.rejected = nil
}

// load reads record i for the walks over its fields: it parses its value
// into w.walker.tree and returns nil, or, when the tree cannot read it,
// decodes it and returns its map. An error is the decode's: the record
// cannot be written. first is true in the first pass, which looks for the
// fields the record holds as Go values; later passes reuse what it found.
func (w *batchWrite) load(i int, first bool) (map[string]any, error) {
	rec := &w.recs[i]
	if !w.isDecoded(i) && isJSON(rec.Codec()) {
		var ov map[string]any
		ok := true
		if first {
			ov, ok = w.overlayOf(i)
		} else if w.overlays != nil {
			ov = w.overlays[i]
		}
		if ok {
			if v, err := rec.Bytes(); err == nil && w.walker.tree.parse(v) {
				if len(ov) > 0 {
					w.walker.tree.overlay(ov)
				}
				return nil, nil
			}
		}
	}
	return w.decode(i)
}

// decode decodes record i with its codec, and has the later passes do so
// too.
func (w *batchWrite) decode(i int) (map[string]any, error) {
	if w.decoded == nil {
		w.decoded = make([]bool, len(w.recs))
	}
	w.decoded[i] = true
	return w.recs[i].DecodeFields()
}

func (w *batchWrite) isDecoded(i int) bool { return w.decoded != nil && w.decoded[i] }

// overlayOf returns the top-level fields record i holds as Go values, in
// place of what its bytes say: those a transform set (and which it may have
// set to types JSON does not give back, such as a time), or all of them
// when the record is decoded (Record.Overlay). ok is false when the record
// must be decoded instead.
func (w *batchWrite) overlayOf(i int) (map[string]any, bool) {
	ov, ok := w.recs[i].Overlay()
	if !ok {
		return nil, false
	}
	if len(ov) == 0 {
		return nil, true
	}
	if w.overlays == nil {
		w.overlays = make([]map[string]any, len(w.recs))
	}
	w.overlays[i] = ov
	return ov, true
}

func isJSON(c codec.Codec) bool { return c != nil && c.Name() == "json" }

// pathEnv returns the fields the path template reads: m, or those of the
// parsed record.
func (w *batchWrite) pathEnv(m map[string]any) map[string]any {
	if m != nil {
		return m
	}
	if w.env == nil {
		w.env = map[string]any{}
	}
	clear(w.env)
	t := &w.walker.tree
	if w.s.pathFields == nil {
		for c := t.nodes[0].first; c >= 0; c = t.nodes[c].next {
			w.env[string(t.key(c))] = t.toAny(c)
		}
		return w.env
	}
	for _, k := range w.s.pathFields {
		if n := t.member(0, k); n >= 0 {
			w.env[k] = t.toAny(n)
		}
	}
	return w.env
}

// samePath reports whether the parsed record holds the same values in the
// fields the path template reads as the record routed before it, so that
// its path is the same: templates are pure functions of the fields they
// read. It keeps these values in w.pathKey.
func (w *batchWrite) samePath() bool {
	w.pathKey = w.pathKey[:0]
	if w.s.pathFields == nil {
		return false
	}
	t := &w.walker.tree
	for _, k := range w.s.pathFields {
		n := t.member(0, k)
		if n < 0 {
			w.pathKey = append(w.pathKey, 0)
			continue
		}
		nd := &t.nodes[n]
		switch nd.kind {
		case jNull, jFalse, jTrue:
			w.pathKey = append(w.pathKey, byte(nd.kind))
		case jInt, jFloat:
			w.pathKey = binary.LittleEndian.AppendUint64(append(w.pathKey, byte(nd.kind)), nd.num)
		case jString:
			b := t.bytesOf(n)
			w.pathKey = append(binary.AppendUvarint(append(w.pathKey, byte(jString)), uint64(len(b))), b...)
		case jAny:
			s, ok := t.anys[nd.num].(string)
			if !ok {
				w.pathKey = w.pathKey[:0]
				return false
			}
			w.pathKey = append(binary.AppendUvarint(append(w.pathKey, byte(jString)), uint64(len(s))), s...)
		default:
			w.pathKey = w.pathKey[:0]
			return false
		}
	}
	return w.last != nil && bytes.Equal(w.pathKey, w.lastKey)
}

// remember notes that the record routed last, whose path fields samePath
// kept, went to group g.
func (w *batchWrite) remember(m map[string]any, g *group) {
	if m != nil || len(w.pathKey) == 0 {
		w.last = nil
		return
	}
	w.lastKey, w.pathKey = w.pathKey, w.lastKey
	w.last = g
}

// contentOf returns the bytes of a record that its object's content hash
// covers.
func contentOf(rec *engine.Record) []byte {
	v, err := rec.Bytes()
	if err != nil {
		return rec.Value
	}
	return v
}

// compareSums orders record hashes as bytes.Compare does, faster.
func compareSums(a, b [sha256.Size]byte) int {
	if c := cmp.Compare(binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])); c != 0 {
		return c
	}
	return bytes.Compare(a[8:], b[8:])
}

// addSum adds the hash of a record to those of piece pc: the SHA-256 of
// its stream, offset and content, each length-prefixed. The content hash
// of an object is the SHA-256 of the sorted hashes of its records, so that
// it does not depend on their order.
func (w *batchWrite) addSum(pc *piece, r *engine.Record, content []byte) {
	b := binary.BigEndian.AppendUint64(w.sumBuf[:0], uint64(len(r.Source.Stream)))
	b = append(b, r.Source.Stream...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Source.Offset))
	b = binary.BigEndian.AppendUint64(b, uint64(len(content)))
	b = append(b, content...)
	w.sumBuf = b
	pc.sums = append(pc.sums, sha256.Sum256(b))
}

// addRow appends record i, which fits root, to Parquet object o: from its
// parsed value, or its decoded map.
func (w *batchWrite) addRow(o *object, root *colType, i int) error {
	m, err := w.load(i, false)
	if err != nil {
		return err
	}
	if m == nil {
		return o.addTree(&w.walker)
	}
	if err := checkRow(root, m); err != nil {
		// Not what the first pass found: never append what does not fit.
		return fmt.Errorf("record %d changed between checking and writing: %w", i, err)
	}
	return o.addRow(m)
}
