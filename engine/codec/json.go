package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/encoder"
)

// The JSON library was chosen by measurement: decoding a 310-byte game
// telemetry event into map[string]any with int64 integers, and encoding that
// map with sorted keys (amd64, 2 shared cores, medians of 10 interleaved
// runs; each candidate configured for the semantics below):
//
//	                          decode                 encode
//	                          ns/op  B/op allocs     ns/op  B/op allocs
//	encoding/json+UseNumber   6460   3196   72       4718   1680   41
//	goccy/go-json v0.12.0     4825   3892   74       1340    320    1
//	bytedance/sonic v1.15.5   2621   2496   28       1705    633    5
//	segmentio/encoding v0.5.4 4013   2244   54       2198   1016    7
//	valyala/fastjson v1.6.10  3349   1956   57          -      -    -
//
// sonic decodes fastest by far and encodes second only to go-json, whose
// decoder has no int64 mode (it needs the slow stream Decoder with
// UseNumber); one library for both is worth more than go-json's 0.4µs.
// fastjson accepts invalid JSON (01, .5, nan, raw control characters, bad
// escapes kept as text) and has no encoder. sonic, configured as below,
// agrees with encoding/json on which input is valid and what it decodes to
// (FuzzJSONDecode checks it), reports byte offsets, is safe for concurrent
// use and builds without cgo on amd64 and arm64. Where sonic falls back to
// encoding/json (other architectures, Go versions it does not know yet) it
// ignores UseInt64, so Decode uses encoding/json with UseNumber itself there.
// json_bench_test.go measures the codec against encoding/json again.

const jsonName = "json"

// maxDepth is the deepest nesting of arrays and objects Decode accepts, the
// limit of sonic's decoder on amd64. Decode checks it itself so that a record
// is accepted or rejected the same way on every platform.
const maxDepth = 4095

// sonicNative reports whether sonic runs its own decoder here rather than
// falling back to encoding/json.
const sonicNative = sonic.APIKind == sonic.UseSonicJSON

// sonicAPI decodes integers into int64 and replaces invalid UTF-8 with
// U+FFFD as encoding/json does. CopyString is off: Decode hands sonic a
// private copy of the input, so the strings it returns share that copy and
// never the caller's buffer.
var sonicAPI = sonic.Config{UseInt64: true, ValidateString: true}.Froze()

// encodeOptions sorts map keys, replaces invalid UTF-8 with U+FFFD and does
// not escape HTML characters.
const encodeOptions = encoder.SortMapKeys | encoder.ValidateString | encoder.NoEncoderNewline

// maxPooledBuffer is the largest encode buffer kept for reuse.
const maxPooledBuffer = 64 << 10

var encodeBuffers = sync.Pool{New: func() any { return new([]byte) }}

// jsonCodec is the json codec. With portable set it decodes with
// encoding/json, as it must where sonic falls back to it.
type jsonCodec struct{ portable bool }

// Name returns "json".
func (jsonCodec) Name() string { return jsonName }

// Decode decodes one JSON value. Objects decode to map[string]any, arrays to
// []any, numbers written without a fraction or exponent that fit in an int64
// to int64, other numbers to float64 (integers beyond int64 lose precision
// there), strings to string with invalid UTF-8 replaced by U+FFFD, true and
// false to bool and null to nil. A later duplicate key wins. The result
// shares no memory with data.
//
// Errors are *SyntaxError: empty input, malformed JSON, anything but white
// space after the value, a number beyond the float64 range and nesting
// deeper than 4095 levels.
func (c jsonCodec) Decode(data []byte) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("json: decode panicked: %v", r)
		}
	}()
	if err := checkDepth(data); err != nil {
		return nil, err
	}
	if c.portable {
		return decodePortable(data)
	}
	if err := sonicAPI.UnmarshalFromString(string(data), &v); err != nil {
		return nil, describe(data, err)
	}
	return v, nil
}

// Encode returns v as compact JSON with the keys of every map sorted, in a
// new slice. It encodes like encoding/json (time.Time as RFC 3339 with
// nanoseconds, []byte as standard base64, structs by their json tags), but
// leaves <, > and & unescaped (and, where sonic runs natively, U+2028 and
// U+2029 too). NaN, infinities, channels and functions are errors.
func (c jsonCodec) Encode(v any) ([]byte, error) { return c.AppendEncode(nil, v) }

// AppendEncode appends v as Encode writes it to dst.
func (jsonCodec) AppendEncode(dst []byte, v any) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = dst, fmt.Errorf("json: encode %T panicked: %v", v, r)
		}
	}()
	// Encode into a buffer of our own: sonic checks and corrects the UTF-8 of
	// the whole buffer, which must not include the caller's bytes.
	bp := encodeBuffers.Get().(*[]byte)
	b := (*bp)[:0]
	err = encoder.EncodeInto(&b, v, encodeOptions)
	if err == nil {
		dst = append(dst, b...)
	}
	if cap(b) <= maxPooledBuffer {
		*bp = b[:0]
		encodeBuffers.Put(bp)
	}
	return dst, err
}

// decodePortable is Decode with encoding/json.
func decodePortable(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, describe(data, err)
	}
	if nonBlank(data, dec.InputOffset()) >= 0 {
		return nil, describe(data, nil)
	}
	v, err := convertNumbers(v)
	if err != nil {
		return nil, describe(data, err)
	}
	return v, nil
}

// convertNumbers replaces every json.Number in v, in place, by an int64 or a
// float64.
func convertNumbers(v any) (any, error) {
	switch t := v.(type) {
	case json.Number:
		return parseNumber(string(t))
	case map[string]any:
		for k, e := range t {
			n, err := convertNumbers(e)
			if err != nil {
				return nil, err
			}
			t[k] = n
		}
	case []any:
		for i, e := range t {
			n, err := convertNumbers(e)
			if err != nil {
				return nil, err
			}
			t[i] = n
		}
	}
	return v, nil
}

// parseNumber converts a well-formed JSON number.
func parseNumber(s string) (any, error) {
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
	}
	return strconv.ParseFloat(s, 64)
}

// describe returns the error for data, which failed to decode with cause: a
// *SyntaxError unless data is well-formed and only the decoder objects. It
// runs only on the error path, so it may take its time: it reads data again
// with encoding/json, whose messages say what was expected.
func describe(data []byte, cause error) error {
	if nonBlank(data, 0) < 0 {
		return syntaxError(int64(len(data)), "unexpected end of input")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	err := dec.Decode(&raw)
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return syntaxError(int64(len(data)), "unexpected end of input")
	case errors.As(err, &se):
		// The scanner counts the offending byte in Offset.
		return syntaxError(se.Offset-1, se.Error())
	case err == nil:
		if i := nonBlank(data, dec.InputOffset()); i >= 0 {
			return syntaxError(int64(i), "invalid character "+quoteByte(data[i])+" after top-level value")
		}
		if e := numberOutOfRange(data); e != nil {
			return e
		}
	}
	if cause == nil {
		cause = err
	}
	if cause == nil {
		return errors.New("json: invalid input")
	}
	// Data is well-formed, yet the decoder rejected it: report its own
	// message, whose first line sonic quotes.
	msg := fmt.Sprint(cause)
	if s, err := strconv.Unquote(msg); err == nil {
		msg = s
	}
	msg, _, _ = strings.Cut(msg, "\n")
	return errors.New("json: " + strings.TrimPrefix(msg, "json: "))
}

// syntaxError returns a json *SyntaxError.
func syntaxError(offset int64, msg string) *SyntaxError {
	return &SyntaxError{Codec: jsonName, Offset: offset, Msg: msg}
}

// numberOutOfRange returns the error for the first number in data, which
// is well-formed JSON, that is beyond the float64 range, nil if there is none.
func numberOutOfRange(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		if n, ok := tok.(json.Number); ok {
			if _, err := strconv.ParseFloat(string(n), 64); err != nil {
				return syntaxError(dec.InputOffset()-int64(len(n)), "number "+string(n)+" out of range")
			}
		}
	}
}

// checkDepth returns a *SyntaxError if arrays and objects in data nest
// deeper than maxDepth. The decoders differ there (sonic stops at 4096 levels
// on amd64 but not on arm64, encoding/json at 10000), and a recursive
// decoder without a limit could exhaust the stack on hostile input.
func checkDepth(data []byte) error {
	// Counting brackets is fast, and almost all input has too few of them
	// to nest too deep: only that input is scanned.
	if len(data) <= 2*maxDepth || bytes.Count(data, []byte{'['})+bytes.Count(data, []byte{'{'}) <= maxDepth {
		return nil
	}
	if i, deep := tooDeep(data); deep {
		return syntaxError(int64(i), "exceeded max nesting depth of "+strconv.Itoa(maxDepth))
	}
	return nil
}

// tooDeep reports whether arrays and objects in data nest deeper than
// maxDepth and if so the offset of the bracket that goes too deep. It does
// not check that data is well-formed.
func tooDeep(data []byte) (int, bool) {
	depth, inString := 0, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if depth++; depth > maxDepth {
				return i, true
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return 0, false
}

// nonBlank returns the offset of the first byte of data at or after from
// that is not JSON white space, -1 if there is none.
func nonBlank(data []byte, from int64) int {
	for i := int(from); i < len(data); i++ {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return i
		}
	}
	return -1
}

// quoteByte quotes c for an error message: 'x', '\n', '\xff'.
func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	return `'\x` + strconv.FormatUint(uint64(c), 16) + `'`
}
