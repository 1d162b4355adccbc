// Package checkpoint records how far a pipeline has got, so that a crash, a
// rebalance or a redeploy replays what was in flight and skips nothing.
//
// It has two parts. A Tracker turns acks that arrive out of order into the
// highest position that is safe to commit, and bounds how many positions are
// in flight; the Kafka source keeps one per partition. A Store keeps resume
// tokens for sources that have no native offsets, such as the object-storage
// source: a FileStore on one machine (file://.sluice/state by default), a
// MemStore in tests, or a bucket-backed Store that a caller passes to Open.
//
// The package does not commit anything itself, does not know what a
// position or a token means, and does not talk to Kafka or to a bucket. It
// imports the standard library only.
//
// Example:
//
//	t := checkpoint.NewTracker[int64](1024)
//	for {
//		b, err := read(ctx)
//		if err != nil {
//			return err
//		}
//		done, err := t.Track(ctx, b.LastOffset) // blocks while 1024 batches are in flight
//		if err != nil {
//			return err
//		}
//		send(ctx, b, func() {
//			if off, ok := done(); ok {
//				session.MarkOffset(topic, partition, off+1, "")
//			}
//		})
//	}
package checkpoint
