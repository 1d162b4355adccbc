// Package expr is the expression language of Sluice pipeline files: filter
// conditions, computed fields, sink conditions and {{ }} templates such as an
// Elasticsearch index name or an object path.
//
// It is expr-lang (https://expr-lang.org) with the record as environment and
// a few functions added for pipelines: times (parse_time, format_time, unix,
// unix_ms), hashes (sha256, md5, fnv64, hash_mod), strings (substr,
// regex_match, regex_replace), conversions (to_int, to_float, to_string) and
// nil handling (coalesce, default). Functions lists them all with
// expr-lang's own, such as upper, lower, split, replace, date and len.
//
// Variables are the top-level fields of the record, decoded from JSON:
// objects are map[string]any, arrays []any, integers int64, other numbers
// float64. A field the record lacks is nil, so `event != "heartbeat"` holds
// for a record without event, while `latency_ms < 5000` is an evaluation
// error for one without latency_ms; write `(latency_ms ?? 0) < 5000` or
// `latency_ms != nil && latency_ms < 5000` when the field is optional. Nested
// fields are read with user.country (an error when user is nil) or
// user?.country (nil then). A field whose name is not an identifier, or is
// a keyword such as nil, is read as $env["player-id"]. A field named like a
// function, such as type or count, is read by its name as long as it is not
// called.
//
// Expressions are compiled once, when the pipeline is built, so that
// `sluice validate` reports syntax errors, unknown functions, wrong argument
// counts and conditions that cannot be bool with their line and column.
// Evaluation reuses virtual machines across calls and allocates only what
// the expression itself creates.
//
// The package is not a sandbox for untrusted input: expressions come from
// pipeline files, which are trusted. Evaluation is bounded in memory by
// expr-lang's budget, not in time. It is not the transform either: the
// filter, set and route transforms that run expressions on batches live in
// transforms/expr.
//
// Example:
//
//	keep, err := expr.Compile(`event != "heartbeat" && latency_ms < 5000`, expr.AsBool())
//	if err != nil {
//		return err // a *expr.CompileError with Line and Column inside the source
//	}
//	index, err := expr.CompileTemplate("telemetry-{{ format_time(ts, \"2006-01-02\") }}")
//	if err != nil {
//		return err
//	}
//	for _, rec := range records { // rec is a map[string]any
//		ok, err := keep.EvalBool(rec)
//		if err != nil || !ok {
//			continue
//		}
//		name, err := index.Render(rec) // "telemetry-2024-05-01"
//		...
//	}
package expr
