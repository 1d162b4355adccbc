// Package objectstore is a bounded source that reads archived objects from a
// bucket (S3 or any S3-compatible server, a local directory, memory), so
// that a backfill runs old data through the same pipeline definitions as the
// live stream.
//
// It lists a prefix in key order, keeps the objects that match a glob, a
// time range (taken from the key or the modification time) and a shard, and
// reads each one as JSON lines (plain, gzip or zstd), CSV with a header, or
// Parquet. Every line or row becomes one record whose value is a JSON
// document and whose Source position is the object key and the line or row
// index. Which objects are done, and how far the current one was
// acknowledged, is saved in a checkpoint.Store, so a restarted backfill
// never reads a finished object again and resumes the one in progress after
// its last acknowledged record. Read returns engine.ErrEndOfInput when
// every object was handed out.
//
// JSON lines are read into 256 KiB buffers and handed out as pieces of
// them, without a copy (Parquet rows are written into such buffers as
// JSON); a buffer is read into again once every batch with records in it
// is acknowledged (engine.Ack), and so is the batch's record slice. The memory a run uses is therefore bounded by the batches in
// flight (runtime.max_in_flight and max_in_flight_bytes), not by the size
// of the objects.
//
// It does not follow a bucket for new objects (use a queue of bucket
// notifications for that) and it does not write: see sinks/objectstore.
//
//	source:
//	  objectstore:
//	    url: s3://lake?endpoint=${S3_ENDPOINT}&use_path_style=true&region=us-east-1
//	    prefix: events/
//	    glob: '**/*.jsonl.gz'
//	    time_key_pattern: 'dt=(?P<date>\d{4}-\d{2}-\d{2})'
//	    from: 2026-11-01T00:00:00Z
//	    to: 2026-11-08T00:00:00Z
//	    shard: '${SLUICE_SHARD:-0/1}'
//	    rate: {records: 5000, bytes: 10MiB}
package objectstore
