package freelist

import "testing"

// TestList checks that a slice put back comes out again, cleared, when it
// is large enough, and that the list keeps no more than its bound.
func TestList(t *testing.T) {
	l := New[*int](2)
	x := 1
	if s := l.Get(4); s != nil {
		t.Fatalf("an empty list gave %v", s)
	}
	s := make([]*int, 0, 4)
	s = append(s, &x, &x)
	l.Put(s)
	got := l.Get(3)
	if cap(got) != cap(s) || &got[:1][0] != &s[0] {
		t.Fatalf("got a slice of capacity %d, not the one put back", cap(got))
	}
	for i, p := range got[:cap(got)] {
		if p != nil {
			t.Fatalf("element %d not cleared", i)
		}
	}
	l.Put(got)
	if big := l.Get(100); big != nil {
		t.Fatalf("capacity %d for 100", cap(big))
	}
	for range 3 {
		l.Put(make([]*int, 1))
	}
	if n := len(l.free); n != 2 {
		t.Fatalf("kept %d slices, want 2", n)
	}
	var none *List[int]
	none.Put([]int{1})
	if s := none.Get(2); s != nil {
		t.Fatal("a nil list gave a slice")
	}
}
