// Package reference is benchmark scenario (a) written by hand in Go, as
// fast as we could make it, to stand for what this machine can do: the
// benchmarks report Sluice's engine as a ratio of it.
//
// Scenario (a) reads a JSONL file of game-telemetry events, as the generate
// source writes them, decodes each line, keeps an event when
// event != "heartbeat" && latency_ms < 5000, sets day to ts formatted as
// 2006-01-02 (in UTC) and region to upper(region), and drops the result.
// Every set day and region is added to a checksum so that no work can be
// optimised away.
//
// Run does on every line the work the engine does, and its speed does not
// depend on shortcuts for this input. It decodes the whole line, every
// field, into a typed struct, and its decoder accepts and rejects exactly
// what encoding/json does (FuzzDecode checks it): malformed JSON, trailing
// data, values of the wrong type, keys in any order, escapes, unknown keys.
// It parses ts as time.Parse(time.RFC3339, ts) does (FuzzAppendDay checks
// it): a malformed ts is an error, not a pass; a UTC time is checked field
// by field and its date is its first ten bytes, any other goes through
// time.Parse. It uppercases with strings.ToUpper's rules, ASCII without
// allocating. Lines are trimmed and blank lines skipped as the objectstore
// source does. It does not re-encode the kept events: they are dropped.
//
// The calling goroutine maps the file into memory (or, off Linux, reads it
// into a few recycled buffers) and hands 1 MiB chunks of whole lines over
// a channel to the workers, two by default. They split the lines and
// process them with no allocation and no synchronisation per line.
//
// The decoder was chosen by measurement: decoding one 224-byte generated
// event into Event, medians of 3 runs on 2 shared amd64 cores;
// BenchmarkDecode measures the first six again.
//
//	                                         ns/line  B/line  allocs
//	hand-written (json.go)                       198       0       0
//	segmentio/encoding v0.5.4, ZeroCopy          362       0       0
//	goccy/go-json v0.10.6, UnmarshalNoEscape     434     230       1
//	segmentio/encoding v0.5.4                    511      65       7
//	bytedance/sonic v1.15.5, UnmarshalFromString 692      32       1
//	encoding/json                               2688     329      13
//	mailru/easyjson v0.9.2, generated, nocopy    579       0       0
//	valyala/fastjson v1.6.10, fields by hand     657      65       7
//	json-iterator/go v1.1.12, ConfigFastest      722      65       7
//	encoding/json/v2 (GOEXPERIMENT=jsonv2)      1223      35       2
//
// The hand-written decoder is json.go: a tuned version of what easyjson
// generates, with field names recognised without scanning them and strings
// scanned eight bytes at a time. The fastest library, segmentio/encoding,
// makes Run about 1.7 times slower (BenchmarkRun/decoder=segmentio).
//
// Package reference is not a Sluice component and not a general JSONL
// tool: it knows this one scenario and event schema, for the benchmarks.
//
// Example:
//
//	st, err := reference.Run(ctx, "events.jsonl", 2)
//	if err != nil {
//		return err
//	}
//	fmt.Printf("%d of %d events kept, %d errors\n", st.Kept, st.Read, st.Errors)
package reference
