package engine

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/engine/codec"
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
// Key, Value, Headers and Time are what the source read. The structured form
// of Value is decoded lazily, with the pipeline's codec, the first time Data
// or Fields is called; a transform that changes it calls SetData, and Bytes
// then encodes it again for the sinks. Records move by value inside a
// Batch; call the methods on &b.Records[i] so the decoded form is kept.
type Record struct {
	Key     []byte
	Value   []byte
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
	dirty   bool // data or partial changed since Value was read or encoded
	// partial holds the top-level fields View picked from Value, as changed
	// since, while the record is not decoded in full; picked names every key
	// looked up, found or not. picked has no spare capacity: it may share
	// its array with the caller of View.
	partial map[string]any
	picked  []string
}

// NewRecord returns a record holding value, decoded with c when its fields
// are first needed.
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
// retryable.
func (r *Record) Data() (any, error) {
	if r.decoded {
		return r.data, nil
	}
	v, err := r.decode()
	if err != nil {
		return nil, err
	}
	r.data, r.decoded, r.partial, r.picked = v, true, nil, nil
	return v, nil
}

// decode decodes Value and applies what was changed through View.
func (r *Record) decode() (any, error) {
	if r.codec == nil {
		return nil, errors.New("record has no codec")
	}
	v, err := r.codec.Decode(r.Value)
	if err != nil {
		return nil, Permanent(fmt.Errorf("decode: %w", err))
	}
	if m, ok := v.(map[string]any); ok && r.partial != nil {
		// The picked fields as they are now: changed, or kept in the types
		// a transform gave them (a time stays a time once encoded).
		for _, k := range r.picked {
			if x, ok := r.partial[k]; ok {
				m[k] = x
			} else {
				delete(m, k)
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
	m, ok := v.(map[string]any)
	if !ok {
		return nil, Permanent(fmt.Errorf("record value is %s, not an object", kindOf(v)))
	}
	return m, nil
}

// View returns the fields of the record for code that reads, and may set or
// delete, only the top-level fields named in keys and what is nested in
// them; nil keys means every field, as Fields. While the record is not
// decoded and its codec is a codec.Picker, the map holds only those fields
// (and others that earlier calls picked), decoded from Value without
// decoding the rest: filtering or enriching a large record then costs a
// fraction of a full decode. Otherwise it is the map Fields returns. A
// caller that changes the map calls MarkChanged, as with Fields; Data,
// Fields and Bytes see the change. The map is valid until the next call of
// Data, Fields or SetData. keys must not change while the record lives.
func (r *Record) View(keys []string) (map[string]any, error) {
	p, ok := r.codec.(codec.Picker)
	if r.decoded || keys == nil || !ok {
		return r.Fields()
	}
	missing := keys
	if r.partial == nil {
		r.partial = make(map[string]any, len(keys)+2)
	} else {
		missing = nil
		for _, k := range keys {
			if !slices.Contains(r.picked, k) {
				missing = append(missing, k)
			}
		}
		if missing == nil {
			return r.partial, nil
		}
	}
	if err := p.Pick(r.Value, missing, r.partial); err != nil {
		// Decoding in full says what is wrong, in the words Fields uses.
		return r.Fields()
	}
	if r.picked == nil {
		r.picked = slices.Clip(missing)
	} else {
		r.picked = slices.Clip(append(r.picked, missing...))
	}
	return r.partial, nil
}

// Fields returns the structured form as an object, the environment that
// expressions are evaluated against. It fails when the value is not an
// object.
func (r *Record) Fields() (map[string]any, error) {
	v, err := r.Data()
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, Permanent(fmt.Errorf("record value is %s, not an object", kindOf(v)))
	}
	return m, nil
}

// ViewInto is View for a reader that does not keep what it reads, such as
// a sink rendering an object path: fields that View would pick from Value
// and keep in the record are picked into scratch instead, which is cleared
// first and returned. Fields the record already holds (decoded, or picked
// and maybe changed) are read from the record. The result is valid until
// scratch is used again; the caller must not change it.
func (r *Record) ViewInto(keys []string, scratch map[string]any) (map[string]any, error) {
	p, ok := r.codec.(codec.Picker)
	if r.decoded || keys == nil || !ok {
		return r.Fields()
	}
	missing := keys
	if r.partial != nil {
		missing = nil
		for _, k := range keys {
			if !slices.Contains(r.picked, k) {
				missing = append(missing, k)
			}
		}
		if missing == nil {
			return r.partial, nil
		}
	}
	clear(scratch)
	if err := p.Pick(r.Value, missing, scratch); err != nil {
		return r.Fields()
	}
	for _, k := range keys {
		if v, ok := r.partial[k]; ok {
			scratch[k] = v
		}
	}
	return scratch, nil
}

// SetData replaces the structured form of the record. Bytes encodes it
// again when a sink asks for it. A transform that changes the map returned
// by Fields in place calls MarkChanged instead.
func (r *Record) SetData(v any) {
	r.data, r.decoded, r.dirty, r.partial, r.picked = v, true, true, nil, nil
}

// MarkChanged records that the structured form was changed in place.
func (r *Record) MarkChanged() { r.dirty = true }

// Bytes returns the encoded value of the record: Value as read, unless the
// structured form was changed, in which case it is encoded with the codec.
// A record changed only through View is re-encoded without being decoded in
// full when the codec is a codec.Patcher.
func (r *Record) Bytes() ([]byte, error) {
	if !r.dirty {
		return r.Value, nil
	}
	if r.codec == nil {
		return nil, errors.New("record has no codec")
	}
	if p, ok := r.codec.(codec.Patcher); ok && !r.decoded {
		b, err := p.Patch(nil, r.Value, r.picked, r.partial)
		if err != nil {
			return nil, Permanent(fmt.Errorf("encode: %w", err))
		}
		// The picked fields now agree with Value; they stay picked, so
		// that their values keep the types transforms gave them.
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
	if r.partial != nil {
		c.partial = maps.Clone(r.partial)
	}
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
	if r.partial != nil {
		c.partial = deepCopy(r.partial).(map[string]any)
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
