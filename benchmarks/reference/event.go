package reference

import (
	"bytes"
	"strings"
	"time"
)

// Event is one game-telemetry event as the generate source writes it, with
// every field typed.
type Event struct {
	EventID   string  `json:"event_id"`
	Event     string  `json:"event"`
	TS        string  `json:"ts"`
	PlayerID  int64   `json:"player_id"`
	MatchID   int64   `json:"match_id"`
	Region    string  `json:"region"`
	Platform  string  `json:"platform"`
	LatencyMS float64 `json:"latency_ms"`
	Score     int64   `json:"score"`
	Level     int64   `json:"level"`
	Device    Device  `json:"device"`
}

// Device is the device an event was sent from.
type Device struct {
	OS  string `json:"os"`
	Ver string `json:"ver"`
}

// worker processes chunks of whole lines. Its counters are its own, so
// lines need no synchronisation; Run adds them up.
type worker struct {
	decode func([]byte, *Event) error // decodeEvent, or a library decoder in benchmarks
	ev     Event
	out    []byte // the set fields of the current event: day, then region
	stats  Stats
}

// chunk processes every line in b. As in the objectstore source, a line is
// trimmed of white space and a blank line is not an event and not counted.
func (w *worker) chunk(b []byte) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(line) == 0 {
			continue
		}
		if line[0] != '{' || line[len(line)-1] != '}' {
			if line = bytes.TrimSpace(line); len(line) == 0 {
				continue
			}
		}
		w.stats.Read++
		w.line(line)
	}
}

// line runs scenario (a) on one line: decode, filter, set, drop.
func (w *worker) line(line []byte) {
	ev := &w.ev
	if err := w.decode(line, ev); err != nil {
		w.stats.Errors++
		return
	}
	// filter: event != "heartbeat" && latency_ms < 5000
	if ev.Event == "heartbeat" || ev.LatencyMS >= 5000 {
		return
	}
	// set: day = format_time(ts, "2006-01-02"), region = upper(region)
	out, ok := appendDay(w.out[:0], ev.TS)
	if !ok {
		w.stats.Errors++
		return
	}
	out = appendUpper(out, ev.Region)
	w.out = out
	// drop: the event is discarded; the checksum keeps the work observable.
	w.stats.Kept++
	w.stats.Checksum += checksum(out)
}

// checksum is the sum of the bytes of b plus its length.
func checksum(b []byte) int64 {
	s := int64(len(b))
	for _, c := range b {
		s += int64(c)
	}
	return s
}

// appendDay appends the UTC date of the RFC 3339 time ts to dst as
// 2006-01-02 and reports whether ts is one. It accepts what
// time.Parse(time.RFC3339, ts) accepts. A time in UTC ("Z") with valid
// fields is checked here, and its date is its first ten bytes; any other
// string goes through time.Parse.
func appendDay(dst []byte, ts string) ([]byte, bool) {
	if validUTC(ts) {
		return append(dst, ts[:10]...), true
	}
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return dst, false
	}
	return t.UTC().AppendFormat(dst, time.DateOnly), true
}

// validUTC reports whether ts is an RFC 3339 time in UTC, such as
// 2026-11-25T00:00:01.500Z, with every field in range. Every string it
// accepts, time.Parse(time.RFC3339, ts) accepts too.
func validUTC(ts string) bool {
	if len(ts) < len("2006-01-02T15:04:05Z") || ts[len(ts)-1] != 'Z' ||
		ts[4] != '-' || ts[7] != '-' || ts[10] != 'T' || ts[13] != ':' || ts[16] != ':' {
		return false
	}
	year, ok := digits4(ts[0:4])
	month, ok1 := digits2(ts[5:7])
	day, ok2 := digits2(ts[8:10])
	hour, ok3 := digits2(ts[11:13])
	minute, ok4 := digits2(ts[14:16])
	sec, ok5 := digits2(ts[17:19])
	if !(ok && ok1 && ok2 && ok3 && ok4 && ok5) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return false
	}
	frac := ts[19 : len(ts)-1]
	if len(frac) == 0 {
		return true
	}
	if len(frac) < 2 || frac[0] != '.' {
		return false
	}
	for i := 1; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return false
		}
	}
	return true
}

func digits2(s string) (int, bool) {
	a, b := s[0]-'0', s[1]-'0'
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

func digits4(s string) (int, bool) {
	hi, ok := digits2(s[0:2])
	lo, ok2 := digits2(s[2:4])
	return hi*100 + lo, ok && ok2
}

// daysIn returns the number of days in month of year, in the proleptic
// Gregorian calendar as package time counts them.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// appendUpper appends s in upper case to dst, as strings.ToUpper does.
// ASCII, the usual case, needs no allocation.
func appendUpper(dst []byte, s string) []byte {
	n := len(dst)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return append(dst[:n], strings.ToUpper(s)...)
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
