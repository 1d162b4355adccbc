package reference

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/sources/generate"
)

// writeEvents writes n generated events, every badEvery-th of them broken
// (0: none), to a JSONL file in dir and returns its path and size.
func writeEvents(tb testing.TB, dir string, n, badEvery int64) (string, int64) {
	tb.Helper()
	c := generate.Defaults()
	c.Count, c.BatchSize, c.Start, c.Step, c.BadEvery = n, 20000, "2026-11-24T00:00:00Z", 2*time.Second, badEvery
	src, err := generate.New(c, engine.TestEnv())
	if err != nil {
		tb.Fatal(err)
	}
	if err := src.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "events.jsonl")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var size int64
	for {
		b, _, err := src.Read(context.Background())
		if errors.Is(err, engine.ErrEndOfInput) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range b.Records {
			w.Write(r.Value)
			w.WriteByte('\n')
			size += int64(len(r.Value)) + 1
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	// Write the file back now rather than while a benchmark runs.
	if err := f.Sync(); err != nil {
		tb.Fatal(err)
	}
	return path, size
}

// expect computes scenario (a) over the file at path the plain way, with
// encoding/json, time.Parse and strings.ToUpper.
func expect(t *testing.T, path string) Stats {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st := Stats{Bytes: int64(len(data))}
	for line := range bytes.Lines(data) {
		if line = bytes.TrimSpace(line); len(line) == 0 {
			continue
		}
		st.Read++
		var ev struct {
			Event     string  `json:"event"`
			TS        string  `json:"ts"`
			Region    string  `json:"region"`
			LatencyMS float64 `json:"latency_ms"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			st.Errors++
			continue
		}
		if ev.Event == "heartbeat" || ev.LatencyMS >= 5000 {
			continue
		}
		ts, err := time.Parse(time.RFC3339, ev.TS)
		if err != nil {
			st.Errors++
			continue
		}
		st.Kept++
		st.Checksum += sum(ts.UTC().Format("2006-01-02"), strings.ToUpper(ev.Region))
	}
	return st
}

// sum is the checksum of one kept event with the given set fields.
func sum(day, region string) int64 {
	return checksum([]byte(day + region))
}

func TestRunGenerated(t *testing.T) {
	path, size := writeEvents(t, t.TempDir(), 20000, 997)
	want := expect(t, path)
	if want.Read != 20000 || want.Kept == 0 || want.Errors != 20000/997 || want.Bytes != size {
		t.Fatalf("the generated file is not what the test expects: %+v", want)
	}
	tests := []struct {
		name string
		o    options
	}{
		{"mapped", options{workers: 2, size: chunkSize}},
		{"read", options{workers: 2, size: chunkSize, noMap: true}},
		{"default workers", options{size: chunkSize}},
		{"one worker", options{workers: 1, size: chunkSize}},
		{"three workers", options{workers: 3, size: chunkSize}},
		{"small chunks mapped", options{workers: 2, size: 4096}},
		{"small chunks read", options{workers: 2, size: 4096, noMap: true}},
		{"chunks shorter than a line mapped", options{workers: 2, size: 64}},
		{"chunks shorter than a line read", options{workers: 2, size: 64, noMap: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.decode = decodeEvent
			got, err := run(t.Context(), path, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestRunLines(t *testing.T) {
	const ok = `{"event_id":"g1-1","event":"kill","ts":"2026-11-25T00:00:01.500Z","player_id":1234,"match_id":70000,"region":"eu-west","platform":"pc","latency_ms":42.5,"score":1234,"level":12,"device":{"os":"pc","ver":"17.1"}}`
	// with returns ok with the JSON value of key replaced by v.
	with := func(key, v string) string {
		start := strings.Index(ok, `"`+key+`":`) + len(key) + 3
		end := start + strings.IndexAny(ok[start+1:], `,}`) + 1
		if ok[start] == '"' {
			end = start + strings.IndexByte(ok[start+1:], '"') + 2
		}
		return ok[:start] + v + ok[end:]
	}
	okSum := sum("2026-11-25", "EU-WEST")
	tests := []struct {
		name         string
		in           string
		read, kept   int64
		errs, sumAll int64
	}{
		{"kept", ok + "\n", 1, 1, 0, okSum},
		{"no final newline", ok, 1, 1, 0, okSum},
		{"blank and CRLF lines", "\n  \n" + ok + "\r\n\t\r\n" + ok + "\n\n", 2, 2, 0, 2 * okSum},
		{"unicode spaces", "\u00a0" + ok + "\u2003\n\u0085\n", 1, 1, 0, okSum},
		{"heartbeat", with("event", `"heartbeat"`), 1, 0, 0, 0},
		{"lagging", with("latency_ms", "5000"), 1, 0, 0, 0},
		{"almost lagging", with("latency_ms", "4999.9"), 1, 1, 0, okSum},
		{"broken", `{"event_id":"g1-5","broken":` + "\n" + ok, 2, 1, 1, okSum},
		{"trailing data", ok + ` {}`, 1, 0, 1, 0},
		{"not an object", `[1,2,3]`, 1, 0, 1, 0},
		{"wrong type", with("latency_ms", `"slow"`), 1, 0, 1, 0},
		{"bad month", with("ts", `"2026-13-25T00:00:01Z"`), 1, 0, 1, 0},
		{"bad day", with("ts", `"2026-02-29T00:00:01Z"`), 1, 0, 1, 0},
		{"bad hour", with("ts", `"2026-11-25T24:00:01Z"`), 1, 0, 1, 0},
		{"bad fraction", with("ts", `"2026-11-25T00:00:01.Z"`), 1, 0, 1, 0},
		{"no zone", with("ts", `"2026-11-25T00:00:01"`), 1, 0, 1, 0},
		{"not a time", with("ts", `"yesterday"`), 1, 0, 1, 0},
		{"no ts", with("ts", `null`), 1, 0, 1, 0},
		{"heartbeat with a bad ts", with("event", `"heartbeat"`) + "\n" + strings.Replace(with("event", `"heartbeat"`), "2026-11-25T", "2026-11-25X", 1), 2, 0, 0, 0},
		{"leap day", with("ts", `"2028-02-29T23:59:59Z"`), 1, 1, 0, sum("2028-02-29", "EU-WEST")},
		{"offset", with("ts", `"2026-11-25T01:30:00+02:00"`), 1, 1, 0, sum("2026-11-24", "EU-WEST")},
		{"unicode region", with("region", `"r\u00e9gion-\u00df"`), 1, 1, 0, sum("2026-11-25", strings.ToUpper("région-ß"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.jsonl")
			if err := os.WriteFile(path, []byte(tc.in), 0o644); err != nil {
				t.Fatal(err)
			}
			want := Stats{Read: tc.read, Kept: tc.kept, Errors: tc.errs, Bytes: int64(len(tc.in)), Checksum: tc.sumAll}
			if plain := expect(t, path); plain != want {
				t.Fatalf("the plain computation gives %+v, the test wants %+v", plain, want)
			}
			for _, noMap := range []bool{false, true} {
				got, err := run(t.Context(), path, options{workers: 2, size: chunkSize, decode: decodeEvent, noMap: noMap})
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("noMap %v: got %+v, want %+v", noMap, got, want)
				}
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	if _, err := Run(t.Context(), filepath.Join(t.TempDir(), "missing.jsonl"), 2); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want os.ErrNotExist", err)
	}
	path, _ := writeEvents(t, t.TempDir(), 1000, 0)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, noMap := range []bool{false, true} {
		st, err := run(ctx, path, options{workers: 2, size: chunkSize, decode: decodeEvent, noMap: noMap})
		if !errors.Is(err, context.Canceled) || st.Read != 0 {
			t.Errorf("noMap %v, cancelled: got %+v, %v, want nothing read and context.Canceled", noMap, st, err)
		}
	}
	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if st, err := Run(t.Context(), empty, 2); err != nil || st != (Stats{}) {
		t.Errorf("empty file: got %+v, %v, want nothing and no error", st, err)
	}
}

// FuzzAppendDay checks appendDay against time.Parse.
func FuzzAppendDay(f *testing.F) {
	for _, s := range []string{
		"2026-11-25T00:00:01.500Z", "2026-11-25T00:00:01Z", "2026-11-25T00:00:01.Z", "2028-02-29T23:59:59Z",
		"2026-02-29T00:00:00Z", "2026-11-25T01:30:00+02:00", "2026-11-25T00:00:01z", "2026-11-25t00:00:01Z",
		"0000-01-01T00:00:00Z", "2026-11-25T00:00:60Z", "2026-11-25T00:00:01.123456789012Z", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := appendDay([]byte("x"), s)
		ts, err := time.Parse(time.RFC3339, s)
		if ok != (err == nil) {
			t.Fatalf("appendDay(%q) ok %v, time.Parse error %v", s, ok, err)
		}
		want := "x"
		if ok {
			want += ts.UTC().Format(time.DateOnly)
		}
		if string(got) != want {
			t.Fatalf("appendDay(%q) = %q, want %q", s, got, want)
		}
	})
}

// FuzzDecode checks decode against encoding/json.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"event_id":"g1-0","event":"match_start","ts":"2026-11-25T00:00:00.000Z","player_id":1234,"match_id":70000,"region":"eu-west","platform":"pc","latency_ms":42.5,"score":1234,"level":12,"device":{"os":"pc","ver":"17.1"}}`))
	f.Add([]byte(`{"event_id":"g1-5","broken":`))
	f.Add([]byte(`{"event":"a\u00e9\ud83d\ude00","x":[1,{"y":null}],"level":1e2} `))
	f.Add([]byte(`{"region":"\xff"}`))
	f.Add([]byte(`{"ſcore":1,"\u212a":2,"LEVEL":3,"Device":{"OS":"x","Ver":null,"other":[{"a":[]}]}}`))
	f.Add([]byte(`{"event":"\ud83d\ude00\ud800x\udc00\ud800\u0041","region":"\"\\\/\b\f\n\r\t\u00e9é"}`))
	f.Add([]byte(`{"score":9223372036854775807,"level":-9223372036854775808,"player_id":9223372036854775808}`))
	f.Add([]byte(`{"latency_ms":0.1234567890123456789e3,"score":-0,"level":1.0}`))
	f.Add([]byte(`{"latency_ms":123456789012345.6} {"latency_ms":1e400}`))
	f.Add([]byte(`{"latency_ms":-0.0,"device":null,"ts":null,"x":[1,2,{"y":true,"z":false}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var got, want Event
		err := decodeEvent(bytes.Clone(line), &got)
		werr := json.Unmarshal(line, &want)
		if (err == nil) != (werr == nil) {
			t.Fatalf("decode(%q) error %v, encoding/json error %v", line, err, werr)
		}
		if err == nil && got != want {
			t.Fatalf("decode(%q) = %+v, encoding/json gives %+v", line, got, want)
		}
	})
}

// TestDecodeNumbers checks decodeEvent's fast number paths against
// strconv on many random numbers.
func TestDecodeNumbers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var ev Event
	for range 200000 {
		// Up to 17 digits, some with leading zeros (an error before a dot).
		digits := strconv.FormatUint(1e17+r.Uint64N(9e17), 10)[1 : 2+r.IntN(17)]
		f := digits
		if dot := r.IntN(len(digits) + 1); dot < len(digits) {
			f = digits[:dot] + "." + digits[dot:]
			if dot == 0 {
				f = "0" + f
			}
		}
		if r.IntN(2) == 0 {
			f = "-" + f
		}
		n := strconv.FormatInt(int64(r.Uint64()), 10)
		line := `{"latency_ms":` + f + `,"score":` + n + `}`
		err := decodeEvent([]byte(line), &ev)
		wantF, ferr := strconv.ParseFloat(f, 64)
		wantN, _ := strconv.ParseInt(n, 10, 64)
		var want Event
		jerr := json.Unmarshal([]byte(line), &want)
		if (err == nil) != (jerr == nil) {
			t.Fatalf("%s: error %v, encoding/json error %v", line, err, jerr)
		}
		if err == nil && (ferr != nil || ev.LatencyMS != wantF || ev.Score != wantN) {
			t.Fatalf("%s: got %v and %d, want %v and %d", line, ev.LatencyMS, ev.Score, wantF, wantN)
		}
	}
}

func TestDecodeDepth(t *testing.T) {
	for _, depth := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		for _, open := range []string{"[", `{"a":`} {
			close := map[string]string{"[": "]", `{"a":`: "}"}[open]
			line := []byte(`{"event":"kill","x":` + strings.Repeat(open, depth-1) + "1" + strings.Repeat(close, depth-1) + `}`)
			err := decodeEvent(line, new(Event))
			jerr := json.Unmarshal(line, new(Event))
			if (err == nil) != (jerr == nil) {
				t.Errorf("depth %d of %s: error %v, encoding/json error %v", depth, open, err, jerr)
			}
		}
	}
}
