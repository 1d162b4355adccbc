package reference

import (
	"context"
	stdjson "encoding/json"
	"testing"
	"time"
	"unsafe"

	"github.com/bytedance/sonic"
	goccy "github.com/goccy/go-json"
	segjson "github.com/segmentio/encoding/json"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/sources/generate"
)

// benchEvents is the number of events BenchmarkRun runs over.
const benchEvents = 1_000_000

// BenchmarkRun measures Run with two workers over a file of a million
// events, then the same reading the file instead of mapping it, and with
// the fastest library decoder instead of decodeEvent.
func BenchmarkRun(b *testing.B) {
	path, size := writeEvents(b, b.TempDir(), benchEvents, 0)
	cases := []struct {
		name string
		o    options
	}{
		{"decoder=hand/io=mmap", options{decode: decodeEvent}},
		{"decoder=hand/io=read", options{decode: decodeEvent, noMap: true}},
		{"decoder=segmentio/io=mmap", options{decode: decodeSegmentio}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			tc.o.workers, tc.o.size = 2, chunkSize
			b.SetBytes(size)
			b.ReportAllocs()
			var records int64
			for b.Loop() {
				st, err := run(context.Background(), path, tc.o)
				if err != nil {
					b.Fatal(err)
				}
				if st.Read != benchEvents || st.Errors != 0 || st.Kept == 0 {
					b.Fatalf("unexpected stats %+v", st)
				}
				records += st.Read
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// decodeSegmentio is decodeEvent with segmentio/encoding, the fastest
// library decoder: strings point into the line, as decodeEvent's do.
func decodeSegmentio(line []byte, ev *Event) error {
	*ev = Event{}
	rest, err := segjson.Parse(line, ev, segjson.ZeroCopy)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errTrailing
	}
	return nil
}

// BenchmarkDecode compares decoders of one event line into Event, each
// with its fastest options that still decode every field and check the
// JSON. Strings may point into the line where the decoder allows it.
func BenchmarkDecode(b *testing.B) {
	c := generate.Defaults()
	c.Count, c.BatchSize, c.Start, c.Step = 20000, 20000, "2026-11-24T00:00:00Z", 2*time.Second
	src, err := generate.New(c, engine.TestEnv())
	if err != nil {
		b.Fatal(err)
	}
	batch, _, err := src.Read(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	var lines [][]byte
	var size int64
	for _, r := range batch.Records {
		lines = append(lines, r.Value)
		size += int64(len(r.Value))
	}
	decoders := []struct {
		name   string
		decode func([]byte, *Event) error
	}{
		{"hand", decodeEvent},
		{"segmentio_zerocopy", decodeSegmentio},
		{"segmentio", func(l []byte, ev *Event) error { _, err := segjson.Parse(l, ev, 0); return err }},
		{"goccy", func(l []byte, ev *Event) error { return goccy.UnmarshalNoEscape(l, ev) }},
		{"sonic", func(l []byte, ev *Event) error {
			return sonic.ConfigFastest.UnmarshalFromString(unsafe.String(unsafe.SliceData(l), len(l)), ev)
		}},
		{"encoding_json", func(l []byte, ev *Event) error { return stdjson.Unmarshal(l, ev) }},
	}
	for _, d := range decoders {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(size / int64(len(lines)))
			b.ReportAllocs()
			var ev Event
			i := 0
			for b.Loop() {
				ev = Event{}
				if err := d.decode(lines[i], &ev); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(lines) {
					i = 0
				}
			}
			if ev.TS == "" || ev.Device.Ver == "" {
				b.Fatalf("decoded %+v", ev)
			}
		})
	}
}
