package objectstore

import (
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// This file holds the twins, for records parsed into a jsonTree, of the
// map-based observe, check and appendValue: they walk the tree against a
// column type and must agree with them exactly (FuzzTreeAgreesWithMaps
// checks it). Values a tree holds as Go values (jAny) go to the map-based
// functions.

// clone returns a copy of t, with its own lookup state, for one Write: the
// declared schema is shared by concurrent Writes, and walking a struct
// updates its lookup hints.
func (t *colType) clone() *colType {
	c := &colType{kind: t.kind}
	if t.elem != nil {
		c.elem = t.elem.clone()
	}
	if t.fields != nil {
		c.fields = make([]colField, len(t.fields))
		c.index = make(map[string]int32, len(t.fields))
		for i, f := range t.fields {
			c.fields[i] = colField{name: f.name, typ: f.typ.clone()}
			c.index[f.name] = int32(i)
		}
	}
	return c
}

// find returns the field of struct t called key, -1 if there is none.
// prev is the field of the member before key in its object, -1 for the
// first member: objects of one stream list their keys in the same order,
// so the field that followed prev last time is tried first.
func (t *colType) find(key []byte, prev int32) int32 {
	if len(t.next) != len(t.fields)+1 {
		// Fields were added since (inference): the hints are stale.
		t.next = nil
	} else if f := t.next[prev+1]; f >= 0 && t.fields[f].name == string(key) {
		return f
	}
	var f int32 = -1
	if t.index != nil {
		if i, ok := t.index[string(key)]; ok {
			f = i
		}
	} else if i, ok := slices.BinarySearchFunc(t.fields, key, compareName); ok {
		f = int32(i)
	}
	if f >= 0 {
		if t.next == nil {
			t.next = make([]int32, len(t.fields)+1)
			for i := range t.next {
				t.next[i] = -1
			}
		}
		t.next[prev+1] = f
	}
	return f
}

func compareName(f colField, key []byte) int { return strings.Compare(f.name, string(key)) }

// insert adds a field called key to struct t, whose fields are sorted by
// name (inferred).
func (t *colType) insert(key []byte) {
	i, _ := slices.BinarySearchFunc(t.fields, key, compareName)
	t.fields = slices.Insert(t.fields, i, colField{name: string(key), typ: &colType{}})
}

// fit is the result of walking a record against a schema.
type fit uint8

const (
	fits     fit = iota
	misfits      // a value does not fit its column
	repeated     // an object repeats a key: decode the record instead
)

// treeWalker walks parsed records against column types.
type treeWalker struct {
	tree  jsonTree
	slots []int32 // per object being walked, the member holding each field
}

// resolve finds, for each field of struct t, the member of object node o
// that holds it, and returns where these slots start in w.slots (-1: no
// member); the caller truncates w.slots back to that when done. With add,
// keys t lacks become fields of t (inference); otherwise they are
// ignored. ok is false when o repeats a key t has.
func (w *treeWalker) resolve(t *colType, o int32, add bool) (base int, ok bool) {
	nodes := w.tree.nodes
again:
	base = len(w.slots)
	for range t.fields {
		w.slots = append(w.slots, -1)
	}
	prev := int32(-1)
	for m := nodes[o].first; m >= 0; m = nodes[m].next {
		key := w.tree.key(m)
		f := t.find(key, prev)
		if f < 0 {
			if add {
				t.insert(key)
				w.slots = w.slots[:base]
				goto again
			}
			continue
		}
		if w.slots[base+int(f)] >= 0 {
			return base, false
		}
		w.slots[base+int(f)] = m
		prev = f
	}
	return base, true
}

// observeRow widens the inferred root with the fields of the parsed
// record, as inferrer.observe does with its map. It reports false when
// the record repeats a key: nothing wrong was observed then, and the
// caller observes the record's decoded map instead.
func (w *treeWalker) observeRow(root *colType) bool {
	return w.observeObject(root, 0, 1)
}

func (w *treeWalker) observeObject(t *colType, o int32, depth int) bool {
	if depth > maxDepth {
		return true
	}
	base, ok := w.resolve(t, o, true)
	defer func() { w.slots = w.slots[:base] }()
	if !ok {
		return false
	}
	for f := range t.fields {
		if m := w.slots[base+f]; m >= 0 && !w.observe(t.fields[f].typ, m, depth) {
			return false
		}
	}
	return true
}

// nodeKinds is the column kind each node kind infers.
var nodeKinds = [...]kind{jNull: kindNull, jFalse: kindBool, jTrue: kindBool, jInt: kindInt64,
	jFloat: kindFloat64, jString: kindString, jObject: kindStruct, jArray: kindList}

// observe widens t, in place, to take node n, as observe does a value.
func (w *treeWalker) observe(t *colType, n int32, depth int) bool {
	nd := &w.tree.nodes[n]
	switch {
	case nd.kind == jNull:
		return true
	case nd.kind == jAny:
		observe(t, w.tree.anys[nd.num], depth)
		return true
	case depth > maxDepth:
		return true
	}
	k := nodeKinds[nd.kind]
	if !t.widen(k) {
		return true
	}
	switch k {
	case kindStruct:
		return w.observeObject(t, n, depth+1)
	case kindList:
		if t.elem == nil {
			t.elem = &colType{}
		}
		for c := nd.first; c >= 0; c = w.tree.nodes[c].next {
			if !w.observe(t.elem, c, depth+1) {
				return false
			}
		}
	}
	return true
}

// checkRow reports whether the parsed record fits root, as checkRow
// does with its map; its errors are left to checkRow.
func (w *treeWalker) checkRow(root *colType) fit {
	return w.checkObject(root, 0, 0)
}

// checkObject checks the fields of struct t in object node o, whose
// members are at depth+1.
func (w *treeWalker) checkObject(t *colType, o int32, depth int) fit {
	base, ok := w.resolve(t, o, false)
	defer func() { w.slots = w.slots[:base] }()
	if !ok {
		return repeated
	}
	for f := range t.fields {
		if m := w.slots[base+f]; m >= 0 {
			if r := w.check(t.fields[f].typ, m, depth+1); r != fits {
				return r
			}
		}
	}
	return fits
}

// check reports whether node n fits t, as check does a value.
func (w *treeWalker) check(t *colType, n int32, depth int) fit {
	tr := &w.tree
	nd := &tr.nodes[n]
	switch {
	case nd.kind == jNull:
		return fits
	case nd.kind == jAny:
		if check(t, tr.anys[nd.num], "", depth) != nil {
			return misfits
		}
		return fits
	case depth > maxDepth:
		return misfits
	}
	ok := false
	switch t.kind {
	case kindNull:
		ok = nd.kind == jObject && nd.first < 0
	case kindString, kindBinary:
		ok = nd.kind == jString
	case kindInt64:
		_, ok = tr.toInt64(n)
	case kindInt32:
		v, isInt := tr.toInt64(n)
		ok = isInt && v >= math.MinInt32 && v <= math.MaxInt32
	case kindFloat64, kindFloat32:
		ok = nd.kind == jInt || nd.kind == jFloat
	case kindBool:
		ok = nd.kind == jTrue || nd.kind == jFalse
	case kindTimestamp:
		_, ok = tr.toTimestamp(n)
	case kindDate:
		if nd.kind == jString {
			_, err := parseDate(unsafeString(tr.bytesOf(n)))
			ok = err == nil
		}
	case kindStruct:
		if nd.kind == jObject {
			return w.checkObject(t, n, depth)
		}
	case kindList:
		if nd.kind == jArray {
			for c := nd.first; c >= 0; c = tr.nodes[c].next {
				if r := w.check(t.elem, c, depth+1); r != fits {
					return r
				}
			}
			return fits
		}
	}
	if ok {
		return fits
	}
	return misfits
}

// toInt64 converts an integer node, or a number node without a fraction
// that fits, as toInt64 does.
func (t *jsonTree) toInt64(n int32) (int64, bool) {
	switch t.nodes[n].kind {
	case jInt:
		return t.intOf(n), true
	case jFloat:
		return floatToInt(t.floatOf(n))
	}
	return 0, false
}

func (t *jsonTree) toFloat64(n int32) float64 {
	if t.nodes[n].kind == jInt {
		return float64(t.intOf(n))
	}
	return t.floatOf(n)
}

// toTimestamp converts an RFC 3339 string node or a number node of unix
// milliseconds, as toTimestamp does.
func (t *jsonTree) toTimestamp(n int32) (arrow.Timestamp, bool) {
	if t.nodes[n].kind == jString {
		ts, err := parseTimestamp(unsafeString(t.bytesOf(n)))
		return ts, err == nil
	}
	v, ok := t.toInt64(n)
	return arrow.Timestamp(v), ok
}

// appendRow appends the parsed record, which checkRow accepted for root,
// to the column builders of rb.
func (w *treeWalker) appendRow(root *colType, rb *array.RecordBuilder) {
	base, _ := w.resolve(root, 0, false)
	for f := range root.fields {
		w.appendField(root.fields[f].typ, rb.Field(f), w.slots[base+f])
	}
	w.slots = w.slots[:base]
}

// appendField appends node n to bld, or a null when n is -1.
func (w *treeWalker) appendField(t *colType, bld array.Builder, n int32) {
	if n < 0 {
		bld.AppendNull()
		return
	}
	w.append(t, bld, n)
}

// append appends node n, which check accepted for t, to bld, as
// appendValue does a value.
func (w *treeWalker) append(t *colType, bld array.Builder, n int32) {
	tr := &w.tree
	nd := &tr.nodes[n]
	switch nd.kind {
	case jNull:
		bld.AppendNull()
		return
	case jAny:
		appendValue(t, bld, tr.anys[nd.num])
		return
	}
	switch t.kind {
	case kindNull:
		bld.AppendNull()
	case kindString:
		bld.(*array.StringBuilder).BinaryBuilder.Append(tr.bytesOf(n))
	case kindBinary:
		bld.(*array.BinaryBuilder).Append(tr.bytesOf(n))
	case kindInt64:
		v, _ := tr.toInt64(n)
		bld.(*array.Int64Builder).Append(v)
	case kindInt32:
		v, _ := tr.toInt64(n)
		bld.(*array.Int32Builder).Append(int32(v))
	case kindFloat64:
		bld.(*array.Float64Builder).Append(tr.toFloat64(n))
	case kindFloat32:
		bld.(*array.Float32Builder).Append(float32(tr.toFloat64(n)))
	case kindBool:
		bld.(*array.BooleanBuilder).Append(nd.kind == jTrue)
	case kindTimestamp:
		ts, _ := tr.toTimestamp(n)
		bld.(*array.TimestampBuilder).Append(ts)
	case kindDate:
		d, _ := parseDate(unsafeString(tr.bytesOf(n)))
		bld.(*array.Date32Builder).Append(d)
	case kindStruct:
		sb := bld.(*array.StructBuilder)
		sb.Append(true)
		base, _ := w.resolve(t, n, false)
		for f := range t.fields {
			w.appendField(t.fields[f].typ, sb.FieldBuilder(f), w.slots[base+f])
		}
		w.slots = w.slots[:base]
	case kindList:
		lb := bld.(*array.ListBuilder)
		lb.Append(true)
		eb := lb.ValueBuilder()
		for c := nd.first; c >= 0; c = tr.nodes[c].next {
			w.append(t.elem, eb, c)
		}
	}
}
