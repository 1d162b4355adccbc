package objectstore

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestAppendValue checks the JSON the source makes of each Arrow type.
func TestAppendValue(t *testing.T) {
	at := time.Date(2024, 5, 1, 23, 59, 59, 123456789, time.UTC)
	mem := memory.DefaultAllocator
	for _, tc := range []struct {
		name  string
		build func() arrow.Array
		want  string
	}{
		{"timestamp ms", func() arrow.Array {
			b := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"})
			b.AppendTime(at)
			return b.NewArray()
		}, `"2024-05-01T23:59:59.123Z"`},
		{"timestamp ns in another zone", func() arrow.Array {
			b := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "+02:00"})
			b.Append(arrow.Timestamp(at.UnixNano()))
			return b.NewArray()
		}, `"2024-05-01T23:59:59.123456789Z"`},
		{"timestamp s without zone", func() arrow.Array {
			b := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Second})
			b.Append(arrow.Timestamp(at.Unix()))
			return b.NewArray()
		}, `"2024-05-01T23:59:59Z"`},
		{"date32", func() arrow.Array {
			b := array.NewDate32Builder(mem)
			b.Append(arrow.Date32FromTime(at))
			return b.NewArray()
		}, `"2024-05-01"`},
		{"date64", func() arrow.Array {
			b := array.NewDate64Builder(mem)
			b.Append(arrow.Date64FromTime(at))
			return b.NewArray()
		}, `"2024-05-01"`},
		{"string", func() arrow.Array {
			b := array.NewStringBuilder(mem)
			b.Append("a\"b\\c\n\r\t\x01 <é> \u2028\u2029 😀 \xff")
			return b.NewArray()
		}, `"a\"b\\c\n\r\t\u0001 <é> \u2028\u2029 😀 \ufffd"`},
		{"binary", func() arrow.Array {
			b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
			b.Append([]byte{0, 1, 2, 255})
			return b.NewArray()
		}, `"AAEC/w=="`},
		{"struct", func() arrow.Array {
			b := array.NewStructBuilder(mem, arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32}, arrow.Field{Name: "y\"", Type: arrow.PrimitiveTypes.Float64, Nullable: true}))
			b.Append(true)
			b.FieldBuilder(0).(*array.Int32Builder).Append(-3)
			b.FieldBuilder(1).AppendNull()
			return b.NewArray()
		}, `{"x":-3,"y\"":null}`},
		{"map", func() arrow.Array {
			b := array.NewMapBuilder(mem, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64, false)
			b.Append(true)
			b.KeyBuilder().(*array.StringBuilder).Append("k")
			b.ItemBuilder().(*array.Int64Builder).Append(7)
			return b.NewArray()
		}, `{"k":7}`},
		{"list of floats", func() arrow.Array {
			b := array.NewListBuilder(mem, arrow.PrimitiveTypes.Float64)
			b.Append(true)
			b.ValueBuilder().(*array.Float64Builder).AppendValues([]float64{1.5, 1e21, 0}, nil)
			return b.NewArray()
		}, `[1.5,1e+21,0]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.build()
			defer a.Release()
			if got := string(appendValue(nil, a, 0)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// FuzzAppendString checks appendString against what it must do: write a
// JSON string that decodes to s, each byte that is not valid UTF-8
// replaced by U+FFFD, with <, > and & as they are.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "a\"b\\c", "\x00\x1f\x7f", "é中😀", "\xff\xfe", "\u2028\u2029", "<a href='x'>&</a>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString([]byte("x"), s)
		if out[0] != 'x' {
			t.Fatal("appendString changed what dst held")
		}
		var got string
		if err := json.Unmarshal(out[1:], &got); err != nil {
			t.Fatalf("%q gives %s, not a JSON string: %v", s, out[1:], err)
		}
		var want strings.Builder
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			want.WriteRune(r)
			i += n
		}
		if got != want.String() {
			t.Fatalf("%q gives %s, which decodes to %q", s, out[1:], got)
		}
		for _, c := range "<>&" {
			if strings.ContainsRune(s, c) && !strings.ContainsRune(string(out), c) {
				t.Fatalf("%q gives %s: %c escaped", s, out[1:], c)
			}
		}
	})
}

// BenchmarkParquetRows reads the rows of a Parquet file as JSON, as the
// source hands them out.
func BenchmarkParquetRows(b *testing.B) {
	const n = 20000
	data, rows := parquetFileGroups(b, n, n)
	size := 0
	for _, r := range rows {
		size += len(r)
	}
	b.SetBytes(int64(size / n)) // the JSON of a row
	b.ReportAllocs()
	read := 0
	for b.Loop() {
		d, err := newParquetDecoder(context.Background(), data, decodeOptions{batchSize: 5000})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, _, err := d.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			read++
		}
		d.close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(read), "ns/row")
}
