package expr

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Template is a string with expression parts between {{ and }}, such as
// 'telemetry-{{ day }}' or 'events/dt={{ format_time(ts, "2006-01-02") }}/'.
// It is safe for concurrent use.
//
// Each part is an expression as Compile takes it. A }} inside a string
// literal or closing a map literal of the expression does not end the part,
// so '{{ "a}}b" }}' renders as a}}b. A template cannot contain a literal {{
// or }} outside a part; write {{ "{{" }} for one.
type Template struct {
	src    string
	lits   []string // lits[i] comes before parts[i]; the last one ends the template
	parts  []templatePart
	size   int // bytes of literal text, a hint for the output buffer
	static bool
}

type templatePart struct {
	prog  *Program
	label string // the part as written in errors: "{{ day }}"
}

// CompileTemplate compiles a template. An unclosed {{, a stray }}, an empty
// part or a part that is not a valid expression is a *CompileError whose
// position is inside src.
func CompileTemplate(src string) (*Template, error) {
	t := &Template{src: src}
	rest := 0 // byte offset of the text not yet parsed
	for {
		open := strings.Index(src[rest:], "{{")
		closeAt := strings.Index(src[rest:], "}}")
		if closeAt >= 0 && (open < 0 || closeAt < open) {
			return nil, newCompileError(src, runeOffset(src, rest+closeAt), "unexpected }} outside an expression (write {{ \"}}\" }} for a literal one)")
		}
		if open < 0 {
			break
		}
		open += rest
		start := open + 2
		end, ok := partEnd(src, start)
		if !ok {
			return nil, newCompileError(src, runeOffset(src, open), "unclosed {{")
		}
		inner := src[start:end]
		if strings.TrimSpace(inner) == "" {
			return nil, newCompileError(src, runeOffset(src, open), "empty expression in {{ }}")
		}
		prog, err := Compile(inner)
		if err != nil {
			var ce *CompileError
			if errors.As(err, &ce) {
				return nil, shiftError(src, start, ce)
			}
			return nil, err
		}
		t.lits = append(t.lits, src[rest:open])
		t.size += open - rest
		t.parts = append(t.parts, templatePart{prog: prog, label: "{{ " + strings.TrimSpace(inner) + " }}"})
		rest = end + 2
	}
	t.lits = append(t.lits, src[rest:])
	t.size += len(src) - rest
	t.static = len(t.parts) == 0
	return t, nil
}

// partEnd returns the byte offset of the }} that closes the part starting
// at byte offset start of src. It skips string literals ("...", '...' with
// backslash escapes, `...` raw) and balanced braces of map literals.
func partEnd(src string, start int) (int, bool) {
	depth := 0
	for i := start; i < len(src); i++ {
		switch c := src[i]; c {
		case '"', '\'':
			i++
			for i < len(src) && src[i] != c {
				if src[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(src) {
				return 0, false
			}
		case '`':
			j := strings.IndexByte(src[i+1:], '`')
			if j < 0 {
				return 0, false
			}
			i += j + 1
		case '{':
			depth++
		case '}':
			if depth > 0 {
				depth--
			} else if i+1 < len(src) && src[i+1] == '}' {
				return i, true
			}
		}
	}
	return 0, false
}

// shiftError moves the position of an error in the part starting at byte
// offset start of src to a position in src.
func shiftError(src string, start int, ce *CompileError) *CompileError {
	line, col := position(src, runeOffset(src, start))
	if ce.Line == 1 {
		col += ce.Column - 1
	} else {
		line += ce.Line - 1
		col = ce.Column
	}
	return &CompileError{Line: line, Column: col, Msg: ce.Msg, Src: src}
}

// Source returns the template as it was given to CompileTemplate.
func (t *Template) Source() string { return t.src }

// Fields returns the top-level record fields the template's expressions
// read, sorted and never nil, and false if they may read others (see
// Program.Fields). The caller owns the slice.
func (t *Template) Fields() ([]string, bool) {
	fields := []string{}
	for _, p := range t.parts {
		f, exact := p.prog.Fields()
		if !exact {
			return nil, false
		}
		fields = append(fields, f...)
	}
	slices.Sort(fields)
	return slices.Compact(fields), true
}

// Static returns the template's text and true when it has no {{ }} part, so
// a caller can skip rendering.
func (t *Template) Static() (string, bool) {
	if t.static {
		return t.src, true
	}
	return "", false
}

// bufs holds output buffers for Render.
var bufs = sync.Pool{New: func() any { return new([]byte) }}

// Render evaluates each part against env and returns the template's text
// with the parts replaced by their values: strings as they are, integers in
// decimal, floats in the shortest decimal form without exponent, bools as
// true or false, and times in RFC 3339 with nanoseconds. A part that is nil,
// such as a field the record lacks, is an error, as is one of another type.
func (t *Template) Render(env map[string]any) (string, error) {
	if t.static {
		return t.src, nil
	}
	bp := bufs.Get().(*[]byte)
	b, err := t.AppendRender((*bp)[:0], env)
	var s string
	if err == nil {
		s = string(b)
	}
	if cap(b) <= 64<<10 {
		*bp = b
		bufs.Put(bp)
	}
	return s, err
}

// AppendRender appends the rendered template to dst, as Render formats it,
// and returns the extended buffer. On error the returned buffer holds what
// was appended before the error.
func (t *Template) AppendRender(dst []byte, env map[string]any) ([]byte, error) {
	for i, part := range t.parts {
		dst = append(dst, t.lits[i]...)
		var v any
		if part.prog.field != "" {
			v = env[part.prog.field]
		} else {
			var err error
			if v, err = part.prog.run(env); err != nil {
				return dst, fmt.Errorf("render %q: %s: %w", t.src, part.label, err)
			}
		}
		var err error
		if dst, err = appendScalar(dst, v); err != nil {
			if v == nil {
				return dst, fmt.Errorf("render %q: %s is nil", t.src, part.label)
			}
			return dst, fmt.Errorf("render %q: %s: %w", t.src, part.label, err)
		}
	}
	return append(dst, t.lits[len(t.parts)]...), nil
}
