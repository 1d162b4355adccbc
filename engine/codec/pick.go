package codec

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Picker is implemented by codecs that can decode some top-level fields of
// an object without decoding the rest of it. The engine uses it to evaluate
// expressions that read a few fields of a large record.
type Picker interface {
	// Pick decodes the values of the top-level keys of the object in data
	// that are named in keys, as Decode would decode them, and stores them
	// in dst; keys that data lacks are not stored. A later duplicate key
	// wins, as in Decode. Pick checks the whole input as Decode does: it
	// fails where Decode fails or gives something other than an object,
	// though its error need not say why (Decode's does). On error dst may
	// hold some of the keys. The values share no memory with data.
	Pick(data []byte, keys []string, dst map[string]any) error
}

// errPick is the error of Pick on input that is not a well-formed object;
// Decode of the same input says what is wrong with it.
var errPick = errors.New("json: not a well-formed object")

// Pick implements Picker. Where sonic falls back to encoding/json it decodes
// the whole object.
func (c jsonCodec) Pick(data []byte, keys []string, dst map[string]any) error {
	if c.portable {
		v, err := c.Decode(data)
		if err != nil {
			return err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return errPick
		}
		for _, k := range keys {
			if x, ok := m[k]; ok {
				dst[k] = x
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
	var (
		text string // a copy of data, made for the first plain string picked
		err  error
	)
	for {
		if i >= len(data) || data[i] != '"' {
			return errPick
		}
		end, plain := scanString(data, i)
		if end < 0 {
			return errPick
		}
		want := matchKey(data[i:end], plain, keys)
		i = skipBlank(data, end)
		if i >= len(data) || data[i] != ':' {
			return errPick
		}
		i = skipBlank(data, i+1)
		start := i
		plainValue := false
		if i < len(data) && data[i] == '"' {
			i, plainValue = scanString(data, i)
		} else {
			i = skipValue(data, i, 1)
		}
		if i < 0 {
			return errPick
		}
		if want >= 0 {
			var v any
			if plainValue && len(keys) > 2 {
				// Plain strings are cut from one copy of data, so that
				// picking several costs one allocation and not one each.
				if text == "" {
					text = string(data)
				}
				v = text[start+1 : i-1]
			} else if plainValue {
				v = string(data[start+1 : i-1])
			} else if v, err = c.decodeValue(data[start:i]); err != nil {
				return err
			}
			dst[keys[want]] = v
		}
		i = skipBlank(data, i)
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

// endOfValue checks that only white space follows offset i.
func endOfValue(data []byte, i int) error {
	if nonBlank(data, int64(i)) >= 0 {
		return errPick
	}
	return nil
}

// matchKey returns the index in keys of the quoted key q, -1 if it is not
// there. plain is what scanString said of q.
func matchKey(q []byte, plain bool, keys []string) int {
	raw := q[1 : len(q)-1]
	if plain {
		for k, want := range keys {
			if string(raw) == want {
				return k
			}
		}
		return -1
	}
	var s string
	if err := sonicAPI.UnmarshalFromString(string(q), &s); err != nil {
		return -1 // the caller's decode of the object reports it
	}
	for k, want := range keys {
		if s == want {
			return k
		}
	}
	return -1
}

// decodeValue decodes one JSON value that skipValue delimited.
func (c jsonCodec) decodeValue(v []byte) (any, error) {
	switch v[0] {
	case '"':
		raw := v[1 : len(v)-1]
		if plainString(raw) {
			return string(raw), nil
		}
		var s string
		if err := sonicAPI.UnmarshalFromString(string(v), &s); err != nil {
			return nil, describe(v, err)
		}
		return s, nil
	case '{', '[':
		return c.Decode(v)
	case 't', 'f', 'n':
		switch string(v) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		return nil, errPick
	}
	if !validNumber(v) {
		return nil, errPick
	}
	n, err := parseNumber(string(v))
	if err != nil {
		return nil, syntaxError(0, "number "+string(v)+" out of range")
	}
	return n, nil
}

// plainString reports whether the inside of a JSON string needs no
// unescaping or UTF-8 correction: no backslash, no control character and
// valid UTF-8.
func plainString(raw []byte) bool {
	ascii := true
	for _, c := range raw {
		if c < 0x20 || c == '\\' {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return ascii || utf8.Valid(raw)
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
	for i < len(data) {
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
func scanString(data []byte, i int) (end int, plain bool) {
	for j := i + 1; j < len(data); j++ {
		c := data[j]
		if c == '"' {
			return j + 1, true
		}
		if c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			end = skipString(data, i)
			return end, false
		}
	}
	return -1, false
}

// skipValue returns the offset just past the JSON value that starts at
// data[i], -1 if there is no well-formed value there. It accepts what
// Decode accepts at depth levels of nesting.
func skipValue(data []byte, i int, depth int) int {
	if i >= len(data) {
		return -1
	}
	switch c := data[i]; {
	case c == '"':
		return skipString(data, i)
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
// well-formed.
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
			if i = skipString(data, i); i < 0 {
				return -1
			}
			i = skipBlank(data, i)
			if i >= len(data) || data[i] != ':' {
				return -1
			}
			i = skipBlank(data, i+1)
		}
		if i = skipValue(data, i, depth); i < 0 {
			return -1
		}
		i = skipBlank(data, i)
		if i >= len(data) {
			return -1
		}
		switch data[i] {
		case ',':
			i = skipBlank(data, i+1)
		case closer:
			return i + 1
		default:
			return -1
		}
	}
}

var _ Picker = jsonCodec{}

// Patcher is implemented by codecs that can encode an object again with
// some top-level fields changed, without decoding the rest of it.
type Patcher interface {
	// Patch appends to dst the object in data, which Pick accepts, with
	// every top-level key named in keys set to its value in fields, or
	// removed where fields lacks it. The other members are copied as they
	// are and in their order; the keys named follow, in the order of keys.
	// On error it returns dst unchanged.
	Patch(dst, data []byte, keys []string, fields map[string]any) ([]byte, error)
}

// Patch implements Patcher.
func (c jsonCodec) Patch(dst, data []byte, keys []string, fields map[string]any) ([]byte, error) {
	orig := dst
	i := skipBlank(data, 0)
	if i >= len(data) || data[i] != '{' {
		return orig, errPick
	}
	dst = append(dst, '{')
	first := true
	i = skipBlank(data, i+1)
	for i < len(data) && data[i] != '}' {
		kstart := i
		end, plain := scanString(data, i)
		if end < 0 {
			return orig, errPick
		}
		changed := matchKey(data[kstart:end], plain, keys) >= 0
		i = skipBlank(data, end)
		if i >= len(data) || data[i] != ':' {
			return orig, errPick
		}
		vstart := skipBlank(data, i+1)
		vend := skipValue(data, vstart, 1)
		if vend < 0 {
			return orig, errPick
		}
		if !changed {
			if !first {
				dst = append(dst, ',')
			}
			dst = append(append(append(dst, data[kstart:end]...), ':'), data[vstart:vend]...)
			first = false
		}
		i = skipBlank(data, vend)
		if i < len(data) && data[i] == ',' {
			i = skipBlank(data, i+1)
		}
	}
	if i >= len(data) {
		return orig, errPick
	}
	var err error
	for _, k := range keys {
		v, ok := fields[k]
		if !ok {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		if dst, err = c.appendValue(dst, k); err != nil {
			return orig, err
		}
		dst = append(dst, ':')
		if dst, err = c.appendValue(dst, v); err != nil {
			return orig, err
		}
	}
	return append(dst, '}'), nil
}

// appendValue appends v as Encode writes it, quoting plain strings itself.
func (c jsonCodec) appendValue(dst []byte, v any) ([]byte, error) {
	if s, ok := v.(string); ok && plainText(s) {
		return append(append(append(dst, '"'), s...), '"'), nil
	}
	return c.AppendEncode(dst, v)
}

// plainText reports whether s is printable ASCII with no quote or
// backslash, which JSON writes as it is.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

var _ Patcher = jsonCodec{}
