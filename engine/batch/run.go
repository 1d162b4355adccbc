package batch

import "context"

// Run adds the items that arrive on in to b and calls flush with every batch
// that b says is full, with every batch whose Timer fires, and, once in is
// closed, with the items still pending. It returns nil after that last
// flush, or the first error flush returns, unchanged. Run calls flush on the
// goroutine that called Run, one batch at a time, and flush owns the batch
// it is given.
//
// If ctx ends first, Run returns ctx.Err() and leaves the pending items in
// b, not flushed: the caller decides whether to Flush and write them or to
// drop them. After flush fails, the items pending at that moment are
// likewise left in b.
//
// Run owns b until it returns; nothing else may use b meanwhile.
func Run[T any](ctx context.Context, b *Batcher[T], in <-chan T, flush func(context.Context, []T) error) error {
	for {
		var full []T
		select {
		case <-ctx.Done():
			return ctx.Err()
		case item, ok := <-in:
			if !ok {
				if rest := b.Flush(); rest != nil {
					return flush(ctx, rest)
				}
				return nil
			}
			full = b.Add(item)
		case <-b.Timer():
			full = b.Flush()
		}
		if full != nil {
			if err := flush(ctx, full); err != nil {
				return err
			}
		}
	}
}
