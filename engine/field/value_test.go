package field

import (
	"math"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// TestValueRoundTrip checks that every kind of value comes back as it went
// in, and that a Value stays three words.
func TestValueRoundTrip(t *testing.T) {
	ts := time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC)
	for _, tc := range []struct {
		in   any
		kind Kind
	}{
		{nil, KindNull}, {"", KindString}, {"héllo", KindString}, {true, KindBool}, {false, KindBool},
		{int64(-42), KindInt}, {int64(math.MaxInt64), KindInt}, {1.5, KindFloat}, {math.Inf(-1), KindFloat},
		{map[string]any{"a": int64(1)}, KindAny}, {[]any{"x"}, KindAny}, {ts, KindAny}, {[]byte("raw"), KindAny},
	} {
		v := FromAny(tc.in)
		if v.Kind() != tc.kind || !reflect.DeepEqual(v.Any(), tc.in) || !v.Exists() {
			t.Errorf("FromAny(%#v) = %v %#v, want %v", tc.in, v.Kind(), v.Any(), tc.kind)
		}
	}
	if v := FromAny(7); v.Kind() != KindInt || v.Int() != 7 {
		t.Errorf("FromAny(int) = %v %v", v.Kind(), v.Any())
	}
	if v := FromAny(uint64(math.MaxUint64)); v.Kind() != KindAny {
		t.Errorf("FromAny(max uint64) = %v, want it kept as it is", v.Kind())
	}
	if (Value{}).Exists() || !(Value{}).IsNil() || !Null().IsNil() || !OfAny(nil).IsNil() || String("").IsNil() {
		t.Error("nil-ness is wrong")
	}
	if String("x").Int() != 0 || Int(3).Str() != "" || Int(3).Float() != 0 || String("x").AnyValue() != nil {
		t.Error("an accessor of another kind is not zero")
	}
	if n, ok := Int(3).Number(); !ok || n != 3 {
		t.Error("Number of an int")
	}
	if size := unsafe.Sizeof(Value{}); size != 24 {
		t.Errorf("a Value is %d bytes, want 24", size)
	}
}

// TestLayout checks interning, lookups and unions.
func TestLayout(t *testing.T) {
	a := NewLayout("ts", "event", "event", "region")
	if a != NewLayout("region", "ts", "event") {
		t.Error("layouts of the same names are not the same")
	}
	if got := a.Names(); !reflect.DeepEqual(got, []string{"event", "region", "ts"}) {
		t.Errorf("Names = %v", got)
	}
	long := "a_field_name_longer_than_thirty_two_bytes"
	b := NewLayout("day", "event", long)
	for _, name := range []string{"day", "event", long} {
		i, ok := b.Index(name)
		if !ok || b.Lookup([]byte(name)) != i || b.Name(i) != name {
			t.Errorf("%s: Index %d %v, Lookup %d", name, i, ok, b.Lookup([]byte(name)))
		}
	}
	if b.Lookup([]byte("evenT")) != -1 || b.Lookup([]byte("")) != -1 {
		t.Error("Lookup found a name that is not there")
	}
	u := a.Union(b)
	if u.Len() != 5 || u != b.Union(a) || a.Union(u) != u || !u.Contains(a) || !u.Contains(b) || a.Contains(b) {
		t.Errorf("Union = %v", u)
	}
	if a.Union(NewLayout("ts")) != a {
		t.Error("the union with a subset is not the layout itself")
	}
	var c Cache[int]
	made := 0
	for range 3 {
		if c.Get(a, func(*Layout) int { made++; return 7 }) != 7 {
			t.Error("Cache.Get")
		}
	}
	if made != 1 {
		t.Errorf("Cache made the value %d times", made)
	}
}

// TestArena checks that strings from an arena keep their bytes.
func TestArena(t *testing.T) {
	var a Arena
	var strs []string
	for i := range 5000 {
		b := a.Bytes(8)
		b = append(b, "abcdefgh"[:i%8+1]...)
		strs = append(strs, a.String(b))
	}
	for i, s := range strs {
		if s != "abcdefgh"[:i%8+1] {
			t.Fatalf("string %d = %q", i, s)
		}
	}
	big := append((*Arena)(nil).Bytes(1<<20), 'x')
	if (*Arena)(nil).String(big) != "x" {
		t.Error("a nil arena")
	}
	// Growing past the capacity asked for leaves the arena alone.
	b := a.Bytes(2)
	b = append(b, "0123456789"...)
	if a.String(b) != "0123456789" || a.String(append(a.Bytes(3), "abc"...)) != "abc" {
		t.Error("after a grown slice")
	}
}

// TestMatchKey matches keys as JSON writes them against a layout's names:
// the empty name and names with the same first byte included, and not a
// key of which a name is only a prefix, nor a name written with escapes.
func TestMatchKey(t *testing.T) {
	l := NewLayout("", "a", "ab", "b\"q", "é")
	for _, c := range []struct {
		quoted string
		name   string // "-" for none
		end    int
	}{
		{`"":1`, "", 2},
		{`"a":1`, "a", 3},
		{`"ab":1`, "ab", 4},
		{`"abc":1`, "-", 0},
		{`"é":1`, "é", len(`"é"`)},
		{`"b\"q":1`, "-", 0}, // escaped: the caller decodes it
		{`"`, "-", 0},
	} {
		slot, end := l.MatchKey([]byte(c.quoted))
		want := -1
		if c.name != "-" {
			want, _ = l.Index(c.name)
		}
		if slot != want || end != c.end {
			t.Errorf("MatchKey(%q) = %d, %d; want %d, %d", c.quoted, slot, end, want, c.end)
		}
	}
}
