package spec

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Pos is a 1-based line and column in a file. The zero Pos means unknown.
type Pos struct {
	Line, Column int
}

// IsValid reports whether p is known.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Error is one problem in a pipeline file.
type Error struct {
	File string // file name as given by the caller
	Pos  Pos    // where the problem is
	Path string // key path, e.g. sinks.search.batch.count; empty for the whole file
	Msg  string // what was expected
}

// Error formats e as file:line:column: path: message.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Pos.IsValid() {
		fmt.Fprintf(&b, "%d:%d:", e.Pos.Line, e.Pos.Column)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in a file, in file order. It is returned
// as an error only when it is not empty.
type ErrorList []*Error

// Error prints one problem per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Sort orders l by position, keeping the order of problems at one position.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// Err returns l as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// FieldError is an error about one key of a config, relative to the config
// being validated or built. Validate methods and component constructors wrap
// their errors with At so that the loader can point at the key in the file.
type FieldError struct {
	Path string // relative key path: "brokers", "columns[2].name"
	Err  error
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// At wraps err as a problem with the key at path, relative to the config it
// is returned for. Nested At calls join their paths. At(path, nil) is nil.
func At(path string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FieldError
	if errors.As(err, &fe) && fe == err {
		return &FieldError{Path: joinPath(path, fe.Path), Err: fe.Err}
	}
	return &FieldError{Path: path, Err: err}
}

// Errorf is At(path, fmt.Errorf(format, args...)).
func Errorf(path, format string, args ...any) error {
	return At(path, fmt.Errorf(format, args...))
}

func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case strings.HasPrefix(b, "["):
		return a + b
	default:
		return a + "." + b
	}
}
