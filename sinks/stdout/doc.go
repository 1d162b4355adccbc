// Package stdout is a sink that writes records to standard output, one per
// line: the value as is, or an envelope with key, headers and source
// position. It can print a sample (one record in every N) so that a fast
// pipeline stays readable.
//
// It is not a log: records go to standard output, logs to standard error.
//
//	sinks:
//	  sample:
//	    stdout: {format: envelope, every: 1000}
package stdout
