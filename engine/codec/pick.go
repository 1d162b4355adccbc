package codec

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/sluicehq/sluice/engine/field"
)

// Picker is implemented by codecs that can decode some top-level fields of
// an object without decoding the rest of it. The engine uses it to give
// expressions the few fields they read from a large record.
type Picker interface {
	// PickValues decodes the values of the top-level keys of the object in
	// data whose slot in l is set in want (bit i for slot i; l has at most
	// 64 names) and stores each in dst[slot], as Decode would decode it:
	// strings, numbers, bools and null get their own kinds, objects and
	// arrays are KindAny holding map[string]any and []any. Slots of keys
	// data lacks are left alone. A later duplicate key wins, as in Decode.
	// PickValues checks the whole input as Decode does: it fails where
	// Decode fails or gives something other than an object, though its
	// error need not say why (Decode's does). On error dst may hold some
	// of the keys. Strings may share data's bytes, which must therefore
	// never change afterwards; nothing else does. keys, which may be nil,
	// remembers the keys of the objects read before with the same l, so
	// that an object with the same keys in the same order, as records of
	// one stream mostly are, is read without looking its keys up.
	PickValues(data []byte, l *field.Layout, want uint64, dst []field.Value, keys *KeyCache) error
}

// KeyCache remembers, for a Picker, the keys of the last objects it read
// with one layout, in order, and the slot of each. It keeps copies of the
// keys, not references to the objects, whose buffers a source may reuse
// once their records are done. A KeyCache is not safe for concurrent use;
// the zero KeyCache is ready to use.
type KeyCache struct {
	l    *field.Layout
	keys []cachedKey
	buf  []byte // the keys' copies are appended here
}

// keyCacheBuf is the size of the blocks a KeyCache copies keys into.
const keyCacheBuf = 4 << 10

// copyKey returns a copy of q that no later copy overwrites.
func (kc *KeyCache) copyKey(q []byte) []byte {
	if len(q) > cap(kc.buf)-len(kc.buf) {
		// Keys cached before keep the old block.
		kc.buf = make([]byte, 0, max(keyCacheBuf, len(q)))
	}
	start := len(kc.buf)
	kc.buf = append(kc.buf, q...)
	return kc.buf[start:len(kc.buf):len(kc.buf)]
}

// cachedKey is a key as it was written, quotes included, followed by its
// colon when no white space came between, and its slot (-1 for a key of
// no slot).
type cachedKey struct {
	quoted []byte
	slot   int
	colon  bool // quoted ends with the colon
	// w and m are the first 16 bytes of quoted as two little-endian words,
	// and masks of the bytes quoted has, when it is no longer: hasKey then
	// compares two words.
	w, m [2]uint64
}

// newCachedKey returns the cached form of quoted.
func newCachedKey(quoted []byte, slot int, colon bool) cachedKey {
	ck := cachedKey{quoted: quoted, slot: slot, colon: colon}
	if len(quoted) <= 16 {
		var buf [16]byte
		copy(buf[:], quoted)
		for i := range ck.m {
			ck.w[i] = binary.LittleEndian.Uint64(buf[8*i:])
			if n := len(quoted) - 8*i; n >= 8 {
				ck.m[i] = ^uint64(0)
			} else if n > 0 {
				ck.m[i] = 1<<(8*n) - 1
			}
		}
	}
	return ck
}

// matches reports whether data starts with the key.
func (ck *cachedKey) matches(data []byte) bool {
	if len(ck.quoted) <= 16 && len(data) >= 16 {
		w := data[:16:16]
		return binary.LittleEndian.Uint64(w)&ck.m[0] == ck.w[0] &&
			binary.LittleEndian.Uint64(w[8:])&ck.m[1] == ck.w[1]
	}
	return hasKey(data, ck.quoted)
}

// maxCachedKeys is the most keys a KeyCache remembers of an object.
const maxCachedKeys = 256

// errPick is the error of PickValues on input that is not a well-formed
// object; Decode of the same input says what is wrong with it.
var errPick = errors.New("json: not a well-formed object")

// PickValues implements Picker. Where sonic falls back to encoding/json it
// decodes the whole object.
func (c jsonCodec) PickValues(data []byte, l *field.Layout, want uint64, dst []field.Value, keys *KeyCache) error {
	if c.portable {
		v, err := c.Decode(data)
		if err != nil {
			return err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return errPick
		}
		for i, name := range l.Names() {
			if x, ok := m[name]; ok && want&(1<<i) != 0 {
				dst[i] = field.FromAny(x)
			}
		}
		return nil
	}
	i := skipBlank(data, 0)
	if i >= len(data) || data[i] != '{' {
		return errPick
	}
	i = skipBlank(data, i+1)
	if i < len(data) && data[i] == '}' {
		return endOfValue(data, i+1)
	}
	if keys != nil && keys.l != l {
		keys.l, keys.keys = l, keys.keys[:0]
	}
	for k := 0; ; k++ {
		// The key and the colon after it. Compact JSON, with no white
		// space between them, is the common case: a cached key holds its
		// colon then, and the key the object before had here is matched
		// with it, eight bytes at a time (its quote included).
		var slot int
		if ck := keys.at(k); ck != nil && ck.colon && ck.matches(data[i:]) {
			slot, i = ck.slot, i+len(ck.quoted)
		} else {
			var err error
			if slot, i, err = keys.key(data, i, k, l); err != nil {
				return err
			}
		}
		if slot >= 0 && want&(1<<slot) == 0 {
			slot = -1
		}
		// The value.
		if i < len(data) && data[i] <= ' ' {
			i = skipBlank(data, i)
		}
		if i >= len(data) {
			return errPick
		}
		switch {
		case slot >= 0:
			var v field.Value
			var err error
			if v, i, err = c.pickValue(data, i); err != nil {
				return err
			}
			dst[slot] = v
		case data[i] == '"':
			i, _ = scanString(data, i)
		default:
			i = skipValue(data, i, 1)
		}
		if i < 0 {
			return errPick
		}
		// The separator: compact JSON has a comma and the next key's quote.
		if i+1 < len(data) {
			if sep := data[i : i+2 : i+2]; sep[0] == ',' && sep[1] == '"' {
				i++
				continue
			}
		}
		if i < len(data) && data[i] <= ' ' {
			i = skipBlank(data, i)
		}
		if i >= len(data) {
			return errPick
		}
		switch data[i] {
		case ',':
			i = skipBlank(data, i+1)
		case '}':
			return endOfValue(data, i+1)
		default:
			return errPick
		}
	}
}

// at returns the cached key k, nil if there is none (or no cache).
func (kc *KeyCache) at(k int) *cachedKey {
	if kc != nil && k < len(kc.keys) {
		return &kc.keys[k]
	}
	return nil
}

// key reads key k of an object, at data[i], that is not the cached key k
// followed by its colon, and the colon after it: it returns the key's slot
// in l (-1 for none) and the offset just past the colon, and remembers the
// key as key k, unless the cache knows fewer keys before it. kc may be nil.
func (kc *KeyCache) key(data []byte, i, k int, l *field.Layout) (slot, next int, err error) {
	if i >= len(data) || data[i] != '"' {
		return 0, 0, errPick
	}
	if ck := kc.at(k); ck != nil && ck.matches(data[i:]) {
		// The cached key, with white space before its colon.
		slot, i = ck.slot, i+len(ck.quoted)
		if i = skipBlank(data, i); i >= len(data) || data[i] != ':' {
			return 0, 0, errPick
		}
		return slot, i + 1, nil
	}
	slot, end := keyAt(data, i, l)
	if end < 0 {
		return 0, 0, errPick
	}
	colon := end
	if colon >= len(data) || data[colon] != ':' {
		colon = skipBlank(data, end)
		if colon >= len(data) || data[colon] != ':' {
			return 0, 0, errPick
		}
	}
	if kc != nil && k <= len(kc.keys) && k < maxCachedKeys {
		var ck cachedKey
		if colon == end {
			ck = newCachedKey(kc.copyKey(data[i:end+1]), slot, true)
		} else {
			ck = newCachedKey(kc.copyKey(data[i:end]), slot, false)
		}
		kc.keys = append(kc.keys[:k], ck)
	}
	return slot, colon + 1, nil
}

// hasKey reports whether data starts with the quoted key q.
func hasKey(data, q []byte) bool {
	return len(data) >= len(q) && string(data[:len(q)]) == string(q)
}

// keyAt reads the key that starts with the quote at data[i] and returns
// its slot in l, -1 if l lacks it, and the offset just past it; end is -1
// if the key is not a well-formed string. A key of the layout is
// recognised as it is; only the others are scanned for their end.
func keyAt(data []byte, i int, l *field.Layout) (slot, end int) {
	slot, n := l.MatchKey(data[i:])
	if slot >= 0 {
		return slot, i + n
	}
	end, plain := scanString(data, i)
	switch {
	case end < 0:
	case !plain:
		slot = lookupEscaped(l, data[i:end])
	case l.Len() > 64:
		slot = l.Lookup(data[i+1 : end-1])
	}
	return slot, end
}

// pickValue decodes the value at data[i], which is not past the end, and
// returns it with the offset just past it.
func (c jsonCodec) pickValue(data []byte, i int) (field.Value, int, error) {
	switch ch := data[i]; {
	case ch == '"':
		end, plain := scanString(data, i)
		if end < 0 {
			return field.Value{}, 0, errPick
		}
		if plain {
			return field.String(unsafe.String(&data[i+1], end-i-2)), end, nil
		}
		var s string
		if err := sonicAPI.UnmarshalFromString(string(data[i:end]), &s); err != nil {
			return field.Value{}, 0, describe(data[i:end], err)
		}
		return field.String(s), end, nil
	case ch == 't':
		return literal(field.Bool(true), skipLiteral(data, i, "true"))
	case ch == 'f':
		return literal(field.Bool(false), skipLiteral(data, i, "false"))
	case ch == 'n':
		return literal(field.Null(), skipLiteral(data, i, "null"))
	case ch == '{' || ch == '[':
		end := skipValue(data, i, 1)
		if end < 0 {
			return field.Value{}, 0, errPick
		}
		v, err := c.Decode(data[i:end])
		if err != nil {
			return field.Value{}, 0, err
		}
		return field.OfAny(v), end, nil
	}
	return pickNumber(data, i)
}

func literal(v field.Value, end int) (field.Value, int, error) {
	if end < 0 {
		return field.Value{}, 0, errPick
	}
	return v, end, nil
}

// Number decodes the JSON number at data[i] as Decode decodes one: an
// int64 when it is written without a fraction or exponent and fits, else a
// float64. It returns the offset just past the number, and false when there
// is no well-formed number within the float64 range there.
func Number(data []byte, i int) (v field.Value, end int, ok bool) {
	if i >= len(data) {
		return field.Value{}, 0, false
	}
	v, end, err := pickNumber(data, i)
	return v, end, err == nil
}

// pickNumber decodes the number at data[i]: an int64 when it is written
// without a fraction or exponent and fits, else a float64.
func pickNumber(data []byte, i int) (field.Value, int, error) {
	// The common cases in one pass: an integer of up to 18 digits, which
	// cannot overflow, and a number with a fraction, no exponent and at
	// most 15 digits, which a float64 holds exactly, so that dividing it by
	// an exact power of ten rounds correctly (Clinger's fast path), as
	// strconv.ParseFloat does.
	j, neg := i, false
	if data[j] == '-' {
		neg = true
		j++
	}
	var m uint64
	start := j
	for j < len(data) && data[j] >= '0' && data[j] <= '9' {
		m = m*10 + uint64(data[j]-'0')
		j++
	}
	nd, frac := j-start, 0
	if nd > 0 && nd < 19 && (nd == 1 || data[start] != '0') {
		if j < len(data) && data[j] == '.' {
			j++
			fs := j
			for j < len(data) && data[j] >= '0' && data[j] <= '9' {
				m = m*10 + uint64(data[j]-'0')
				j++
			}
			frac = j - fs
		}
		if j >= len(data) || (data[j] != '.' && data[j] != 'e' && data[j] != 'E' && data[j] != '-' && data[j] != '+') {
			switch {
			case frac == 0 && (j == start+nd): // no dot
				n := int64(m)
				if neg {
					n = -n
				}
				return field.Int(n), j, nil
			case frac > 0 && nd+frac <= 15:
				f := float64(m) / pow10[frac]
				if neg {
					f = -f
				}
				return field.Float(f), j, nil
			}
		}
	}
	end := i
	for end < len(data) {
		if c := data[end]; (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		end++
	}
	num := data[i:end]
	if !validNumber(num) {
		return field.Value{}, 0, errPick
	}
	if f, ok := simpleFloat(num); ok {
		return field.Float(f), end, nil
	}
	s := unsafe.String(&num[0], len(num))
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return field.Int(n), end, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return field.Value{}, 0, syntaxError(0, "number "+s+" out of range")
	}
	return field.Float(f), end, nil
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
	1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// simpleFloat converts a well-formed number with a fraction and no
// exponent, such as 42.5, whose digits fit in 15 and whose fraction has at
// most 22, to the float64 strconv.ParseFloat gives: its digits as an
// integer, exact in a float64, divided by an exact power of ten is
// correctly rounded (Clinger's fast path). ok is false for any other.
func simpleFloat(num []byte) (float64, bool) {
	i, neg := 0, false
	if num[0] == '-' {
		neg, i = true, 1
	}
	var m uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(num); i++ {
		c := num[i]
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false // an exponent
		}
	}
	if !dot || digits > 15 || frac > 22 {
		return 0, false
	}
	f := float64(m) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

// lookupEscaped returns the slot in l of the quoted key q, which has
// escapes or non-ASCII bytes, -1 if l lacks it or it does not decode.
func lookupEscaped(l *field.Layout, q []byte) int {
	var s string
	if err := sonicAPI.UnmarshalFromString(string(q), &s); err != nil {
		return -1 // the caller's decode of the object reports it
	}
	if i, ok := l.Index(s); ok {
		return i
	}
	return -1
}

// endOfValue checks that only white space follows offset i.
func endOfValue(data []byte, i int) error {
	if nonBlank(data, int64(i)) >= 0 {
		return errPick
	}
	return nil
}

// validNumber reports whether v is a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(v []byte) bool {
	i := 0
	if i < len(v) && v[i] == '-' {
		i++
	}
	switch {
	case i < len(v) && v[i] == '0':
		i++
	case i < len(v) && v[i] >= '1' && v[i] <= '9':
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(v) && v[i] == '.' {
		i++
		if d := digits(v[i:]); d == 0 {
			return false
		} else {
			i += d
		}
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		d := digits(v[i:])
		if d == 0 {
			return false
		}
		i += d
	}
	return i == len(v)
}

func digits(v []byte) int {
	n := 0
	for n < len(v) && v[n] >= '0' && v[n] <= '9' {
		n++
	}
	return n
}

// skipBlank returns the offset of the first byte at or after i that is not
// JSON white space, len(data) if there is none.
func skipBlank(data []byte, i int) int {
	// Most JSON has no white space between tokens: one comparison then.
	for i < len(data) && data[i] <= ' ' {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString is skipString that also reports whether the inside of the
// string is plain: no escape and only ASCII, so that it reads as written.
// It looks at eight bytes at a time.
func scanString(data []byte, i int) (end int, plain bool) {
	j := i + 1
	for ; j+8 <= len(data); j += 8 {
		// Eight bytes from j, which the loop condition keeps in data,
		// loaded without a bounds check.
		w := binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(data)), j)), 8))
		if m := special(w); m != 0 {
			j += bits.TrailingZeros64(m) / 8
			if data[j] == '"' {
				return j + 1, true
			}
			return skipString(data, i), false
		}
	}
	for ; j < len(data); j++ {
		c := data[j]
		if c == '"' {
			return j + 1, true
		}
		if c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			return skipString(data, i), false
		}
	}
	return -1, false
}

// Masks for special.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special returns a word whose lowest set bit is the high bit of the first
// byte of w (in memory order) that ends or complicates a string: a quote,
// a backslash, a control character or a byte of a multi-byte character.
// Bits above it may be set falsely.
func special(w uint64) uint64 {
	quote := w ^ (ones * '"')
	backslash := w ^ (ones * '\\')
	return (((quote-ones)&^quote)|((backslash-ones)&^backslash)|((w-ones*0x20)&^w))&highs | w&highs
}

// skipValue returns the offset just past the JSON value that starts at
// data[i], -1 if there is no well-formed value there. It accepts what
// Decode accepts at depth levels of nesting.
func skipValue(data []byte, i int, depth int) int {
	if i >= len(data) {
		return -1
	}
	c := data[i]
	if c == '"' {
		end, _ := scanString(data, i)
		return end
	}
	if c > '9' || c < '0' && c != '-' {
		return skipOther(data, i, depth)
	}
	// The common case first: an integer of up to 18 digits, which is well
	// formed and in range as soon as no fraction or exponent follows.
	j := i
	if c == '-' {
		j++
	}
	k := j
	for k < len(data) && data[k] >= '0' && data[k] <= '9' {
		k++
	}
	if d := k - j; d > 0 && d < 19 && (d == 1 || data[j] != '0') &&
		(k >= len(data) || data[k] != '.' && data[k] != 'e' && data[k] != 'E' && data[k] != '-' && data[k] != '+') {
		return k
	}
	end := i
	for end < len(data) {
		if c := data[end]; (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		end++
	}
	if !validNumber(data[i:end]) || !inRange(data[i:end]) {
		return -1
	}
	return end
}

// skipOther is skipValue of a value that is not a string or a number.
func skipOther(data []byte, i int, depth int) int {
	switch c := data[i]; {
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return -1
		}
		return skipContainer(data, i, depth+1)
	case c == 't':
		return skipLiteral(data, i, "true")
	case c == 'f':
		return skipLiteral(data, i, "false")
	case c == 'n':
		return skipLiteral(data, i, "null")
	}
	return -1
}

// inRange reports whether the well-formed number v is within the float64
// range, as Decode requires.
func inRange(v []byte) bool {
	for _, c := range v {
		if c == 'e' || c == 'E' {
			_, err := strconv.ParseFloat(string(v), 64)
			return err == nil
		}
	}
	return len(v) < 300 // only an exponent, or 300 digits, can overflow
}

func skipLiteral(data []byte, i int, lit string) int {
	if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}

// skipString returns the offset just past the JSON string that starts with
// the quote at data[i], -1 if it is not well-formed: unterminated, with a
// control character or a bad escape.
func skipString(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return j + 1
		case c < 0x20:
			return -1
		case c == '\\':
			if j+1 >= len(data) {
				return -1
			}
			switch data[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if j+5 >= len(data) || !isHex(data[j+2]) || !isHex(data[j+3]) || !isHex(data[j+4]) || !isHex(data[j+5]) {
					return -1
				}
				j += 5
			default:
				return -1
			}
		}
	}
	return -1
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// skipContainer returns the offset just past the object or array that
// starts at data[i], at depth levels of nesting, -1 if it is not
// well-formed. Compact JSON, with no white space between tokens, takes
// the fewest steps.
func skipContainer(data []byte, i int, depth int) int {
	object := data[i] == '{'
	closer := byte(']')
	if object {
		closer = '}'
	}
	i = skipBlank(data, i+1)
	if i < len(data) && data[i] == closer {
		return i + 1
	}
	for {
		if object {
			if i >= len(data) || data[i] != '"' {
				return -1
			}
			if i, _ = scanString(data, i); i < 0 {
				return -1
			}
			if i < len(data) && data[i] == ':' {
				i++
			} else {
				if i = skipBlank(data, i); i >= len(data) || data[i] != ':' {
					return -1
				}
				i++
			}
			if i < len(data) && data[i] <= ' ' {
				i = skipBlank(data, i)
			}
		}
		if i < len(data) && data[i] == '"' {
			i, _ = scanString(data, i)
		} else {
			i = skipValue(data, i, depth)
		}
		if i < 0 {
			return -1
		}
		if i < len(data) && data[i] <= ' ' {
			i = skipBlank(data, i)
		}
		if i >= len(data) {
			return -1
		}
		switch data[i] {
		case ',':
			i++
			if i < len(data) && data[i] <= ' ' {
				i = skipBlank(data, i)
			}
		case closer:
			return i + 1
		default:
			return -1
		}
	}
}
