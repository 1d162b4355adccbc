// Package batch holds the Policy that says when a sink's batch is full: by
// count, by size in bytes and by time, as configured per sink.
//
// The runtime in engine/run batches what is routed to each sink by it,
// counting records across the chunks of several source batches; the
// package itself batches, writes, retries and acknowledges nothing. It
// imports the standard library only.
//
// Example:
//
//	p := batch.Policy{Count: 500, Bytes: 5 << 20, Period: time.Second}
//	if err := p.Validate(); err != nil {
//		return fmt.Errorf("batch: %w", err)
//	}
package batch
