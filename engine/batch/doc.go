// Package batch groups items into batches by count, by size in bytes and by
// time, as configured per sink by a Policy.
//
// A Batcher is generic over the item type and is owned by one goroutine: it
// holds no lock and starts no goroutine of its own. The owner adds items,
// writes every batch Add returns, and selects on Timer to flush a batch that
// has waited Period. Run is that loop, ready made, for items that arrive on a
// channel.
//
// The package does not write, retry or acknowledge anything, and it does not
// bound how many batches are in flight: that is the job of the runtime in
// engine/run. It imports the standard library only.
//
// Example:
//
//	p := batch.Policy{Count: 500, Bytes: 5 << 20, Period: time.Second}
//	if err := p.Validate(); err != nil {
//		return fmt.Errorf("batch: %w", err)
//	}
//	b := batch.New(p, func(r engine.Record) int { return len(r.Key) + len(r.Value) })
//	return batch.Run(ctx, b, records, func(ctx context.Context, rs []engine.Record) error {
//		return sink.Write(ctx, engine.Batch{Records: rs})
//	})
package batch
