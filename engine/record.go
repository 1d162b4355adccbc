package engine

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/engine/codec"
	"github.com/sluicehq/sluice/engine/field"
)

// Position is where a record was read: a stream (a Kafka topic and
// partition, an object key, a generator) and an offset inside it (a Kafka
// offset, a line or row number, a sequence number).
type Position struct {
	Stream string
	Offset int64
}

// String formats p as stream@offset, the form used in dead-letter headers
// and logs.
func (p Position) String() string {
	if p.Stream == "" {
		return strconv.FormatInt(p.Offset, 10)
	}
	return p.Stream + "@" + strconv.FormatInt(p.Offset, 10)
}

// Record is one unit of data moving through a pipeline.
//
// Key, Value, Headers and Time are what the source read; Value never
// changes in place (a changed record gets a new Value), so what is read
// from it may share its bytes. The structured form of Value is decoded
// lazily, with the pipeline's codec: Values decodes just the top-level
// fields of a field.Layout (through a codec.Picker, without decoding the
// rest), Data and Fields decode all of it. A transform changes fields with
// SetValue, or changes the map Fields returns and calls MarkChanged, or
// replaces the whole form with SetData; Bytes then encodes the record
// again for the sinks (by patching Value when only fields set with SetValue
// changed). Records move by value inside a Batch; call the methods on
// &b.Records[i] so that what they decode is kept.
type Record struct {
	Key   []byte
	Value []byte
	// Headers are the record's headers; nil when it has none.
	Headers map[string]string
	// Time is the event time if known, else the time the record was read.
	Time time.Time
	// Source is the position the record was read from.
	Source Position
	// Err is set by a transform on a record it could not process; the
	// runtime routes the record to the dead-letter sink with this error.
	Err error

	codec   codec.Codec
	data    any
	decoded bool // data holds the decoded form of Value
	dirty   bool // the fields changed since Value was read or encoded
	// layout and vals are the fields Values picked, in slot order: while
	// not decoded, picked from Value and changed since as changed says;
	// once decoded, a copy of those fields of data, which SetValue keeps
	// in step. vals never has spare capacity and may share its array with
	// other records of a batch (PickBatch), so it is replaced, not grown.
	layout  *field.Layout
	vals    []field.Value
	changed uint64 // slots set with SetValue while not decoded
}

// MaxPicked is the most fields a record picks from its value; a record
// asked for more is decoded in full.
const MaxPicked = 64

// NewRecord returns a record holding value, decoded with c when its fields
// are first needed. value must not change afterwards.
func NewRecord(value []byte, c codec.Codec) Record {
	return Record{Value: value, codec: c}
}

// SetCodec sets the codec that decodes Value and encodes the structured
// form. The runtime sets the pipeline's codec on every record a source
// emits.
func (r *Record) SetCodec(c codec.Codec) { r.codec = c }

// Codec returns the record's codec, nil if none was set.
func (r *Record) Codec() codec.Codec { return r.codec }

// Data returns the structured form of the record, decoding Value on first
// use. A decode error is returned each time Data is called and is not
// retryable. The caller may change what Data returns and then calls
// MarkChanged.
func (r *Record) Data() (any, error) {
	if r.decoded {
		r.layout, r.vals = nil, nil // the caller may change data
		return r.data, nil
	}
	v, err := r.decode()
	if err != nil {
		return nil, err
	}
	r.data, r.decoded, r.layout, r.vals, r.changed = v, true, nil, nil, 0
	return v, nil
}

// decode decodes Value and applies what was changed with SetValue.
func (r *Record) decode() (any, error) {
	if r.codec == nil {
		return nil, errors.New("record has no codec")
	}
	v, err := r.codec.Decode(r.Value)
	if err != nil {
		return nil, Permanent(fmt.Errorf("decode: %w", err))
	}
	if m, ok := v.(map[string]any); ok && r.changed != 0 {
		// The fields set as they are now, in the types a transform gave
		// them (a time stays a time once encoded).
		for i, name := range r.layout.Names() {
			if r.changed&(1<<i) == 0 {
				continue
			}
			if r.vals[i].Exists() {
				m[name] = r.vals[i].Any()
			} else {
				delete(m, name)
			}
		}
	}
	return v, nil
}

// DecodeFields returns the record's fields as Fields does, but keeps no
// decoded form it had to make: a sink that converts the records of a large
// batch one by one then holds one decoded record at a time, not all of
// them. Each call decodes again, unless the record is already decoded.
func (r *Record) DecodeFields() (map[string]any, error) {
	if r.decoded {
		return r.Fields()
	}
	v, err := r.decode()
	if err != nil {
		return nil, err
	}
	return asObject(v)
}

// asObject returns v as an object, the error of a record whose value is
// something else.
func asObject(v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, Permanent(fmt.Errorf("record value is %s, not an object", kindOf(v)))
	}
	return m, nil
}

// Values returns the record's top-level fields named in want, as the
// slots of a layout that has every name of want and maybe more, with
// KindMissing for fields the record lacks. While the record is not decoded
// and its codec is a codec.Picker, they are picked from Value without
// decoding the rest, and kept: later calls for the same or fewer fields
// cost next to nothing. Otherwise the record is decoded in full and the
// values are read from that. A value that is not a well-formed object
// fails as Fields fails. The caller must not change the slice; SetValue
// changes a field. The result is valid until the next call of a method of
// r other than Values with a layout it already has, Bytes and SetValue.
func (r *Record) Values(want *field.Layout) (*field.Layout, []field.Value, error) {
	if r.layout != nil && r.layout.Contains(want) {
		return r.layout, r.vals, nil
	}
	u := want
	if r.layout != nil {
		u = r.layout.Union(want)
	}
	if r.decoded {
		m, err := asObject(r.data)
		if err != nil {
			return nil, nil, err
		}
		vals := make([]field.Value, u.Len())
		for i, name := range u.Names() {
			if x, ok := m[name]; ok {
				vals[i] = field.FromAny(x)
			}
		}
		r.layout, r.vals = u, vals
		return u, vals, nil
	}
	p, ok := r.codec.(codec.Picker)
	if !ok || u.Len() > MaxPicked {
		if _, err := r.Fields(); err != nil {
			return nil, nil, err
		}
		return r.Values(want)
	}
	vals := make([]field.Value, u.Len())
	need := allSlots(u.Len())
	var changed uint64
	if r.layout != nil {
		for i, name := range r.layout.Names() {
			j, _ := u.Index(name)
			vals[j] = r.vals[i]
			need &^= 1 << j
			if r.changed&(1<<i) != 0 {
				changed |= 1 << j
			}
		}
	}
	if err := p.PickValues(r.Value, u, need, vals, nil); err != nil {
		// Decoding in full says what is wrong, in the words Fields uses.
		if _, ferr := r.Fields(); ferr != nil {
			return nil, nil, ferr
		}
		return r.Values(want)
	}
	r.layout, r.vals, r.changed = u, vals, changed
	return u, vals, nil
}

// PickBatch picks the fields of l from every record of b that has none
// picked yet, as Values does, holding all their values in one allocation.
// The records must share the codec of the first, as the records of a
// source batch do in the runtime. A record whose value does not pick is
// left alone: its error comes back from the first Values or Fields called
// on it.
func PickBatch(b Batch, l *field.Layout) {
	PickBatchInto(b, l, nil, nil)
}

// PickBatchInto is PickBatch with the values held in arena when it has
// room for l.Len() values a record (it must be all zero), and with keys,
// if not nil, as the key cache of the picks, which a caller that picks
// batch after batch of the same stream keeps. It returns the array the
// records' values are in: arena, a new one, or nil when nothing was
// picked. Once nothing reads the records any more the caller may clear
// it and pass it again.
func PickBatchInto(b Batch, l *field.Layout, arena []field.Value, keys *codec.KeyCache) []field.Value {
	c := codecOf(b)
	p, ok := c.(codec.Picker)
	if !ok || l.Len() == 0 || l.Len() > MaxPicked {
		return nil
	}
	n := l.Len()
	all := allSlots(n)
	if size := n * len(b.Records); cap(arena) >= size {
		arena = arena[:size]
	} else {
		arena = make([]field.Value, size)
	}
	if keys == nil {
		keys = new(codec.KeyCache) // records of a batch mostly have the same keys
	}
	for i := range b.Records {
		r := &b.Records[i]
		if r.layout != nil || r.decoded {
			continue
		}
		vals := arena[i*n : (i+1)*n : (i+1)*n]
		if err := p.PickValues(r.Value, l, all, vals, keys); err != nil {
			clear(vals)
			continue
		}
		r.layout, r.vals = l, vals
	}
	return arena
}

// allSlots returns the mask of slots 0 to n-1 (n at most 64: a shift by
// 64 gives 0, so 64 gives every bit).
func allSlots(n int) uint64 { return uint64(1)<<n - 1 }

// codecOf returns the codec of b's first record, nil if b is empty.
func codecOf(b Batch) codec.Codec {
	if len(b.Records) == 0 {
		return nil
	}
	return b.Records[0].codec
}

// SetValue sets the field in slot i of l to v; a missing v removes the
// field. l is the layout Values returned, and the slice it returned sees
// the change.
func (r *Record) SetValue(l *field.Layout, i int, v field.Value) {
	if l != r.layout {
		// Not what Values returned last: find the field where it is now.
		name := l.Name(i)
		var err error
		if l, _, err = r.Values(l); err != nil {
			return
		}
		i, _ = l.Index(name)
	}
	r.vals[i] = v
	r.dirty = true
	if !r.decoded {
		r.changed |= 1 << i
		return
	}
	m := r.data.(map[string]any) // Values checked it
	if v.Exists() {
		m[l.Name(i)] = v.Any()
	} else {
		delete(m, l.Name(i))
	}
}

// Overlay returns the top-level fields a transform set on the record with
// SetValue whose values an encoding may not give back as they are, in a
// new map, nil when there are none: a time, a float, an object or an
// array, as the record model has them. Strings of valid UTF-8, integers,
// bools and null are left out, since every codec's bytes carry them
// exactly. For a decoded record it is the whole decoded object. A sink that
// reads the record's encoded bytes (Bytes, which has every change) lays
// these over what it reads, to keep the types the transforms gave. ok is
// false when the record is decoded to something other than an object.
// Overlay reads nothing from Value.
func (r *Record) Overlay() (fields map[string]any, ok bool) {
	if r.decoded {
		m, ok := r.data.(map[string]any)
		return m, ok
	}
	for i, name := range r.layoutNames() {
		if r.changed&(1<<i) == 0 {
			continue
		}
		switch v := r.vals[i]; v.Kind() {
		case field.KindMissing, field.KindNull, field.KindBool, field.KindInt:
			continue
		case field.KindString:
			if utf8.ValidString(v.Str()) {
				continue
			}
		}
		if fields == nil {
			fields = make(map[string]any, 4)
		}
		fields[name] = r.vals[i].Any()
	}
	return fields, true
}

// layoutNames returns the names of the record's picked fields, nil when it
// has none.
func (r *Record) layoutNames() []string {
	if r.layout == nil {
		return nil
	}
	return r.layout.Names()
}

// View returns the record's top-level fields named in keys in a new map,
// read with Values; nil keys means every field, as Fields. The map is a
// copy, except with nil keys: changing it does not change the record.
func (r *Record) View(keys []string) (map[string]any, error) {
	if keys == nil {
		return r.Fields()
	}
	return r.ViewInto(keys, make(map[string]any, len(keys)))
}

// ViewInto is View into scratch, which it clears first and returns, for a
// reader that renders many records one after the other.
func (r *Record) ViewInto(keys []string, scratch map[string]any) (map[string]any, error) {
	if keys == nil {
		return r.Fields()
	}
	l, vals, err := r.Values(field.NewLayout(keys...))
	if err != nil {
		return nil, err
	}
	clear(scratch)
	for _, k := range keys {
		if i, ok := l.Index(k); ok && vals[i].Exists() {
			scratch[k] = vals[i].Any()
		}
	}
	return scratch, nil
}

// Fields returns the structured form as an object, decoding it in full. It
// fails when the value is not an object. The caller may change the map
// and then calls MarkChanged.
func (r *Record) Fields() (map[string]any, error) {
	v, err := r.Data()
	if err != nil {
		return nil, err
	}
	return asObject(v)
}

// SetData replaces the structured form of the record. Bytes encodes it
// again when a sink asks for it. A transform that changes the map returned
// by Fields in place calls MarkChanged instead.
func (r *Record) SetData(v any) {
	r.data, r.decoded, r.dirty, r.layout, r.vals, r.changed = v, true, true, nil, nil, 0
}

// MarkChanged records that the structured form was changed in place.
func (r *Record) MarkChanged() { r.dirty = true }

// Bytes returns the encoded value of the record: Value as read, unless the
// structured form was changed, in which case it is encoded with the codec.
// A record changed only through SetValue is encoded again without being
// decoded in full when the codec is a codec.Patcher.
func (r *Record) Bytes() ([]byte, error) {
	if !r.dirty {
		return r.Value, nil
	}
	if r.codec == nil {
		return nil, errors.New("record has no codec")
	}
	if p, ok := r.codec.(codec.Patcher); ok && !r.decoded {
		b, err := p.PatchValues(nil, r.Value, r.layout, r.vals, r.changed)
		if err != nil {
			return nil, Permanent(fmt.Errorf("encode: %w", err))
		}
		// The changed fields now agree with Value; they stay marked, so
		// that they keep the types transforms gave them.
		r.Value, r.dirty = b, false
		return b, nil
	}
	if !r.decoded {
		if _, err := r.Data(); err != nil {
			return nil, err
		}
	}
	b, err := r.codec.Encode(r.data)
	if err != nil {
		return nil, Permanent(fmt.Errorf("encode: %w", err))
	}
	r.Value, r.dirty = b, false
	return b, nil
}

// Share returns a copy of r for another reader, such as a second sink:
// it shares the value and the decoded form, which readers do not change,
// but not the map of picked fields, to which View adds. Unlike Clone it
// copies no data.
func (r *Record) Share() Record {
	c := *r
	c.vals = slices.Clone(r.vals)
	return c
}

// Clone returns a copy of r that shares no mutable state with it: the
// headers map and the structured form are copied deeply, so a transform can
// change one without the other.
func (r *Record) Clone() Record {
	c := *r
	if r.Headers != nil {
		c.Headers = make(map[string]string, len(r.Headers))
		for k, v := range r.Headers {
			c.Headers[k] = v
		}
	}
	if r.decoded {
		c.data = deepCopy(r.data)
	}
	if r.vals != nil {
		c.vals = make([]field.Value, len(r.vals))
		for i, v := range r.vals {
			if v.Kind() == field.KindAny {
				v = field.OfAny(deepCopy(v.AnyValue()))
			}
			c.vals[i] = v
		}
	}
	return c
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = deepCopy(x)
		}
		return s
	default:
		return v
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64, int:
		return "a number"
	case []byte:
		return "raw bytes"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// Batch is an ordered group of records that is acknowledged as one unit.
type Batch struct {
	Records []Record
}

// Len returns the number of records in b.
func (b Batch) Len() int { return len(b.Records) }

// Bytes returns the sum of the raw value sizes of b's records.
func (b Batch) Bytes() int {
	n := 0
	for i := range b.Records {
		n += len(b.Records[i].Value) + len(b.Records[i].Key)
	}
	return n
}
