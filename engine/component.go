package engine

import "context"

// Ack settles a batch with the source that emitted it. The runtime calls it
// exactly once per batch, from any goroutine, once every record derived from
// the batch is durable in every sink it was routed to, was filtered, or is in
// the dead-letter sink. A nil result means the source may commit the batch's
// position; a non-nil result means it must not, and the pipeline is
// stopping. ctx limits only the work the ack itself does (a commit). Once
// Ack is called nothing reads the batch's records any more, whatever the
// result, so the source may reuse the memory of their keys and values (the
// objectstore source does).
type Ack func(ctx context.Context, result error)

// Source reads batches of records.
//
// Open connects; ctx limits the connect attempt only. Read blocks until a
// batch is available, ctx ends, or the input is exhausted, in which case a
// bounded source returns ErrEndOfInput. ErrNotConnected asks the runtime to
// back off and call Read again. Read is called from one goroutine; the Ack it
// returns may be called from any goroutine and while Read is running. The
// batch belongs to the runtime once returned, until its Ack. Close is
// called once after the last Read and after every Ack returned by Read has
// been called or the shutdown grace period has run out; it commits what was
// acked and releases connections.
type Source interface {
	Open(ctx context.Context) error
	Read(ctx context.Context) (Batch, Ack, error)
	Close(ctx context.Context) error
}

// Transform changes, filters, splits or enriches records.
//
// Apply owns in for the duration of the call: it may change the records of in
// in place and return them, and the runtime never reads in again. It returns
// the records to pass on; leaving a record out filters it, which is not an
// error. A record it cannot process is returned with Err set, and goes to the
// dead-letter sink. An error from Apply fails the whole batch: retried with
// backoff, or dead-lettered when Permanent. Apply is called concurrently
// from several workers on different batches.
type Transform interface {
	Apply(ctx context.Context, in Batch) (Batch, error)
}

// TransformFunc turns a plain function into a Transform.
type TransformFunc func(ctx context.Context, in Batch) (Batch, error)

// Apply calls f.
func (f TransformFunc) Apply(ctx context.Context, in Batch) (Batch, error) { return f(ctx, in) }

// Sink writes batches of records.
//
// Open connects; ctx limits the connect attempt only. Write returns nil only
// once every record of b is durable. On a partial failure it returns a
// *BatchError naming the records that failed; any other error fails the
// whole batch. Errors are retried with backoff unless wrapped with
// Permanent. Write may be called concurrently, up to the sink's configured
// concurrency; it must not change or keep b after it returns. Close is called
// once, after the last Write has returned.
type Sink interface {
	Open(ctx context.Context) error
	Write(ctx context.Context, b Batch) error
	Close(ctx context.Context) error
}

// PositionKeeper is implemented by sinks that store, in the same
// transaction as the records, the source position of the last record they
// wrote from each stream (the SQL sink's exactly-once mode). Such a sink
// also skips records at or below a stored position, so that a replay
// writes nothing twice.
type PositionKeeper interface {
	// Positions returns, per stream (Position.Stream), the offset of the
	// last record durably written. ok is false when the sink does not keep
	// positions (the mode is off). Called after Open, before the source
	// opens.
	Positions(ctx context.Context) (positions map[string]int64, ok bool, err error)
}

// Resumer is implemented by sources that can start from positions given by
// the runtime rather than only from their own committed ones.
type Resumer interface {
	// ResumeFrom is called before Open with, per stream, the offset of the
	// last record known to be durable. The source starts each stream after
	// the larger of that offset and its own committed position.
	ResumeFrom(positions map[string]int64)
}

// Progress is how far a bounded source has got through its input.
type Progress struct {
	ObjectsTotal, ObjectsDone int64 // objects (files) to read, and read
	BytesTotal, BytesRead     int64 // their bytes
	Records                   int64 // records emitted
}

// ProgressReporter is implemented by bounded sources that know the size of
// their input, so that a backfill can show a progress bar and an ETA.
// Progress is safe to call concurrently with Read.
type ProgressReporter interface {
	Progress() Progress
}

// FieldsUser is implemented by transforms that read and change only some
// top-level fields of each record. When every transform of a pipeline is
// one, the runtime picks all the fields they use from each record in one
// pass (PickBatch) before the first transform runs, instead of decoding
// whole records or scanning them once per transform.
type FieldsUser interface {
	// UsedFields returns the names of the top-level fields the transform
	// reads or changes; nil means it may use any field. The caller must not
	// change the slice.
	UsedFields() []string
}

// AckWaiter is implemented by sources whose Read can block waiting for
// acknowledgements, at a bound of their own on unacknowledged batches (the
// Kafka source's max_pending). While WaitingForAcks reports true, the
// runtime asks the sinks to write the records they hold now rather than
// wait for fuller batches, as it does at its own max_in_flight bound:
// otherwise a sink batch waiting for more records and a source waiting for
// that batch to be written would stall each other until the batch period
// ran out. WaitingForAcks is called every few milliseconds, concurrently
// with Read, and must be cheap.
type AckWaiter interface {
	WaitingForAcks() bool
}
