// Package expr holds the expression transforms of pipeline files: filter
// (keep records for which an expression is true), set (add or overwrite
// fields from expressions, in order), drop (remove fields) and rename (move
// fields). Expressions are compiled when the pipeline is built, so a bad one
// fails `sluice validate` with its position in the file; the language and
// its built-in functions are those of package engine/expr.
//
// Field names may be dotted paths into nested objects (device.os). A record
// whose expression fails at run time (a missing field passed to a function
// that needs it, a value that is not an object) goes to the dead-letter sink
// with the error; the others carry on.
//
// It is not a general scripting step: use a wasm or HTTP function for logic
// that expressions cannot say.
//
//	transforms:
//	  - filter: 'event != "heartbeat" && latency_ms < 5000'
//	  - set:
//	      day: 'format_time(ts, "2006-01-02")'
//	      region: 'upper(region)'
//	  - drop: [debug, device.ver]
//	  - rename: {player_id: player}
package expr
