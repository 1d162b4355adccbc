package expr

import (
	"math"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"

	"github.com/sluicehq/sluice/engine/field"
)

// The fast path evaluates the common part of the expression language
// directly on a record's field values, without the virtual machine, the
// map of fields it needs or the boxing of every value into an any.
//
// A program's checked syntax tree is compiled, once per field.Layout, into
// a tree of Go closures. Each closure computes its node's value, or
// reports that it cannot: on a value of a type it does not handle, on
// anything expr-lang would report an error for, on a function's error.
// Evaluation then starts again on the virtual machine, which gives the
// result or the error exactly as expr-lang defines it. The fast path is
// only ever right or silent: FuzzFastPath checks that whatever it returns
// is what the virtual machine returns.
//
// A node the fast path does not compile at all (closures such as
// all(...), let, slices, optional chaining, maps and arrays as values)
// leaves the whole program to the virtual machine.

// fastFn evaluates a node on the values of a record's fields. ok false
// means "evaluate on the VM instead". A nil-like result may be missing or
// null; Eval turns missing into null.
type fastFn func(vals []field.Value, a *field.Arena) (v field.Value, ok bool)

// boolFn evaluates a node whose value must be a bool: a condition, a
// comparison. ok false means "evaluate on the VM instead".
type boolFn func(vals []field.Value, a *field.Arena) (b, ok bool)

// fromBool turns a boolFn into a fastFn.
func fromBool(f boolFn) fastFn {
	if f == nil {
		return nil
	}
	return func(vals []field.Value, a *field.Arena) (field.Value, bool) {
		b, ok := f(vals, a)
		return field.Bool(b), ok
	}
}

// fastCompiler compiles nodes for one layout.
type fastCompiler struct {
	l *field.Layout
}

// compileFast returns the fast evaluation of node against l, nil if node
// has a part the fast path does not handle.
func compileFast(node ast.Node, l *field.Layout) (fn fastFn, test boolFn) {
	defer func() {
		if recover() != nil {
			fn, test = nil, nil
		}
	}()
	c := fastCompiler{l: l}
	return c.compile(node), c.cond(node)
}

func (c fastCompiler) compile(node ast.Node) fastFn {
	if name := fieldOf(node); name != "" {
		return c.field(name)
	}
	switch n := node.(type) {
	case *ast.NilNode:
		return constant(field.Null())
	case *ast.BoolNode:
		return constant(field.Bool(n.Value))
	case *ast.StringNode:
		return constant(field.String(n.Value))
	case *ast.IntegerNode:
		return c.integer(n)
	case *ast.FloatNode:
		return constant(field.Float(n.Value))
	case *ast.ConstantNode:
		v, ok := scalar(n.Value)
		if !ok {
			return nil
		}
		return constant(v)
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			return fromBool(c.cond(n))
		}
		return c.unary(n)
	case *ast.BinaryNode:
		switch n.Operator {
		case "==", "!=", "<", "<=", ">", ">=", "&&", "and", "||", "or":
			// && and || give their right operand as it is, which cond
			// leaves to the VM when it is not a bool.
			return fromBool(c.cond(n))
		}
		return c.binary(n)
	case *ast.ConditionalNode:
		return c.conditional(n)
	case *ast.MemberNode:
		return c.member(n)
	case *ast.CallNode:
		return c.call(n)
	case *ast.BuiltinNode:
		return c.builtin(n)
	}
	return nil
}

// field reads the top-level field name.
func (c fastCompiler) field(name string) fastFn {
	slot, ok := c.l.Index(name)
	if !ok {
		return nil
	}
	return func(vals []field.Value, _ *field.Arena) (field.Value, bool) {
		return vals[slot], true
	}
}

func constant(v field.Value) fastFn {
	return func([]field.Value, *field.Arena) (field.Value, bool) { return v, true }
}

// scalar converts a constant of the optimizer to a Value, if it is a
// string, bool, nil or a number of a kind expr-lang computes with.
func scalar(x any) (field.Value, bool) {
	switch t := x.(type) {
	case nil:
		return field.Null(), true
	case string:
		return field.String(t), true
	case bool:
		return field.Bool(t), true
	case int:
		return field.Int(int64(t)), true
	case int64:
		return field.Int(t), true
	case float64:
		return field.Float(t), true
	}
	return field.Value{}, false
}

// integer is an integer literal, which the checker may have typed as a
// float where one is expected.
func (c fastCompiler) integer(n *ast.IntegerNode) fastFn {
	t := n.Type()
	if t == nil {
		return constant(field.Int(int64(n.Value)))
	}
	switch t.Kind() {
	case reflect.Float64:
		return constant(field.Float(float64(n.Value)))
	case reflect.Float32, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint, reflect.Uint8, reflect.Uint16,
		reflect.Uint32, reflect.Uint64:
		return nil
	}
	return constant(field.Int(int64(n.Value)))
}

func (c fastCompiler) unary(n *ast.UnaryNode) fastFn {
	x := c.compile(n.Node)
	if x == nil {
		return nil
	}
	switch n.Operator { // ! and not are conditions: see cond
	case "+":
		return x
	case "-":
		return func(vals []field.Value, a *field.Arena) (field.Value, bool) {
			v, ok := x(vals, a)
			switch {
			case !ok:
				return field.Value{}, false
			case v.Kind() == field.KindInt:
				return field.Int(-v.Int()), true
			case v.Kind() == field.KindFloat:
				return field.Float(-v.Float()), true
			}
			return field.Value{}, false
		}
	}
	return nil
}

func (c fastCompiler) conditional(n *ast.ConditionalNode) fastFn {
	cond, yes, no := c.compile(n.Cond), c.compile(n.Exp1), c.compile(n.Exp2)
	if cond == nil || yes == nil || no == nil {
		return nil
	}
	return func(vals []field.Value, a *field.Arena) (field.Value, bool) {
		v, ok := cond(vals, a)
		if !ok || v.Kind() != field.KindBool {
			return field.Value{}, false
		}
		if v.BoolValue() {
			return yes(vals, a)
		}
		return no(vals, a)
	}
}

// member reads a key of an object or an element of an array.
func (c fastCompiler) member(n *ast.MemberNode) fastFn {
	if n.Method || n.Optional {
		return nil
	}
	base := c.compile(n.Node)
	if base == nil {
		return nil
	}
	switch p := n.Property.(type) {
	case *ast.StringNode:
		key := p.Value
		return func(vals []field.Value, a *field.Arena) (field.Value, bool) {
			v, ok := base(vals, a)
			if !ok || v.Kind() != field.KindAny {
				return field.Value{}, false
			}
			m, ok := v.AnyValue().(map[string]any)
			if !ok {
				return field.Value{}, false
			}
			return field.FromAny(m[key]), true // a missing key is nil
		}
	case *ast.IntegerNode:
		index := p.Value
		return func(vals []field.Value, a *field.Arena) (field.Value, bool) {
			v, ok := base(vals, a)
			if !ok || v.Kind() != field.KindAny {
				return field.Value{}, false
			}
			s, ok := v.AnyValue().([]any)
			if !ok {
				return field.Value{}, false
			}
			i := index
			if i < 0 {
				i += len(s)
			}
			if i < 0 || i >= len(s) {
				return field.Value{}, false
			}
			return field.FromAny(s[i]), true
		}
	}
	return nil
}

func (c fastCompiler) binary(n *ast.BinaryNode) fastFn {
	l := c.compile(n.Left)
	if l == nil {
		return nil
	}
	switch n.Operator {
	case "in":
		return c.in(l, n.Right)
	case "matches":
		return c.matches(l, n.Right)
	}
	r := c.compile(n.Right)
	if r == nil {
		return nil
	}
	switch n.Operator {
	case "??":
		return func(vals []field.Value, a *field.Arena) (field.Value, bool) {
			v, ok := l(vals, a)
			if !ok {
				return field.Value{}, false
			}
			if v.IsNil() {
				return r(vals, a)
			}
			return v, true
		}
	case "+", "-", "*", "/", "%", "**", "^":
		return arithmetic(n.Operator, l, r)
	case "contains", "startsWith", "endsWith":
		var test func(s, t string) bool
		switch n.Operator {
		case "contains":
			test = strings.Contains
		case "startsWith":
			test = strings.HasPrefix
		default:
			test = strings.HasSuffix
		}
		return func(vals []field.Value, a *field.Arena) (field.Value, bool) {
			x, ok1 := l(vals, a)
			y, ok2 := r(vals, a)
			if !ok1 || !ok2 || x.Kind() != field.KindString || y.Kind() != field.KindString {
				return field.Value{}, false
			}
			return field.Bool(test(x.Str(), y.Str())), true
		}
	}
	return nil
}

// equalValues is expr-lang's == on the values the fast path handles: numbers of
// either kind by value, strings, bools, and nil equal only to nil; values
// of different kinds are unequal. ok is false for a KindAny value.
func equalValues(x, y field.Value) (eq, ok bool) {
	xk, yk := x.Kind(), y.Kind()
	if xk == field.KindAny || yk == field.KindAny {
		return false, false
	}
	switch {
	case xk == field.KindInt && yk == field.KindInt:
		return x.Int() == y.Int(), true
	case isNumber(xk) && isNumber(yk):
		xf, _ := x.Number()
		yf, _ := y.Number()
		return xf == yf, true
	case xk == field.KindString && yk == field.KindString:
		return x.Str() == y.Str(), true
	case xk == field.KindBool && yk == field.KindBool:
		return x.BoolValue() == y.BoolValue(), true
	}
	return x.IsNil() && y.IsNil(), true
}

func isNumber(k field.Kind) bool { return k == field.KindInt || k == field.KindFloat }

// arithmetic is expr-lang's +, -, *, /, % and ** on numbers (int with int
// gives an int that wraps around, anything with a float a float; / always
// gives a float), and + on two strings.
func arithmetic(op string, l, r fastFn) fastFn {
	return func(vals []field.Value, a *field.Arena) (field.Value, bool) {
		x, ok1 := l(vals, a)
		y, ok2 := r(vals, a)
		if !ok1 || !ok2 {
			return field.Value{}, false
		}
		xk, yk := x.Kind(), y.Kind()
		if op == "+" && xk == field.KindString && yk == field.KindString {
			b := a.Bytes(len(x.Str()) + len(y.Str()))
			b = append(append(b, x.Str()...), y.Str()...)
			return field.String(a.String(b)), true
		}
		if !isNumber(xk) || !isNumber(yk) {
			return field.Value{}, false
		}
		if xk == field.KindInt && yk == field.KindInt {
			i, j := x.Int(), y.Int()
			switch op {
			case "+":
				return field.Int(i + j), true
			case "-":
				return field.Int(i - j), true
			case "*":
				return field.Int(i * j), true
			case "%":
				if j == 0 {
					return field.Value{}, false
				}
				return field.Int(i % j), true
			}
		} else if op == "%" {
			return field.Value{}, false // an error in expr-lang
		}
		xf, _ := x.Number()
		yf, _ := y.Number()
		switch op {
		case "+":
			return field.Float(xf + yf), true
		case "-":
			return field.Float(xf - yf), true
		case "*":
			return field.Float(xf * yf), true
		case "/":
			return field.Float(xf / yf), true
		case "**", "^":
			return field.Float(math.Pow(xf, yf)), true
		}
		return field.Value{}, false
	}
}

// in is `x in [...]` with an array of constants, or with the set of
// strings the optimizer makes of one.
func (c fastCompiler) in(l fastFn, right ast.Node) fastFn {
	switch r := right.(type) {
	case *ast.ConstantNode:
		set, ok := r.Value.(map[string]struct{})
		if !ok {
			return nil
		}
		return func(vals []field.Value, a *field.Arena) (field.Value, bool) {
			v, ok := l(vals, a)
			if !ok || v.Kind() != field.KindString {
				return field.Value{}, false
			}
			_, in := set[v.Str()]
			return field.Bool(in), true
		}
	case *ast.ArrayNode:
		var elems []field.Value
		for _, e := range r.Nodes {
			v, ok := c.literal(e)
			if !ok {
				return nil
			}
			elems = append(elems, v)
		}
		return func(vals []field.Value, a *field.Arena) (field.Value, bool) {
			v, ok := l(vals, a)
			if !ok {
				return field.Value{}, false
			}
			for _, e := range elems {
				eq, ok := equalValues(e, v)
				if !ok {
					return field.Value{}, false
				}
				if eq {
					return field.Bool(true), true
				}
			}
			return field.Bool(false), true
		}
	}
	return nil
}

// matches is `s matches "pattern"` with a constant pattern.
func (c fastCompiler) matches(l fastFn, right ast.Node) fastFn {
	p, ok := right.(*ast.StringNode)
	if !ok {
		return nil
	}
	re, err := compileRegex(p.Value)
	if err != nil {
		return nil
	}
	return func(vals []field.Value, a *field.Arena) (field.Value, bool) {
		v, ok := l(vals, a)
		if !ok || v.Kind() != field.KindString {
			return field.Value{}, false
		}
		return field.Bool(re.MatchString(v.Str())), true
	}
}

// args compiles the arguments of a call.
func (c fastCompiler) args(nodes []ast.Node) []fastFn {
	fns := make([]fastFn, len(nodes))
	for i, n := range nodes {
		if _, ok := n.(*ast.PredicateNode); ok {
			return nil
		}
		if fns[i] = c.compile(n); fns[i] == nil {
			return nil
		}
	}
	return fns
}

// call is a call of one of Sluice's functions.
func (c fastCompiler) call(n *ast.CallNode) fastFn {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok {
		return nil
	}
	fn := functionByName(id.Value)
	if fn == nil {
		return nil
	}
	args := c.args(n.Arguments)
	if args == nil {
		return nil
	}
	if id.Value == "format_time" && len(n.Arguments) == 2 {
		if layout, ok := n.Arguments[1].(*ast.StringNode); ok {
			return formatTimeFast(args[0], layout.Value, fn)
		}
	}
	return generic(args, fn)
}

// generic calls fn with the arguments boxed, as the VM does; a panic or an
// error leaves the call to the VM, which reports it.
func generic(args []fastFn, fn func(...any) (any, error)) fastFn {
	return func(vals []field.Value, a *field.Arena) (field.Value, bool) {
		in := make([]any, len(args))
		for i, arg := range args {
			v, ok := arg(vals, a)
			if !ok {
				return field.Value{}, false
			}
			in[i] = v.Any()
		}
		out, ok := safeCall(fn, in)
		if !ok {
			return field.Value{}, false
		}
		return field.FromAny(normalize(out)), true
	}
}

func safeCall(fn func(...any) (any, error), args []any) (out any, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	out, err := fn(args...)
	return out, err == nil
}

// formatTimeFast is format_time(t, layout) with a constant layout. A
// timestamp in RFC 3339 is parsed, and written in the layout, into the
// arena; a UTC one in a layout of numeric fields without time.Parse and
// time.Format (timefast.go), and in "2006-01-02" as its first ten bytes.
// Anything else goes to the function itself.
func formatTimeFast(arg fastFn, layout string, fn func(...any) (any, error)) fastFn {
	slow := generic([]fastFn{arg, constant(field.String(layout))}, fn)
	simple, isSimple := compileLayout(layout)
	return func(vals []field.Value, a *field.Arena) (field.Value, bool) {
		v, ok := arg(vals, a)
		if !ok {
			return field.Value{}, false
		}
		if v.Kind() == field.KindString {
			s := v.Str()
			if isSimple {
				if c, ok := parseUTC(s); ok {
					if simple.date {
						return field.String(s[:10]), true
					}
					return field.String(a.String(simple.append(a.Bytes(simple.size), c))), true
				}
			}
			if len(s) > 10 && s[10] == 'T' {
				if t, err := time.Parse(time.RFC3339, s); err == nil {
					var b []byte
					if isSimple {
						b = simple.append(a.Bytes(simple.size), clockOf(t))
					} else {
						b = t.UTC().AppendFormat(a.Bytes(len(layout)+10), layout)
					}
					return field.String(a.String(b)), true
				}
			}
		}
		return slow(vals, a)
	}
}

// loopBuiltins are the built-ins that take a predicate, compiled to loops.
var loopBuiltins = map[string]bool{
	"all": true, "none": true, "any": true, "one": true, "filter": true, "map": true, "count": true, "sum": true,
	"find": true, "findIndex": true, "findLast": true, "findLastIndex": true, "groupBy": true, "sortBy": true, "reduce": true,
}

// builtin is a call of one of expr-lang's built-in functions.
func (c fastCompiler) builtin(n *ast.BuiltinNode) fastFn {
	if loopBuiltins[n.Name] || n.Map != nil || n.Threshold != nil {
		return nil
	}
	id, ok := builtin.Index[n.Name]
	if !ok {
		return nil
	}
	f := builtin.Builtins[id]
	args := c.args(n.Arguments)
	if args == nil {
		return nil
	}
	switch {
	case (n.Name == "upper" || n.Name == "lower") && len(args) == 1:
		return changeCase(args[0], n.Name == "upper")
	case f.Fast != nil && len(args) == 1:
		fast := f.Fast
		return generic(args, func(in ...any) (any, error) { return fast(in[0]), nil })
	case f.Safe == nil && f.Func != nil:
		return generic(args, f.Func)
	}
	return nil
}

// changeCase is upper(s) or lower(s): ASCII strings are converted into the
// arena, and returned as they are when there is nothing to change.
func changeCase(arg fastFn, upper bool) fastFn {
	lo, hi := byte('a'), byte('z')
	conv := strings.ToUpper
	if !upper {
		lo, hi, conv = 'A', 'Z', strings.ToLower
	}
	return func(vals []field.Value, a *field.Arena) (field.Value, bool) {
		v, ok := arg(vals, a)
		if !ok || v.Kind() != field.KindString {
			return field.Value{}, false
		}
		// One pass converts into the arena; the bytes are only taken when
		// something changed.
		s := v.Str()
		b := a.Bytes(len(s))[:len(s)]
		changed := false
		for i := 0; i < len(s); i++ {
			ch := s[i]
			if ch >= utf8.RuneSelf {
				return field.String(conv(s)), true
			}
			if ch >= lo && ch <= hi {
				ch ^= 0x20
				changed = true
			}
			b[i] = ch
		}
		if !changed {
			return v, true
		}
		return field.String(a.String(b)), true
	}
}

// cond compiles a node for a context that needs a bool: comparisons of a
// field with a constant run without building Values, and && and || of
// conditions without boxing their results. Anything else is compiled as a
// value that must turn out a bool.
func (c fastCompiler) cond(node ast.Node) boolFn {
	switch n := node.(type) {
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			x := c.cond(n.Node)
			if x == nil {
				return nil
			}
			return func(vals []field.Value, a *field.Arena) (bool, bool) {
				b, ok := x(vals, a)
				return !b, ok
			}
		}
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and", "||", "or":
			l, r := c.cond(n.Left), c.cond(n.Right)
			if l == nil || r == nil {
				return nil
			}
			and := n.Operator == "&&" || n.Operator == "and"
			return func(vals []field.Value, a *field.Arena) (bool, bool) {
				b, ok := l(vals, a)
				if !ok || b != and {
					return b, ok
				}
				return r(vals, a)
			}
		case "==", "!=":
			return c.equality(n)
		case "<", "<=", ">", ">=":
			return c.ordering(n)
		}
	}
	v := c.compile(node)
	if v == nil {
		return nil
	}
	return func(vals []field.Value, a *field.Arena) (bool, bool) {
		x, ok := v(vals, a)
		if !ok || x.Kind() != field.KindBool {
			return false, false
		}
		return x.BoolValue(), true
	}
}

// fieldAndConstant returns the slot of the field on one side of n and the
// constant on the other, and whether the field is on the left.
func (c fastCompiler) fieldAndConstant(n *ast.BinaryNode) (slot int, k field.Value, left, ok bool) {
	for _, side := range []struct {
		f, k ast.Node
		left bool
	}{{n.Left, n.Right, true}, {n.Right, n.Left, false}} {
		name := fieldOf(side.f)
		if name == "" {
			continue
		}
		slot, found := c.l.Index(name)
		if !found {
			return 0, field.Value{}, false, false
		}
		if _, isBool := side.k.(*ast.BoolNode); isBool {
			continue
		}
		if v, ok := c.literal(side.k); ok && v.Kind() != field.KindNull {
			return slot, v, side.left, true
		}
	}
	return 0, field.Value{}, false, false
}

// literal returns the value of a literal string, number, bool or nil.
func (c fastCompiler) literal(n ast.Node) (field.Value, bool) {
	switch n.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NilNode:
	default:
		return field.Value{}, false
	}
	fn := c.compile(n)
	if fn == nil {
		return field.Value{}, false
	}
	v, _ := fn(nil, nil)
	return v, true
}

// equality compiles == and !=.
func (c fastCompiler) equality(n *ast.BinaryNode) boolFn {
	not := n.Operator == "!="
	if slot, k, _, ok := c.fieldAndConstant(n); ok && k.Kind() == field.KindString {
		want := k.Str()
		return func(vals []field.Value, _ *field.Arena) (bool, bool) {
			v := &vals[slot]
			switch v.Kind() {
			case field.KindString:
				return (v.Str() == want) != not, true
			case field.KindAny:
				return false, false
			}
			return not, true // nil, a number or a bool is not a string
		}
	}
	l, r := c.compile(n.Left), c.compile(n.Right)
	if l == nil || r == nil {
		return nil
	}
	return func(vals []field.Value, a *field.Arena) (bool, bool) {
		x, ok1 := l(vals, a)
		y, ok2 := r(vals, a)
		if !ok1 || !ok2 {
			return false, false
		}
		eq, ok := equalValues(x, y)
		return eq != not, ok
	}
}

// ordering compiles <, <=, > and >=.
func (c fastCompiler) ordering(n *ast.BinaryNode) boolFn {
	op := n.Operator
	if slot, k, left, ok := c.fieldAndConstant(n); ok && isNumber(k.Kind()) {
		if !left {
			op = mirror[op]
		}
		kf, _ := k.Number()
		test := floatTests[op]
		if k.Kind() == field.KindInt {
			ki, itest := k.Int(), intTests[op]
			return func(vals []field.Value, _ *field.Arena) (bool, bool) {
				v := &vals[slot]
				switch v.Kind() {
				case field.KindInt:
					return itest(v.Int(), ki), true
				case field.KindFloat:
					return test(v.Float(), kf), true
				}
				return false, false
			}
		}
		return func(vals []field.Value, _ *field.Arena) (bool, bool) {
			v := &vals[slot]
			if f, ok := v.Number(); ok {
				return test(f, kf), true
			}
			return false, false
		}
	}
	l, r := c.compile(n.Left), c.compile(n.Right)
	if l == nil || r == nil {
		return nil
	}
	itest, ftest, stest := intTests[op], floatTests[op], stringTests[op]
	return func(vals []field.Value, a *field.Arena) (bool, bool) {
		x, ok1 := l(vals, a)
		y, ok2 := r(vals, a)
		if !ok1 || !ok2 {
			return false, false
		}
		xk, yk := x.Kind(), y.Kind()
		switch {
		case xk == field.KindInt && yk == field.KindInt:
			return itest(x.Int(), y.Int()), true
		case isNumber(xk) && isNumber(yk):
			xf, _ := x.Number()
			yf, _ := y.Number()
			return ftest(xf, yf), true
		case xk == field.KindString && yk == field.KindString:
			return stest(x.Str(), y.Str()), true
		}
		return false, false
	}
}

// mirror gives the operator that compares the other way round: a < b is
// b > a.
var mirror = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<="}

var (
	intTests = map[string]func(x, y int64) bool{
		"<": func(x, y int64) bool { return x < y }, "<=": func(x, y int64) bool { return x <= y },
		">": func(x, y int64) bool { return x > y }, ">=": func(x, y int64) bool { return x >= y },
	}
	floatTests = map[string]func(x, y float64) bool{
		"<": func(x, y float64) bool { return x < y }, "<=": func(x, y float64) bool { return x <= y },
		">": func(x, y float64) bool { return x > y }, ">=": func(x, y float64) bool { return x >= y },
	}
	stringTests = map[string]func(x, y string) bool{
		"<": func(x, y string) bool { return x < y }, "<=": func(x, y string) bool { return x <= y },
		">": func(x, y string) bool { return x > y }, ">=": func(x, y string) bool { return x >= y },
	}
)
