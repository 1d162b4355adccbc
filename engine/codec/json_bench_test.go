package codec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// The benchmarks compare the json codec with encoding/json on game telemetry
// events of about 310 bytes, so that the ratio that chose the library (see
// json.go) can be measured again:
//
//	go test -run='^$' -bench=JSON -count=10 ./engine/codec/ > new.txt
//	benchstat new.txt
//
// "codec" is what Lookup("json") returns here; "encoding_json" decodes with
// encoding/json and UseNumber (the codec's portable path, same semantics) and
// encodes with a json.Encoder without HTML escaping.

// benchEvents returns 64 telemetry events that differ in their values.
func benchEvents() (events [][]byte, avgSize int64) {
	regions := []string{"eu-west", "us-east", "ap-south", "sa-east"}
	kinds := []string{"match_end", "match_start", "kill", "heartbeat", "purchase"}
	total := 0
	for i := range 64 {
		e := fmt.Appendf(nil, `{"event_id":"e-%d","event":%q,"ts":"2026-11-25T10:%02d:%02d.%03dZ","player_id":%d,"match_id":%d,"region":%q,"latency_ms":%d.%d,"score":%d,"tags":["ranked","solo%s"],"device":{"os":"android","ver":"%d","model":"Pixel \u00e9 %d"},"session":{"id":"s-%x","seq":%d,"ok":%v,"prev":null}}`,
			i*7919, kinds[i%len(kinds)], i%60, (i*13)%60, (i*37)%1000, 10000+i*31, 987654321000+int64(i)*7,
			regions[i%len(regions)], 10+i%90, i%10, 1000+i*17, []string{"", "", "-q"}[i%3], 10+i%5, i, i*i*104729, i, i%2 == 0)
		events = append(events, e)
		total += len(e)
	}
	return events, int64(total / len(events))
}

func encodeStd(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func BenchmarkJSONDecode(b *testing.B) {
	events, size := benchEvents()
	c, err := Lookup("json")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		decode func([]byte) (any, error)
	}{
		{"codec", c.Decode},
		{"encoding_json", jsonCodec{portable: true}.Decode},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			i := 0
			for b.Loop() {
				if _, err := bc.decode(events[i%len(events)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkJSONEncode(b *testing.B) {
	events, size := benchEvents()
	c, err := Lookup("json")
	if err != nil {
		b.Fatal(err)
	}
	values := make([]any, len(events))
	for i, e := range events {
		if values[i], err = c.Decode(e); err != nil {
			b.Fatal(err)
		}
	}
	var buf []byte
	for _, bc := range []struct {
		name   string
		encode func(any) ([]byte, error)
	}{
		{"codec", c.Encode},
		{"codec_append", func(v any) ([]byte, error) {
			var err error
			buf, err = c.AppendEncode(buf[:0], v)
			return buf, err
		}},
		{"encoding_json", encodeStd},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			i := 0
			for b.Loop() {
				if _, err := bc.encode(values[i%len(values)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
