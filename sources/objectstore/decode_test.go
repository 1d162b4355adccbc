package objectstore

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unsafe"
)

// TestLineDecoderChunks reads lines of every size around the read buffer
// and chunk sizes, and checks each comes back whole and unchanged after
// many more lines were read (they share chunks).
func TestLineDecoderChunks(t *testing.T) {
	var want []string
	var in bytes.Buffer
	for i, n := range []int{1, 100, 64 << 10, (64 << 10) + 1, 3, lineChunk - 5, lineChunk + 7, 200, 2 * lineChunk, 10} {
		line := strings.Repeat(string(rune('a'+i)), n)
		want = append(want, line)
		in.WriteString(line + "\n")
		in.WriteString("  \n") // blank lines are counted, not returned
	}
	in.WriteString("last-without-newline")
	want = append(want, "last-without-newline")
	d := &lineDecoder{r: &in}
	var got [][]byte
	var offsets []int64
	for {
		v, off, err := d.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got, offsets = append(got, v), append(offsets, off)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("line %d: %d bytes starting %q, want %d bytes of %q", i, len(got[i]), got[i][:min(3, len(got[i]))], len(want[i]), want[i][:1])
		}
		if offsets[i] != int64(2*i) {
			t.Errorf("line %d at offset %d, want %d", i, offsets[i], 2*i)
		}
	}
}

// dribble gives at most n bytes a read, and nothing, without error, every
// other read.
type dribble struct {
	r     io.Reader
	n     int
	empty bool
}

func (d *dribble) Read(p []byte) (int, error) {
	if d.empty = !d.empty; d.empty {
		return 0, nil
	}
	return d.r.Read(p[:min(len(p), d.n)])
}

// TestLineDecoderShortReads reads lines from a reader that gives a few
// bytes at a time, and nothing at all now and then, and checks each comes
// back whole, from chunks that are filled rather than replaced.
func TestLineDecoderShortReads(t *testing.T) {
	var in bytes.Buffer
	var want []string
	for i := range 3000 {
		line := strings.Repeat(string(rune('a'+i%26)), 1+i%300)
		want = append(want, line)
		in.WriteString(line + "\n")
	}
	d := &lineDecoder{r: &dribble{r: &in, n: 7}}
	chunks := map[*byte]bool{}
	for i := range want {
		v, _, err := d.next()
		if err != nil {
			t.Fatal(err)
		}
		if string(v) != want[i] {
			t.Fatalf("line %d: %q, want %q", i, v, want[i])
		}
		chunks[unsafe.SliceData(d.chunk)] = true
	}
	if _, _, err := d.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last line: %v", err)
	}
	if total := in.Cap(); len(chunks) > total/lineChunk+2 {
		t.Errorf("%d chunks for %d bytes", len(chunks), total)
	}
}

// TestLineDecoderWhiteSpace checks that lines come back without the white
// space around them, Unicode's included, as bytes.TrimSpace trims it, and
// that lines of white space only are skipped but counted.
func TestLineDecoderWhiteSpace(t *testing.T) {
	lines := []string{`{"a":1}`, "  {\"b\":2}\t", "{\"c\":3}\r", "\u00a0{\"d\":4}\u2003", " ", "\u00a0", "\r", `{"e":5}`, "x", " y"}
	var want []string
	var offsets []int64
	for i, l := range lines {
		if v := strings.TrimSpace(l); v != "" {
			want, offsets = append(want, v), append(offsets, int64(i))
		}
	}
	d := &lineDecoder{r: strings.NewReader(strings.Join(lines, "\n"))}
	for i := range want {
		v, off, err := d.next()
		if err != nil {
			t.Fatal(err)
		}
		if string(v) != want[i] || off != offsets[i] {
			t.Errorf("line %d: %q at %d, want %q at %d", i, v, off, want[i], offsets[i])
		}
	}
	if _, _, err := d.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last line: %v", err)
	}
}
