package expr

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/sluicehq/sluice/engine/field"
	"github.com/sluicehq/sluice/engine/spec"
)

// Program is a compiled expression. It is safe for concurrent use: Eval and
// EvalBool may be called from many goroutines at once.
type Program struct {
	src    string
	prog   *vm.Program
	asBool bool
	// field is set when the whole expression is a top-level field, such as
	// "day" or `$env["type"]`, so templates can read it without the VM.
	field string
	// reads lists the top-level fields the expression reads; anyField is
	// set when it may read others, through $env. layout is the layout of
	// reads, nil with anyField.
	reads    []string
	anyField bool
	layout   *field.Layout
	// bindings are the program compiled for the layouts it was evaluated
	// with (EvalValues).
	bindings field.Cache[*binding]
}

// Option changes how Compile compiles an expression.
type Option func(*config)

type config struct {
	asBool bool
}

// AsBool makes the expression a condition: its result must be a bool. When
// the result type is known at compile time, as in `upper(region)`, Compile
// rejects a non-bool expression. Otherwise, as when the expression is a bare
// record field, Eval returns an error for a result that is not a bool.
func AsBool() Option {
	return func(c *config) { c.asBool = true }
}

// vms holds idle virtual machines. A vm.VM keeps its stack between runs, so
// reusing one makes evaluation allocate only what the expression itself
// creates.
var vms = sync.Pool{New: func() any { return new(vm.VM) }}

// Compile compiles the expression src. Variables are the top-level fields of
// the record passed to Eval; a field the record lacks is nil. A syntax error,
// a call of an unknown function, a function called with the wrong number of
// arguments or with an argument of a wrong known type, and, under AsBool, a
// known non-bool result are errors. Every error is a *CompileError.
func Compile(src string, opts ...Option) (*Program, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	prog, err := compile(src)
	if err != nil {
		return nil, err
	}
	node := prog.Node()
	if c.asBool {
		if t := node.Type(); t != nil && t.Kind() != reflect.Bool && t.Kind() != reflect.Interface {
			return nil, newCompileError(src, 0, "expression returns %s, want bool", t)
		}
	}
	reads, anyField := fieldsRead(node)
	p := &Program{src: src, prog: prog, asBool: c.asBool, field: fieldOf(node), reads: reads, anyField: anyField}
	if !anyField {
		p.layout = field.NewLayout(reads...)
	}
	return p, nil
}

// Fields returns the top-level record fields the expression reads, sorted,
// and false if it may read fields it does not name, as `$env[name]` or
// `keys($env)` do. A caller that evaluates the expression against a record
// may then pass an environment holding only those fields. The caller must
// not change the slice.
func (p *Program) Fields() ([]string, bool) { return p.reads, !p.anyField }

// fieldsRead returns the record fields the compiled expression node reads
// and whether it may read others.
func fieldsRead(node ast.Node) (fields []string, anyField bool) {
	// Walk visits children before their parent, so a first pass finds the
	// identifiers that are not fields: callees, let names, and $env where it
	// is indexed by a constant.
	skip := map[*ast.IdentifierNode]bool{}
	declared := map[string]bool{}
	ast.Walk(&node, visitFunc(func(n ast.Node) {
		switch n := n.(type) {
		case *ast.CallNode:
			if id, ok := n.Callee.(*ast.IdentifierNode); ok {
				skip[id] = true
			}
		case *ast.VariableDeclaratorNode:
			declared[n.Name] = true
		case *ast.MemberNode:
			env, ok := n.Node.(*ast.IdentifierNode)
			prop, isConst := n.Property.(*ast.StringNode)
			if ok && isConst && env.Value == "$env" {
				skip[env] = true
				fields = append(fields, prop.Value)
			}
		}
	}))
	ast.Walk(&node, visitFunc(func(n ast.Node) {
		id, ok := n.(*ast.IdentifierNode)
		switch {
		case !ok || skip[id] || declared[id.Value]:
		case id.Value == "$env":
			anyField = true
		default:
			fields = append(fields, id.Value)
		}
	}))
	slices.Sort(fields)
	return slices.Compact(fields), anyField
}

type visitFunc func(ast.Node)

func (f visitFunc) Visit(n *ast.Node) { f(*n) }

// compile compiles src with the Sluice environment and functions.
func compile(src string) (prog *vm.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			prog, err = nil, newCompileError(src, 0, "compile: %v", r)
		}
	}()
	p := &patcher{callees: map[*ast.IdentifierNode]bool{}, declared: map[string]bool{}}
	opts := make([]expr.Option, 0, len(functionOptions)+4)
	opts = append(opts,
		expr.Env(map[string]any{}),
		expr.AllowUndefinedVariables(),
	)
	opts = append(opts, functionOptions...)
	opts = append(opts, expr.Patch(calleeVisitor{p}), expr.Patch(identVisitor{p}))
	prog, err = expr.Compile(src, opts...)
	if p.err != nil {
		// An unknown function or a bad constant pattern explains more than
		// whatever the type checker made of it.
		return nil, newCompileError(src, p.err.off, "%s", p.err.msg)
	}
	if err != nil {
		return nil, fromExprError(src, err)
	}
	return prog, nil
}

// fieldOf returns the name of the top-level field node reads, if node does
// nothing else.
func fieldOf(node ast.Node) string {
	switch n := node.(type) {
	case *ast.IdentifierNode:
		if n.Value != "$env" {
			return n.Value
		}
	case *ast.MemberNode:
		env, ok := n.Node.(*ast.IdentifierNode)
		prop, ok2 := n.Property.(*ast.StringNode)
		if ok && ok2 && env.Value == "$env" && !n.Optional && !n.Method {
			return prop.Value
		}
	}
	return ""
}

// Source returns the expression as it was given to Compile.
func (p *Program) Source() string { return p.src }

// Eval evaluates the expression against env, the fields of one record, and
// returns the result in the types of the record model: int64 for integers
// (including those of arithmetic, which expr-lang computes as int), float64,
// string, bool, nil, []any and map[string]any; other values, such as a
// time.Time, are returned as they are. It does not modify env. Under AsBool a
// result that is not a bool is an error.
func (p *Program) Eval(env map[string]any) (any, error) {
	out, err := p.run(env)
	if err != nil {
		return nil, fmt.Errorf("eval %q: %w", p.src, err)
	}
	if p.asBool {
		if _, ok := out.(bool); !ok {
			return nil, fmt.Errorf("expression %q returned %T, want bool", p.src, out)
		}
		return out, nil
	}
	return normalize(out), nil
}

// EvalBool evaluates the expression against env like Eval and returns its
// result, which must be a bool whether or not the Program was compiled with
// AsBool.
func (p *Program) EvalBool(env map[string]any) (bool, error) {
	out, err := p.run(env)
	if err != nil {
		return false, fmt.Errorf("eval %q: %w", p.src, err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("expression %q returned %T, want bool", p.src, out)
	}
	return b, nil
}

// run evaluates the program on a pooled VM. Errors carry the position in
// the source but not the source itself.
func (p *Program) run(env map[string]any) (out any, err error) {
	m := vms.Get().(*vm.VM)
	defer func() {
		// vm.Run recovers the panics of the expression itself; this catches
		// anything else so that no panic leaves the package. The VM is not
		// returned to the pool then, since its state is unknown.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	out, err = m.Run(p.prog, env)
	vms.Put(m)
	if err != nil {
		return nil, fromRunError(p.src, err)
	}
	return out, nil
}

// patcher checks the calls of an expression and rewrites references to
// record fields whose names are also function names. It is used by two
// visitors, which expr-lang runs one after the other before type checking.
type patcher struct {
	callees  map[*ast.IdentifierNode]bool // identifiers in call position
	declared map[string]bool              // names declared with let
	err      *patchError                  // the first error found
}

type patchError struct {
	off int // rune offset in the source
	msg string
}

func (p *patcher) fail(node ast.Node, format string, args ...any) {
	if p.err == nil {
		p.err = &patchError{off: node.Location().From, msg: fmt.Sprintf(format, args...)}
	}
}

// calleeVisitor records every identifier in call position, rejects calls of
// unknown functions (which expr-lang accepts when undefined variables are
// allowed), and compiles constant regex patterns.
type calleeVisitor struct{ p *patcher }

func (v calleeVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.VariableDeclaratorNode:
		v.p.declared[n.Name] = true
	case *ast.CallNode:
		if m, ok := n.Callee.(*ast.MemberNode); ok {
			v.method(node, n, m)
			return
		}
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return
		}
		v.p.callees[id] = true
		if !knownFunctions[id.Value] {
			if s := suggest(id.Value); s != "" {
				v.p.fail(id, "unknown function %q (did you mean %q?)", id.Value, s)
			} else {
				v.p.fail(id, "unknown function %q", id.Value)
			}
			return
		}
		if (id.Value == "regex_match" || id.Value == "regex_replace") && len(n.Arguments) >= 2 {
			if s, ok := n.Arguments[1].(*ast.StringNode); ok {
				if _, err := compileRegex(s.Value); err != nil {
					v.p.fail(s, "%s: %v", id.Value, err)
				}
			}
		}
	}
}

// method rewrites t.Format(layout), where t is known to be a time, into a
// call of $format, which runs without reflection.
func (v calleeVisitor) method(node *ast.Node, call *ast.CallNode, m *ast.MemberNode) {
	prop, ok := m.Property.(*ast.StringNode)
	if !ok || !m.Method || m.Optional || prop.Value != "Format" || len(call.Arguments) != 1 || m.Node.Type() != timeType {
		return
	}
	if k := call.Arguments[0].Type().Kind(); k != reflect.String && k != reflect.Interface {
		return // leave the error to the type checker, in the method's terms
	}
	callee := &ast.IdentifierNode{Value: "$format"}
	callee.SetLocation(m.Location())
	ast.Patch(node, &ast.CallNode{Callee: callee, Arguments: []ast.Node{m.Node, call.Arguments[0]}})
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	locationType = reflect.TypeFor[*time.Location]()
)

// identVisitor rewrites an identifier that names a function but is not
// called, such as type in `type == "kill"`, into `$env["type"]`, so that it
// reads the record field of that name as any other identifier does. It also
// rewrites date(s) into $date(s), which parses faster.
type identVisitor struct{ p *patcher }

func (v identVisitor) Visit(node *ast.Node) {
	if b, ok := (*node).(*ast.BuiltinNode); ok {
		// expr-lang parses calls of its own functions as BuiltinNode. This
		// rewrite comes after the one of t.Format(layout), which needs the
		// type of date(s).
		if b.Name == "date" && len(b.Arguments) == 1 && b.Arguments[0].Type() != locationType {
			callee := &ast.IdentifierNode{Value: "$date"}
			callee.SetLocation(b.Location())
			ast.Patch(node, &ast.CallNode{Callee: callee, Arguments: b.Arguments})
		}
		return
	}
	id, ok := (*node).(*ast.IdentifierNode)
	if !ok || v.p.callees[id] || v.p.declared[id.Value] || !knownFunctions[id.Value] {
		return
	}
	env := &ast.IdentifierNode{Value: "$env"}
	prop := &ast.StringNode{Value: id.Value}
	env.SetLocation(id.Location())
	prop.SetLocation(id.Location())
	ast.Patch(node, &ast.MemberNode{Node: env, Property: prop})
}

// suggest returns the known function whose name is closest to name, if one
// is close enough to be a likely typo.
func suggest(name string) string {
	best, bestDist := "", 3
	for known := range knownFunctions {
		if d := spec.EditDistance(name, known); d < bestDist || (d == bestDist && best != "" && known < best) {
			best, bestDist = known, d
		}
	}
	if bestDist > 2 || bestDist >= len(name) {
		return ""
	}
	return best
}
