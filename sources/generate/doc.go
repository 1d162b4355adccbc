// Package generate is a source of synthetic game-telemetry events, for the
// demo, benchmarks and tests.
//
// Events are JSON objects such as
//
//	{"event_id":"g1-42","event":"match_end","ts":"2026-11-25T10:00:00.420Z","player_id":1042,
//	 "match_id":70012,"region":"eu-west","platform":"android","latency_ms":48.5,"score":1200,
//	 "level":17,"device":{"os":"android","ver":"14"}}
//
// The same seed gives the same events in the same order (with start set,
// byte for byte), so tests can count and compare them. It is not a load
// generator for other systems; it feeds a pipeline directly.
//
//	source:
//	  generate: {count: 100000, rate: 5000, seed: 1}
package generate
