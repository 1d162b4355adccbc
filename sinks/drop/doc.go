// Package drop is a sink that discards every record and reports it
// written. It measures a pipeline without a destination (benchmarks, the
// demo) and stands in for a sink that is not wired yet.
//
//	sinks:
//	  nowhere:
//	    drop: {}
package drop
