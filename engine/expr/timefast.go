package expr

import (
	"strings"
	"time"
)

// The fast path of format_time(t, layout) with a constant layout: a
// timestamp in RFC 3339 UTC ("...Z") is checked and taken apart field by
// field, without time.Parse, and written in a layout made only of numeric
// date and clock fields (2006, 01, 02, 15, 04, 05) and separators, without
// time.Format's reading of the layout on every call. Anything else goes the
// general way. FuzzFormatTimeFast checks both against time.Parse and
// time.Time.Format.

// clock is a time taken apart.
type clock struct{ year, month, day, hour, min, sec int }

// layoutPart is a field of a layout (width > 0) or literal text.
type layoutPart struct {
	lit   string
	field int // one of the f* constants
}

const (
	fLit = iota
	fYear
	fMonth
	fDay
	fHour
	fMin
	fSec
)

// twoDigitFields are the two-digit fields of a layout.
var twoDigitFields = map[string]int{"01": fMonth, "02": fDay, "15": fHour, "04": fMin, "05": fSec}

// simpleLayout is a compiled layout of numeric fields and separators.
type simpleLayout struct {
	parts []layoutPart
	size  int  // bytes of the result
	date  bool // the layout is "2006-01-02"
}

// compileLayout returns layout compiled, and false if it has anything but
// the numeric fields and the separators " -/:T_" written between them, or
// if the compiled form does not write what time.Format writes.
func compileLayout(layout string) (*simpleLayout, bool) {
	l := &simpleLayout{date: layout == time.DateOnly}
	for rest := layout; rest != ""; {
		switch {
		case strings.HasPrefix(rest, "2006"):
			l.parts = append(l.parts, layoutPart{field: fYear})
			l.size += 4
			rest = rest[4:]
			continue
		case strings.HasPrefix(rest, "01"), strings.HasPrefix(rest, "02"), strings.HasPrefix(rest, "15"),
			strings.HasPrefix(rest, "04"), strings.HasPrefix(rest, "05"):
			l.parts = append(l.parts, layoutPart{field: twoDigitFields[rest[:2]]})
			l.size += 2
			rest = rest[2:]
			continue
		}
		if !strings.ContainsRune(" -/:T", rune(rest[0])) {
			return nil, false
		}
		l.parts = append(l.parts, layoutPart{lit: rest[:1]})
		l.size++
		rest = rest[1:]
	}
	// time.Format is the definition: check the compiled form against it.
	for _, t := range []time.Time{
		time.Date(2026, 11, 25, 13, 4, 5, 0, time.UTC), time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999, time.UTC), time.Date(2024, 2, 29, 9, 8, 7, 0, time.UTC),
	} {
		c := clock{t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second()}
		if string(l.append(nil, c)) != t.Format(layout) {
			return nil, false
		}
	}
	return l, true
}

// append appends c in the layout to dst.
func (l *simpleLayout) append(dst []byte, c clock) []byte {
	for _, p := range l.parts {
		switch p.field {
		case fLit:
			dst = append(dst, p.lit...)
		case fYear:
			dst = append(dst, byte('0'+c.year/1000), byte('0'+c.year/100%10), byte('0'+c.year/10%10), byte('0'+c.year%10))
		case fMonth:
			dst = append2(dst, c.month)
		case fDay:
			dst = append2(dst, c.day)
		case fHour:
			dst = append2(dst, c.hour)
		case fMin:
			dst = append2(dst, c.min)
		case fSec:
			dst = append2(dst, c.sec)
		}
	}
	return dst
}

func append2(dst []byte, n int) []byte { return append(dst, byte('0'+n/10), byte('0'+n%10)) }

// clockOf returns t, in UTC, taken apart.
func clockOf(t time.Time) clock {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return clock{y, int(mo), d, h, mi, s}
}

// parseUTC takes apart s when it is an RFC 3339 time in UTC written
// exactly as YYYY-MM-DDTHH:MM:SS, an optional fraction of 1 to 9 digits
// after a '.', and Z; ok is false for anything else, including what
// time.Parse(time.RFC3339, s) accepts in other forms. It accepts what that
// rejects, such as 24:00:00 or February 30, never.
func parseUTC(s string) (c clock, ok bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return c, false
	}
	if n := len(s); n != 20 {
		if n < 22 || n > 30 || s[19] != '.' {
			return c, false
		}
		for i := 20; i < n-1; i++ {
			if s[i] < '0' || s[i] > '9' {
				return c, false
			}
		}
	}
	var ok1, ok2, ok3, ok4, ok5, ok6, ok7 bool
	var hi, lo int
	hi, ok1 = digits2(s, 0)
	lo, ok2 = digits2(s, 2)
	c.year = hi*100 + lo
	c.month, ok3 = digits2(s, 5)
	c.day, ok4 = digits2(s, 8)
	c.hour, ok5 = digits2(s, 11)
	c.min, ok6 = digits2(s, 14)
	c.sec, ok7 = digits2(s, 17)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return c, false
	}
	if c.month < 1 || c.month > 12 || c.day < 1 || c.day > daysIn(c.month, c.year) || c.hour > 23 || c.min > 59 || c.sec > 59 {
		return c, false
	}
	return c, true
}

// digits2 returns the number written by the two digits at s[i:], false if
// they are not both digits.
func digits2(s string, i int) (int, bool) {
	a, b := s[i]-'0', s[i+1]-'0'
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

// daysIn returns the number of days in month of year.
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
