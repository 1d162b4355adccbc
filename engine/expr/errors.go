package expr

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr/file"
)

// errNil is wrapped by the errors of functions that were given nil.
var errNil = errors.New("value is nil")

// CompileError is the error returned by Compile and CompileTemplate for an
// expression or template that cannot be compiled: a syntax error, an unknown
// function, a built-in called with the wrong number or types of arguments, or
// a result of the wrong type.
//
// Line and Column are 1-based and count characters (runes) inside Src, so a
// caller that knows where Src starts in a larger file, such as a YAML
// pipeline file, can add the two positions together.
type CompileError struct {
	Line, Column int
	Msg          string // what is wrong, without the position
	Src          string // the expression or template that was compiled
}

// Error returns the message followed by the position, on one line, such as
// `unknown function "uper" (1:1)`.
func (e *CompileError) Error() string {
	return fmt.Sprintf("%s (%d:%d)", e.Msg, e.Line, e.Column)
}

// newCompileError returns a CompileError at the rune offset off of src.
func newCompileError(src string, off int, format string, args ...any) *CompileError {
	line, col := position(src, off)
	return &CompileError{Line: line, Column: col, Msg: oneLine(fmt.Sprintf(format, args...)), Src: src}
}

// fromExprError turns an error of expr-lang's compiler into a CompileError.
func fromExprError(src string, err error) *CompileError {
	var fe *file.Error
	if errors.As(err, &fe) {
		if strings.Contains(fe.Message, "unexpected token EOF") {
			// Point just after the last character that is not white space,
			// where the missing part should go.
			end := strings.TrimRightFunc(src, unicode.IsSpace)
			return newCompileError(src, utf8.RuneCountInString(end), "%s", fe.Message)
		}
		ce := newCompileError(src, fe.From, "%s", fe.Message)
		if fe.Line > 0 {
			// Bind computed the same position; prefer it when it is set.
			ce.Line, ce.Column = fe.Line, fe.Column+1
		}
		return ce
	}
	return newCompileError(src, 0, "%s", err.Error())
}

// position returns the 1-based line and column of the rune offset off in src.
// An offset past the end points just after the last character.
func position(src string, off int) (line, col int) {
	line, col = 1, 1
	n := 0
	for _, r := range src {
		if n == off {
			break
		}
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
		n++
	}
	return line, col
}

// runeOffset returns the number of runes in src[:byteOff].
func runeOffset(src string, byteOff int) int {
	return utf8.RuneCountInString(src[:byteOff])
}

// oneLine folds a message onto a single line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// evalError is an error that happened while an expression was evaluated.
// It keeps the error returned by a function, if any, for errors.Is and
// errors.As.
type evalError struct {
	msg       string
	line, col int
	err       error
}

func (e *evalError) Error() string {
	return fmt.Sprintf("%s (%d:%d)", e.msg, e.line, e.col)
}

func (e *evalError) Unwrap() error { return e.err }

// fromRunError turns an error of expr-lang's virtual machine into an
// evalError without the multi-line source snippet.
func fromRunError(src string, err error) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return err
	}
	line, col := position(src, fe.From)
	if fe.Line > 0 {
		line, col = fe.Line, fe.Column+1
	}
	return &evalError{msg: oneLine(fe.Message), line: line, col: col, err: fe.Prev}
}

// Position returns Line and Column, so that a pipeline loader can place the
// error in the file.
func (e *CompileError) Position() (line, column int) { return e.Line, e.Column }

// Message returns the message without the position, for callers that
// print the position themselves.
func (e *CompileError) Message() string { return e.Msg }
