package objectstore

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
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
