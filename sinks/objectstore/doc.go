// Package objectstore is a sink that writes records to a bucket (S3 or any
// S3-compatible server, a local directory) as Parquet or JSON-lines
// objects, under paths rendered from the records, such as Hive-style
// partitions of a data lake. Backfills read these objects back with the
// objectstore source.
//
// # Objects
//
// Each Write becomes at least one object per partition: the records of the
// batch are grouped by their rendered path (a batch spanning three days
// gives three objects under three dt=... prefixes), and a partition's
// records are cut into several objects only when they exceed a roll limit
// (roll.bytes, roll.records, roll.age). Every object is complete before
// Write returns: its upload is finished (the multipart upload completed on
// S3, the temporary file renamed on file://), so "Write returned nil"
// means "every record is durable", as the engine requires. An object is
// never appended to and never kept open between Writes. Its size is
// therefore the batch's: to get large files, give the sink a large batch
// policy (the default is 100000 records, 64MiB or one minute), such as
//
//	batch: {count: 500000, bytes: 128MiB, period: 5m}
//
// and let roll cut a batch that is too large for one object. A larger
// batch costs memory for the records in flight, not for the file: a
// Parquet object is built one row group (row_group_size rows) at a time and
// each row group is streamed to the bucket as soon as it is encoded, so the
// sink holds one row group per object being written whatever the size of
// the object (about 120MiB of Go heap for 64k-row groups of 13-column
// telemetry events, measured while streaming 1GiB of JSON into one 39MiB
// object). The batch itself is in memory, as the records were read (and
// as a transform left them), which is what to weigh when choosing the
// batch's bytes. The sink adds little to it: it reads the fields of JSON
// records from their bytes, one record at a time, into a parsed form it
// reuses, not into a map per record (decoded JSON takes several times the
// size of its text); records in other codecs, or JSON it cannot read that
// way, are decoded one at a time. JSONL with a fixed path never looks at
// the fields.
//
// Writing an object is atomic for readers: the bucket publishes it only
// when the upload completes. A Write whose context ends, or whose storage
// fails, aborts the object it was writing, which leaves nothing behind
// (on S3 the incomplete multipart upload is aborted; a process that dies
// mid-upload leaves one that is invisible but stored until a lifecycle rule
// such as AbortIncompleteMultipartUpload removes it). Objects of the same
// Write that were complete stay, and a replay of their records finds them
// under the same names.
//
// # Names
//
// Object names derive from the source positions of the records they
// hold, so that a replay of the same records finds the same names instead
// of adding objects. The key of an object is
//
//	<path><stream hash>-<first offset>-<last offset>.<ext>
//
// where path is the rendered path template, the stream hash is the first
// 16 hex digits of the SHA-256 of the source stream's name (a Kafka topic
// and partition, such as game-events/3), the offsets are the lowest and
// highest the object holds from that stream, zero-padded to 20 digits so
// that names sort in offset order, and ext is .parquet, .jsonl, .jsonl.gz
// or .jsonl.zst. For example
//
//	events/dt=2024-05-01/0a1b2c3d4e5f6071-00000000000001234000-00000000000001333999.parquet
//
// An object whose records come from several streams (a batch of records
// from several Kafka partitions landing in one partition path) is named
//
//	<path>mix-<32 hex digits>.<ext>
//
// from the SHA-256 of its list of (stream, first offset, last offset),
// sorted by stream, each field length-prefixed. The name is thus a pure
// function of the position ranges: the same batch contents give the same
// name, in whatever order the records come.
//
// An object is never replaced by one holding other records. Each object
// carries, in its metadata (sluice-content-sha256), a hash of the records
// it holds: the SHA-256 of the sorted SHA-256s of each record's stream,
// offset and bytes, so independent of their order. Before writing, the
// sink looks at the name: if it is free, the object is created there with
// a conditional write (If-None-Match on S3), so that a concurrent writer is
// not overwritten either; if an object with the same hash is there, the
// records are already durable (a replay) and nothing is written; if another
// object is there, the name gets the first 16 hex digits of the hash,
// <path><name>-<hash>.<ext>, and the same rules apply to it. Two objects of
// one Write with the same name and records (identical records at one
// position) are numbered -2, -3, ... in batch order. Names from positions
// collide only when records share positions: records that a transform
// fanned out of one source record, split across batches, or records from a
// source without positions. Without the hash they would overwrite one
// another; with it, they are kept side by side.
//
// A retry of the same batch is therefore idempotent: a storage error fails
// the records of the unfinished objects, the runtime writes them again,
// and they find the names, and the objects, they had. So is a replay of
// identical records from the source. Not every replay writes nothing new,
// though. A replay whose transforms give other bytes for the same records
// (a time stamp, a lookup) writes them again beside the first objects,
// under hashed names: duplicates rather than a silent replacement. A
// replay after a crash starts at the last committed source position, which
// need not be where the sink's previous batch started, and batches cut by
// the batch period (live traffic that does not fill a batch) are cut
// differently when the same records arrive again as a backlog; such
// objects overlap earlier ones under other names, so the bucket may hold a
// record twice. Batches filled by count or bytes from the same starting
// offset come out the same only when the records reach the sink in the same
// order: a Kafka source under the same batch policy with one transform
// worker (scaling.max_workers: 1); with several workers, records reach the
// sink interleaved in an order that changes from run to run, and so do the
// batches. Readers of the lake should therefore deduplicate on a record ID, such as event_id (QUALIFY ROW_NUMBER() OVER (PARTITION BY
// event_id ...) = 1, or DISTINCT ON), or accept at-least-once. Likewise
// roll.age is measured on record time, which replays identically only when
// the source sets it from the data (Kafka timestamps, event times), not
// from the time of reading. A server without conditional writes (an
// unimplemented error) makes the sink log a warning and write without
// them; it then relies on the look before the write, which two sinks
// racing on one name can both pass. On file:// buckets the check and the
// write of one name are serialized within the process, not between
// processes.
//
// # Parquet
//
// The columns are either declared with schema, a mapping of column names
// to types in the order wanted:
//
//	schema: {event_id: string, ts: timestamp, player_id: int64, latency_ms: float64,
//	         device: {os: string, ver: string}, tags: [string]}
//
// or, without schema, inferred per object from the records it holds. The
// types are string, int64, int32, float64, float32, bool, timestamp
// (milliseconds since the epoch, UTC, taken from an RFC 3339 string, a time
// value or unix milliseconds), date (from a 2006-01-02 or RFC 3339 string or
// a time value), binary (the bytes of a string), {field: type, ...} for a
// struct and [type] for a list. Every column is nullable: a field a record
// lacks, or that is null, is null; a declared schema ignores the fields it
// does not name. Integers go into float columns; a float goes into an
// integer column only without a fraction. Strings are not converted to
// numbers.
//
// Inference gives each field, and each nested field, the type of its first
// non-null value in the object's records: a JSON string is a string (a
// timestamp only when a transform made it a time value), an integer int64,
// a number with a fraction float64, an object a struct of its fields
// (sorted by name, as are the top-level columns), an array a list. A field
// whose values are integers and numbers with a fraction widens to
// float64. A field that is always null is a null column. A record whose
// field holds another type than the one inferred (a string where earlier
// records had numbers) fails permanently with an error naming the field,
// and the other records are written. Since every object infers its own
// schema, objects may differ by the columns they hold; declare the schema
// for a lake whose files must agree.
//
// Compression is zstd by default, or snappy or none. Columns are
// dictionary-encoded, except those whose values are nearly all distinct
// in the object's first row group (IDs, time stamps), which are smaller
// and cheaper to write plainly. The Arrow schema is stored in the file
// (ARROW:schema), so Arrow readers get the exact types back.
//
// # JSON lines
//
// With format jsonl, each record's value is one line, as the pipeline's
// codec encodes it: the bytes as read, unless a transform changed the
// record. A value holding a newline is compacted if it is JSON, and fails
// permanently otherwise. The object may be compressed whole with gzip or
// zstd (.jsonl.gz, .jsonl.zst). Values are never decoded unless the path
// template needs their fields, so broken input can be archived as it came.
//
// # Errors
//
// A record whose path cannot be rendered (a missing field), renders to an
// unusable path (empty, absolute, with . or .. segments), is not an object
// where its fields are needed, or does not fit the Parquet schema fails
// permanently, in a *engine.BatchError, and goes to the dead-letter sink;
// the others are written. A storage error (network, 5xx, throttling,
// permissions) fails the records of the object it hit and of the objects
// of the batch not yet written, retryably, and the runtime retries them,
// which writes the same names again.
//
// # What it is not
//
// It is not a table format: it writes no Iceberg, Delta or Hive metastore
// metadata, never compacts, deletes or rewrites objects, and does not
// coordinate with other writers beyond deterministic names. It is not a
// buffer either: it never holds records between Writes, so object sizes
// follow the batch policy.
//
// # Examples
//
// A Parquet lake partitioned by day and hour, with a declared schema and
// large objects:
//
//	sinks:
//	  lake:
//	    objectstore:
//	      url: "s3://lake?endpoint=${S3_ENDPOINT}&use_path_style=true&region=us-east-1"
//	      path: 'events/dt={{ format_time(ts, "2006-01-02") }}/hour={{ format_time(ts, "15") }}/'
//	      format: parquet
//	      schema: {event_id: string, ts: timestamp, player_id: int64, latency_ms: float64,
//	               device: {os: string, ver: string}, tags: [string]}
//	      roll: {bytes: 256MiB}
//	    batch: {count: 500000, bytes: 128MiB, period: 5m}
//
// A raw archive of the input as compressed JSON lines, one prefix per
// source day, for backfills:
//
//	sinks:
//	  archive:
//	    objectstore: {url: "file:///var/lib/sluice/archive", path: 'raw/{{ format_time(ts, "2006/01/02") }}/', format: jsonl, compression: zstd}
//
// Metrics: sluice_objectstore_objects_written_total and
// sluice_objectstore_bytes_written_total (object bytes after format and
// compression), labelled with pipeline and component.
package objectstore
