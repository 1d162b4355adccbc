package objectstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"gocloud.dev/blob"
)

// bufferSize is the write buffer between an encoder and the blob writer,
// so that the many small writes of an encoder become few large ones.
const bufferSize = 1 << 20

// object is one object being written. Records go in through addRow
// (Parquet) or addLine (JSONL) and are encoded and streamed to the bucket
// as they come: a Parquet object holds one row group in memory, a JSONL
// object a buffer. Nothing is visible in the bucket until commit returns
// nil; abort, or a commit that fails, leaves the bucket as it was.
type object struct {
	key    string
	cancel context.CancelFunc
	bw     *blob.Writer
	count  countingWriter
	buf    *bufio.Writer
	pq     *parquetEncoder
	jl     *jsonlEncoder
	done   bool
}

// objectOptions says how objects are encoded.
type objectOptions struct {
	format       string
	compression  string
	contentType  string
	rowGroupSize int
	metadata     map[string]string
	ifNotExist   bool // fail, with gcerrors.FailedPrecondition, if the key exists
}

// createObject starts writing the object key. For Parquet, root is the
// object's schema. ctx bounds the whole write, up to commit; cancelling it
// aborts the write.
func createObject(ctx context.Context, b *blob.Bucket, key string, root *colType, opts objectOptions) (*object, error) {
	wctx, cancel := context.WithCancel(ctx)
	bw, err := b.NewWriter(wctx, key, &blob.WriterOptions{
		ContentType: opts.contentType,
		Metadata:    opts.metadata,
		IfNotExist:  opts.ifNotExist,
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("create object %s: %w", key, err)
	}
	o := &object{key: key, cancel: cancel, bw: bw}
	o.count.w = bw
	o.buf = bufio.NewWriterSize(&o.count, bufferSize)
	switch opts.format {
	case FormatParquet:
		o.pq, err = newParquetEncoder(o.buf, root, opts)
	default:
		o.jl, err = newJSONLEncoder(o.buf, opts.compression)
	}
	if err != nil {
		o.abort()
		return nil, fmt.Errorf("create object %s: %w", key, err)
	}
	return o, nil
}

// addRow appends a row that checkRow accepted for the object's schema.
func (o *object) addRow(row map[string]any) error {
	if err := o.pq.add(row); err != nil {
		return fmt.Errorf("write object %s: %w", o.key, err)
	}
	return nil
}

// addTree appends the row w has parsed, which its walks accepted for the
// object's schema.
func (o *object) addTree(w *treeWalker) error {
	if err := o.pq.addTree(w); err != nil {
		return fmt.Errorf("write object %s: %w", o.key, err)
	}
	return nil
}

// addLine appends one line; line must not hold a newline.
func (o *object) addLine(line []byte) error {
	if err := o.jl.add(line); err != nil {
		return fmt.Errorf("write object %s: %w", o.key, err)
	}
	return nil
}

// commit finishes the format (the Parquet footer, the end of the
// compressed stream), flushes, and closes the blob writer, which publishes
// the object (it completes the multipart upload on S3, renames the
// temporary file on file://). It returns the size of the object.
func (o *object) commit() (int64, error) {
	if o.done {
		return 0, errors.New("object already closed")
	}
	var err error
	if o.pq != nil {
		err = o.pq.close()
	} else {
		err = o.jl.close()
	}
	if err == nil {
		err = o.buf.Flush()
	}
	if err != nil {
		o.abort()
		return 0, fmt.Errorf("write object %s: %w", o.key, err)
	}
	o.done = true
	err = o.bw.Close()
	o.cancel()
	if err != nil {
		return 0, fmt.Errorf("close object %s: %w", o.key, err)
	}
	return o.count.n, nil
}

// abort drops the object: the blob writer's context is cancelled before it
// is closed, which gocloud turns into an aborted upload.
func (o *object) abort() {
	if o.done {
		return
	}
	o.done = true
	if o.pq != nil {
		o.pq.release()
	}
	if o.jl != nil {
		o.jl.release()
	}
	o.cancel()
	_ = o.bw.Close() // reports the cancellation; nothing was published
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// parquetEncoder builds row groups of rowGroupSize rows in Arrow builders
// and writes each one, when full, as a row group through pqarrow: memory
// holds one row group, whatever the size of the file.
type parquetEncoder struct {
	w         io.Writer
	sc        *arrow.Schema
	opts      objectOptions
	fw        *pqarrow.FileWriter // made with the first row group
	rb        *array.RecordBuilder
	rows      rowBuilder
	n         int
	groupSize int
}

var parquetCodecs = map[string]compress.Compression{
	"zstd":   compress.Codecs.Zstd,
	"snappy": compress.Codecs.Snappy,
	"none":   compress.Codecs.Uncompressed,
}

func newParquetEncoder(w io.Writer, root *colType, opts objectOptions) (*parquetEncoder, error) {
	if len(root.fields) == 0 {
		return nil, errors.New("a Parquet object needs at least one column")
	}
	sc := arrowSchema(root)
	if _, err := pqarrow.ToParquet(sc, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps()); err != nil {
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	return &parquetEncoder{w: w, sc: sc, opts: opts, rb: rb, rows: rowBuilder{root: root, rb: rb}, groupSize: opts.rowGroupSize}, nil
}

// open starts the file, with the first row group in hand, rec (nil if the
// file has no rows): columns whose values are nearly all distinct in it,
// such as IDs and time stamps, are written without a dictionary.
func (e *parquetEncoder) open(rec arrow.RecordBatch) error {
	props := []parquet.WriterProperty{
		parquet.WithCompression(parquetCodecs[e.opts.compression]),
		parquet.WithMaxRowGroupLength(int64(e.opts.rowGroupSize)),
		parquet.WithAllocator(memory.DefaultAllocator),
	}
	if rec != nil {
		for _, path := range distinctColumns(e.sc, rec) {
			props = append(props, parquet.WithDictionaryFor(path, false))
		}
	}
	fw, err := pqarrow.NewFileWriter(e.sc, e.w, parquet.NewWriterProperties(props...), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return fmt.Errorf("parquet writer: %w", err)
	}
	e.fw = fw
	return nil
}

func (e *parquetEncoder) add(row map[string]any) error {
	e.rows.appendRow(row)
	e.n++
	if e.n >= e.groupSize {
		return e.flush()
	}
	return nil
}

func (e *parquetEncoder) addTree(w *treeWalker) error {
	w.appendRow(e.rows.root, e.rb)
	e.n++
	if e.n >= e.groupSize {
		return e.flush()
	}
	return nil
}

// flush writes the rows built so far as one row group.
func (e *parquetEncoder) flush() error {
	if e.n == 0 {
		return nil
	}
	rec := e.rb.NewRecordBatch()
	defer rec.Release()
	e.n = 0
	if e.fw == nil {
		if err := e.open(rec); err != nil {
			return err
		}
	}
	if err := e.fw.Write(rec); err != nil {
		return fmt.Errorf("write row group: %w", err)
	}
	return nil
}

// close writes the last row group and the footer. The underlying writer
// is not closed: it is not an io.Closer.
func (e *parquetEncoder) close() error {
	err := e.flush()
	if err == nil && e.fw == nil {
		err = e.open(nil)
	}
	if err == nil {
		err = e.fw.Close()
	}
	e.rb.Release()
	e.rb = nil
	if err != nil {
		return fmt.Errorf("finish parquet: %w", err)
	}
	return nil
}

func (e *parquetEncoder) release() {
	if e.rb != nil {
		e.rb.Release()
		e.rb = nil
	}
}

// jsonlEncoder writes one record per line, through a compressor if set.
type jsonlEncoder struct {
	w   io.Writer
	gz  *gzip.Writer
	zs  *zstd.Encoder
	nl  [1]byte
	err error
}

var (
	gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}
	zstdWriters = sync.Pool{New: func() any {
		// One goroutine per encoder: the sink's own concurrency spreads
		// the work, and memory stays small.
		w, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
		return w
	}}
)

func newJSONLEncoder(w io.Writer, compression string) (*jsonlEncoder, error) {
	e := &jsonlEncoder{w: w, nl: [1]byte{'\n'}}
	switch compression {
	case "gzip":
		e.gz = gzipWriters.Get().(*gzip.Writer)
		e.gz.Reset(w)
		e.w = e.gz
	case "zstd":
		e.zs = zstdWriters.Get().(*zstd.Encoder)
		e.zs.Reset(w)
		e.w = e.zs
	case "none", "":
	default:
		return nil, fmt.Errorf("unknown compression %q", compression)
	}
	return e, nil
}

func (e *jsonlEncoder) add(line []byte) error {
	if e.err != nil {
		return e.err
	}
	if _, err := e.w.Write(line); err != nil {
		e.err = err
		return err
	}
	_, e.err = e.w.Write(e.nl[:])
	return e.err
}

func (e *jsonlEncoder) close() error {
	var err error
	switch {
	case e.gz != nil:
		err = e.gz.Close()
	case e.zs != nil:
		err = e.zs.Close()
	}
	e.release()
	if e.err != nil {
		return e.err
	}
	return err
}

// release returns the compressor to its pool, detached from the writer.
func (e *jsonlEncoder) release() {
	if e.gz != nil {
		e.gz.Reset(io.Discard)
		gzipWriters.Put(e.gz)
		e.gz = nil
	}
	if e.zs != nil {
		e.zs.Reset(io.Discard)
		zstdWriters.Put(e.zs)
		e.zs = nil
	}
}

// formatOffset formats an offset zero-padded to 20 digits, so that names of
// one stream sort in offset order.
func formatOffset(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 || len(s) >= 20 {
		return s
	}
	const zeros = "00000000000000000000"
	return zeros[:20-len(s)] + s
}
