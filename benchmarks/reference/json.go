package reference

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// This file is a JSON decoder for Event written by hand, the way a code
// generator such as easyjson writes one, but tuned. It decodes as
// encoding/json.Unmarshal does into an Event (FuzzDecode checks it):
// the same inputs are errors (malformed JSON, trailing data, values of the
// wrong type, integers with a fraction or out of range), keys match the
// fields exactly or else case-insensitively, unknown keys are skipped but
// checked, null leaves a field as it is, a later duplicate key wins, and
// strings are unescaped with invalid UTF-8 and lone surrogates replaced by
// U+FFFD. An ASCII string without escapes points into the line (unsafe),
// so an Event must not outlive its line.

// maxDepth is how deep encoding/json lets arrays and objects nest.
const maxDepth = 10000

// decodeEvent decodes the JSON object in b into ev, which it resets first.
func decodeEvent(b []byte, ev *Event) error {
	*ev = Event{}
	i := skipSpace(b, 0)
	var err error
	if i < len(b) && b[i] == 'n' {
		i, err = literal(b, i, "null")
	} else {
		i, err = eventObject(b, i, ev)
	}
	if err != nil {
		return err
	}
	if skipSpace(b, i) != len(b) {
		return errTrailing
	}
	return nil
}

// Field numbers, for keys that match only case-insensitively.
const (
	fNone = iota
	fEventID
	fEvent
	fTS
	fPlayerID
	fMatchID
	fRegion
	fPlatform
	fLatencyMS
	fScore
	fLevel
	fDevice
	fOS
	fVer
)

func eventObject(b []byte, i int, ev *Event) (int, error) {
	if i >= len(b) || b[i] != '{' {
		return i, errType
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		f, j := eventKey(b, i)
		if f == fNone {
			key, k, err := str(b, i)
			if err != nil {
				return k, err
			}
			f, j = eventField(key), k
		}
		var err error
		if i, err = colon(b, j); err != nil {
			return i, err
		}
		switch f {
		case fEventID:
			i, err = strField(b, i, &ev.EventID)
		case fEvent:
			i, err = strField(b, i, &ev.Event)
		case fTS:
			i, err = strField(b, i, &ev.TS)
		case fPlayerID:
			i, err = intField(b, i, &ev.PlayerID)
		case fMatchID:
			i, err = intField(b, i, &ev.MatchID)
		case fRegion:
			i, err = strField(b, i, &ev.Region)
		case fPlatform:
			i, err = strField(b, i, &ev.Platform)
		case fLatencyMS:
			i, err = floatField(b, i, &ev.LatencyMS)
		case fScore:
			i, err = intField(b, i, &ev.Score)
		case fLevel:
			i, err = intField(b, i, &ev.Level)
		case fDevice:
			i, err = deviceField(b, i, &ev.Device)
		default:
			i, err = skipValue(b, i, 1)
		}
		if err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, errSyntax
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return i, errSyntax
		}
	}
}

// eventKey recognises the key at b[i] when it is an Event field's name
// exactly, with no escapes, and returns its field and the index after it:
// the usual case, found without scanning the key for escapes. Otherwise
// it returns fNone.
func eventKey(b []byte, i int) (int, int) {
	if len(b)-i < 4 || b[i] != '"' {
		return fNone, i
	}
	rest := b[i+1:]
	switch rest[0] {
	case 'e':
		if isKey(rest, "event") {
			return fEvent, i + 7
		}
		if isKey(rest, "event_id") {
			return fEventID, i + 10
		}
	case 't':
		if isKey(rest, "ts") {
			return fTS, i + 4
		}
	case 'p':
		if isKey(rest, "player_id") {
			return fPlayerID, i + 11
		}
		if isKey(rest, "platform") {
			return fPlatform, i + 10
		}
	case 'm':
		if isKey(rest, "match_id") {
			return fMatchID, i + 10
		}
	case 'r':
		if isKey(rest, "region") {
			return fRegion, i + 8
		}
	case 'l':
		if isKey(rest, "latency_ms") {
			return fLatencyMS, i + 12
		}
		if isKey(rest, "level") {
			return fLevel, i + 7
		}
	case 's':
		if isKey(rest, "score") {
			return fScore, i + 7
		}
	case 'd':
		if isKey(rest, "device") {
			return fDevice, i + 8
		}
	}
	return fNone, i
}

// isKey reports whether b starts with name and a closing quote.
func isKey(b []byte, name string) bool {
	return len(b) > len(name) && string(b[:len(name)]) == name && b[len(name)] == '"'
}

// eventField returns the Event field that key names: exactly, or else
// case-insensitively as encoding/json folds names; fNone if none.
func eventField(key string) int {
	switch key {
	case "event_id":
		return fEventID
	case "event":
		return fEvent
	case "ts":
		return fTS
	case "player_id":
		return fPlayerID
	case "match_id":
		return fMatchID
	case "region":
		return fRegion
	case "platform":
		return fPlatform
	case "latency_ms":
		return fLatencyMS
	case "score":
		return fScore
	case "level":
		return fLevel
	case "device":
		return fDevice
	}
	return foldedField(key)
}

func deviceField(b []byte, i int, d *Device) (int, error) {
	if b[i] == 'n' {
		return literal(b, i, "null")
	}
	if b[i] != '{' {
		return skipWrongType(b, i)
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		var f, j int
		switch {
		case len(b)-i > 3 && b[i] == '"' && isKey(b[i+1:], "os"):
			f, j = fOS, i+4
		case len(b)-i > 4 && b[i] == '"' && isKey(b[i+1:], "ver"):
			f, j = fVer, i+5
		default:
			key, k, err := str(b, i)
			if err != nil {
				return k, err
			}
			f, j = deviceKeyField(key), k
		}
		var err error
		if i, err = colon(b, j); err != nil {
			return i, err
		}
		switch f {
		case fOS:
			i, err = strField(b, i, &d.OS)
		case fVer:
			i, err = strField(b, i, &d.Ver)
		default:
			i, err = skipValue(b, i, 2)
		}
		if err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, errSyntax
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return i, errSyntax
		}
	}
}

// deviceKeyField is eventField for Device.
func deviceKeyField(key string) int {
	switch key {
	case "os":
		return fOS
	case "ver":
		return fVer
	}
	return foldedDeviceField(key)
}

// foldedField returns the Event field that key matches case-insensitively
// as encoding/json folds names, or fNone.
func foldedField(key string) int {
	var arr [32]byte
	switch string(appendFolded(arr[:0], key)) {
	case "EVENT_ID":
		return fEventID
	case "EVENT":
		return fEvent
	case "TS":
		return fTS
	case "PLAYER_ID":
		return fPlayerID
	case "MATCH_ID":
		return fMatchID
	case "REGION":
		return fRegion
	case "PLATFORM":
		return fPlatform
	case "LATENCY_MS":
		return fLatencyMS
	case "SCORE":
		return fScore
	case "LEVEL":
		return fLevel
	case "DEVICE":
		return fDevice
	}
	return fNone
}

// foldedDeviceField is foldedField for Device.
func foldedDeviceField(key string) int {
	var arr [32]byte
	switch string(appendFolded(arr[:0], key)) {
	case "OS":
		return fOS
	case "VER":
		return fVer
	}
	return fNone
}

// appendFolded appends key with every rune replaced by the smallest rune
// it folds to, ASCII letters in upper case, as encoding/json compares names.
func appendFolded(dst []byte, key string) []byte {
	for _, r := range key {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			dst = append(dst, byte(r))
			continue
		}
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// colon skips the colon after a key and the white space around it.
func colon(b []byte, i int) (int, error) {
	if i+1 < len(b) && b[i] == ':' && b[i+1] > ' ' {
		return i + 1, nil
	}
	return colonSlow(b, i)
}

func colonSlow(b []byte, i int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return i, errSyntax
	}
	i = skipSpace(b, i+1)
	if i >= len(b) {
		return i, errSyntax
	}
	return i, nil
}

// strField decodes the value at b[i], which is not white space, into s.
func strField(b []byte, i int, s *string) (int, error) {
	switch b[i] {
	case '"':
		v, j, err := strAfterQuote(b, i+1)
		if err == nil {
			*s = v
		}
		return j, err
	case 'n':
		return literal(b, i, "null")
	}
	return skipWrongType(b, i)
}

// intField decodes the value at b[i], which is not white space, into n.
func intField(b []byte, i int, n *int64) (int, error) {
	start := i
	switch c := b[i]; {
	case c == 'n':
		return literal(b, i, "null")
	case c == '-':
		i++
	case c < '0' || c > '9':
		return skipWrongType(b, i)
	}
	// Take the digits and check them as number does; anything but a plain
	// integer goes through number for the error.
	first := i
	var v uint64
	if i < len(b) && b[i] == '0' {
		i++
	} else {
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			v = v*10 + uint64(b[i]-'0')
			i++
		}
	}
	if i == first || i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		j, _, err := number(b, start)
		if err == nil {
			err = errType
		}
		return j, err
	}
	if i-first > 18 { // may overflow
		x, err := strconv.ParseInt(unsafe.String(&b[start], i-start), 10, 64)
		if err != nil {
			return i, errType
		}
		*n = x
		return i, nil
	}
	if start != first {
		*n = -int64(v)
	} else {
		*n = int64(v)
	}
	return i, nil
}

// pow10 are the powers of ten that a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// floatField decodes the value at b[i], which is not white space, into f.
func floatField(b []byte, i int, f *float64) (int, error) {
	start := i
	switch c := b[i]; {
	case c == 'n':
		return literal(b, i, "null")
	case c == '-':
		i++
	case c < '0' || c > '9':
		return skipWrongType(b, i)
	}
	// A decimal of at most 15 digits without exponent is an exact integer
	// divided by an exact power of ten: one correctly rounded division
	// (Clinger's fast path), the result strconv.ParseFloat gives too.
	first := i
	var m uint64
	if i < len(b) && b[i] == '0' {
		i++
	} else {
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			m = m*10 + uint64(b[i]-'0')
			i++
		}
	}
	digits, frac := i-first, 0
	if i < len(b) && b[i] == '.' {
		i++
		dot := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			m = m*10 + uint64(b[i]-'0')
			i++
		}
		frac = i - dot
		digits += frac
	}
	if digits == 0 || frac == 0 && i > first && b[i-1] == '.' ||
		digits > 15 || i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		j, _, err := number(b, start)
		if err != nil {
			return j, err
		}
		v, err := strconv.ParseFloat(unsafe.String(&b[start], j-start), 64)
		if err != nil {
			return j, errType
		}
		*f = v
		return j, nil
	}
	v := float64(m) / pow10[frac]
	if start != first {
		v = -v
	}
	*f = v
	return i, nil
}

// number checks the JSON number at b[i] and returns the index after it and
// whether it has neither fraction nor exponent.
func number(b []byte, i int) (int, bool, error) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, false, errSyntax
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i++
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return i, false, errSyntax
	}
	integer := true
	if i < len(b) && b[i] == '.' {
		integer = false
		i++
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == start {
			return i, false, errSyntax
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		integer = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == start {
			return i, false, errSyntax
		}
	}
	return i, integer, nil
}

// skipWrongType checks the value at b[i], which a field cannot hold. Like
// encoding/json, a syntax error in it wins over the type error.
func skipWrongType(b []byte, i int) (int, error) {
	j, err := skipValue(b, i, 1)
	if err != nil {
		return j, err
	}
	return j, errType
}

// literal checks that b[i:] starts with lit.
func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, errSyntax
	}
	return i + len(lit), nil
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	if i < len(b) && b[i] > ' ' {
		return i
	}
	return skipSpaceSlow(b, i)
}

func skipSpaceSlow(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// str decodes the string at b[i]. It points into b when the string has no
// escapes and is ASCII.
func str(b []byte, i int) (string, int, error) {
	if i >= len(b) || b[i] != '"' {
		return "", i, errSyntax
	}
	return strAfterQuote(b, i+1)
}

// strAfterQuote is str for the string whose contents start at b[start].
func strAfterQuote(b []byte, start int) (string, int, error) {
	j := start
	for ; len(b)-j >= 8; j += 8 {
		if m := special(binary.LittleEndian.Uint64(b[j:])); m != 0 {
			j += bits.TrailingZeros64(m) >> 3
			if b[j] == '"' {
				return unsafe.String(&b[start], j-start), j + 1, nil
			}
			return unquote(b, start)
		}
	}
	for ; j < len(b); j++ {
		c := b[j]
		if c == '"' {
			return unsafe.String(unsafe.SliceData(b[start:]), j-start), j + 1, nil
		}
		if c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			return unquote(b, start)
		}
	}
	return "", len(b), errSyntax
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special returns x, eight bytes of a string, with the high bit set in the
// first of them that ends the string or needs unquote: '"', a backslash,
// a control character or a non-ASCII byte. Bytes after that one may have
// it set too. A byte sets its high bit when x minus 1 (or minus 0x20) borrows
// from it, which only bytes at or after the first special one can do.
func special(x uint64) uint64 {
	q := x ^ (ones * '"')
	s := x ^ (ones * '\\')
	return ((q - ones) | (s - ones) | (x - ones*' ') | x) & highs
}

// unquote decodes the string whose contents start at b[start] into a new
// string.
func unquote(b []byte, start int) (string, int, error) {
	out := make([]byte, 0, 32)
	i := start
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return string(out), i + 1, nil
		case c < ' ':
			return "", i, errSyntax
		case c == '\\':
			if i+1 >= len(b) {
				return "", i, errSyntax
			}
			switch e := b[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(b, i+2)
				if !ok {
					return "", i, errSyntax
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if r2, ok := hex4(b, i+2); ok && i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
						if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
							out = utf8.AppendRune(out, d)
							i += 6
							continue
						}
					}
					r = unicode.ReplacementChar
				}
				out = utf8.AppendRune(out, r)
				continue
			default:
				return "", i, errSyntax
			}
			i += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			out = utf8.AppendRune(out, r) // RuneError for invalid UTF-8
			i += n
		}
	}
	return "", i, errSyntax
}

// hex4 decodes the four hex digits at b[i].
func hex4(b []byte, i int) (rune, bool) {
	if i < 0 || len(b)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skipValue checks the JSON value at b[i], nested depth levels deep, and
// returns the index after it.
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, errSyntax
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{':
		if depth++; depth > maxDepth {
			return i, errDepth
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		for {
			j, err := skipString(b, i)
			if err != nil {
				return j, err
			}
			if i, err = colon(b, j); err != nil {
				return i, err
			}
			if i, err = skipValue(b, i, depth); err != nil {
				return i, err
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, errSyntax
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
			case '}':
				return i + 1, nil
			default:
				return i, errSyntax
			}
		}
	case c == '[':
		if depth++; depth > maxDepth {
			return i, errDepth
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = skipValue(b, i, depth); err != nil {
				return i, err
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, errSyntax
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
			case ']':
				return i + 1, nil
			default:
				return i, errSyntax
			}
		}
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		j, _, err := number(b, i)
		return j, err
	}
	return i, errSyntax
}

// skipString checks the string at b[i] without decoding it.
func skipString(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return i, errSyntax
	}
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c < ' ':
			return i, errSyntax
		case c == '\\':
			if i+1 >= len(b) {
				return i, errSyntax
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if _, ok := hex4(b, i+2); !ok {
					return i, errSyntax
				}
				i += 5
			default:
				return i, errSyntax
			}
		}
	}
	return i, errSyntax
}
