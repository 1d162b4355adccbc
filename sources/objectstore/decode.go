package objectstore

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/klauspost/compress/zstd"
)

// decoder reads the records of one object in order.
type decoder interface {
	// next returns the next record's value and offset, or io.EOF. The
	// value is not reused.
	next() (value []byte, offset int64, err error)
	// pos returns the offset to resume from once every record returned
	// so far is done.
	pos() int64
	close() error
}

// formatOf returns the format of key under the configured format.
func formatOf(cfgFormat, key string) string {
	if cfgFormat != "auto" {
		return cfgFormat
	}
	base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(key, ".gz"), ".zst"), ".zstd")
	switch {
	case strings.HasSuffix(base, ".parquet"):
		return "parquet"
	case strings.HasSuffix(base, ".csv"):
		return "csv"
	}
	return "jsonl"
}

// compressionOf returns the compression of key under the configured one.
func compressionOf(cfg, key string) string {
	if cfg != "auto" {
		return cfg
	}
	switch {
	case strings.HasSuffix(key, ".gz"):
		return "gzip"
	case strings.HasSuffix(key, ".zst"), strings.HasSuffix(key, ".zstd"):
		return "zstd"
	}
	return "none"
}

// decodeOptions are what a decoder needs besides the bytes.
type decodeOptions struct {
	format, compression string
	delimiter           rune
	batchSize           int
	skip                int64     // records to skip: the resume offset
	pool                *recycler // where JSON lines' chunks come from
}

// newDecoder returns a decoder over r, which it closes (with closer) when
// closed, positioned at opts.skip.
func newDecoder(ctx context.Context, r io.Reader, closer io.Closer, opts decodeOptions) (decoder, error) {
	if opts.format == "parquet" {
		data, err := io.ReadAll(r)
		closer.Close()
		if err != nil {
			return nil, err
		}
		return newParquetDecoder(ctx, data, opts)
	}
	closers := []io.Closer{closer}
	switch opts.compression {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			closer.Close()
			return nil, fmt.Errorf("gzip: %w", err)
		}
		r = zr
		closers = append(closers, zr)
	case "zstd":
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			closer.Close()
			return nil, fmt.Errorf("zstd: %w", err)
		}
		r = zr
		closers = append(closers, closerFunc(func() error { zr.Close(); return nil }))
	}
	if opts.format == "csv" {
		return newCSVDecoder(bufio.NewReaderSize(r, 64<<10), closers, opts)
	}
	d := &lineDecoder{r: r, closers: closers, chunkHands: chunkHands{pool: opts.pool}}
	for d.line < opts.skip {
		if _, err := d.rawLine(); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			d.close()
			return nil, err
		}
	}
	return d, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

func closeAll(cs []io.Closer) error {
	var errs []error
	for i := len(cs) - 1; i >= 0; i-- {
		errs = append(errs, cs[i].Close())
	}
	return errors.Join(errs...)
}

// lineDecoder reads JSON lines; the offset is the 0-based line number,
// and blank lines are skipped but counted. The object is read straight
// into chunks of lineChunk bytes, and each line handed out is a piece of
// its chunk; only a line cut by the end of a chunk is copied, to the start
// of the next one. With a recycler, the chunks come from it and go back
// to it once the decoder and every batch with lines in them let go: the
// decoder takes a reference for the lines it hands out, which takeChunks
// gives to the batch they go in.
type lineDecoder struct {
	r          io.Reader
	line       int64
	closers    []io.Closer
	chunkHands        // cur is the chunk whose array chunk is
	chunk      []byte // lines not yet handed out are chunk[start:]
	start      int
	scanned    int   // chunk[start:scanned] has no newline
	eof        bool  // r is done
	readErr    error // r failed: returned once the lines before are out
}

// lineChunk is the size of the chunks the object is read into.
const lineChunk = 256 << 10

func (d *lineDecoder) next() ([]byte, int64, error) {
	for {
		b, err := d.rawLine()
		if err != nil {
			return nil, 0, err
		}
		v := b
		if n := len(v); n > 0 && v[n-1] == '\n' {
			v = v[:n-1]
		}
		if n := len(v); n == 0 || v[0] <= ' ' || v[0] >= utf8.RuneSelf || v[n-1] <= ' ' || v[n-1] >= utf8.RuneSelf {
			v = bytes.TrimSpace(v) // only a line that may have white space around it
		}
		if len(v) > 0 {
			d.handOut()
			return v, d.line - 1, nil
		}
	}
}

// rawLine returns the next line with its newline, if it has one, and
// counts it.
func (d *lineDecoder) rawLine() ([]byte, error) {
	for {
		if i := bytes.IndexByte(d.chunk[d.scanned:], '\n'); i >= 0 {
			end := d.scanned + i + 1
			b := d.chunk[d.start:end:end]
			d.start, d.scanned = end, end
			d.line++
			return b, nil
		}
		d.scanned = len(d.chunk)
		if d.eof {
			if d.start < len(d.chunk) {
				b := d.chunk[d.start:len(d.chunk):len(d.chunk)]
				d.start = len(d.chunk)
				d.line++
				return b, nil
			}
			if d.readErr != nil {
				return nil, d.readErr
			}
			return nil, io.EOF
		}
		d.fill()
	}
}

// fill reads more of the object into the room left in the current chunk,
// or, when it is full, into a new chunk after the part of a line the
// current one ends with. The lines handed out have no spare capacity, so
// reading into the room does not touch them.
func (d *lineDecoder) fill() {
	if len(d.chunk) == cap(d.chunk) {
		part := d.chunk[d.start:]
		d.chunk, d.start, d.scanned = d.nextChunk(max(lineChunk, 2*len(part)), part).buf, 0, len(part)
	}
	for len(d.chunk) < cap(d.chunk) {
		n, err := d.r.Read(d.chunk[len(d.chunk):cap(d.chunk)])
		d.chunk = d.chunk[:len(d.chunk)+n]
		if err != nil {
			d.eof = true
			if !errors.Is(err, io.EOF) {
				d.readErr = err
			}
			return
		}
		if n == 0 {
			return // let the caller scan; a reader that keeps giving nothing is read again
		}
	}
}

func (d *lineDecoder) pos() int64 { return d.line }

func (d *lineDecoder) close() error {
	d.letGo()
	d.chunk = nil
	return closeAll(d.closers)
}

// csvDecoder reads CSV rows after a header; each row becomes a JSON object
// of strings keyed by the header, fields beyond it keyed column_N (1-based).
// The offset is the 0-based row number after the header.
type csvDecoder struct {
	r       *csv.Reader
	header  []string
	row     int64
	closers []io.Closer
}

func newCSVDecoder(r io.Reader, closers []io.Closer, opts decodeOptions) (decoder, error) {
	cr := csv.NewReader(r)
	cr.Comma = opts.delimiter
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	d := &csvDecoder{r: cr, closers: closers}
	h, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return d, nil // empty object
	}
	if err != nil {
		d.close()
		return nil, fmt.Errorf("csv header: %w", err)
	}
	d.header = h
	if len(h) > 0 {
		d.header[0] = strings.TrimPrefix(h[0], "\ufeff")
	}
	for d.row < opts.skip {
		if _, err := cr.Read(); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			d.close()
			return nil, err
		}
		d.row++
	}
	return d, nil
}

func (d *csvDecoder) next() ([]byte, int64, error) {
	if d.header == nil {
		return nil, 0, io.EOF
	}
	fields, err := d.r.Read()
	if err != nil {
		return nil, 0, err
	}
	n := d.row
	d.row++
	v := make([]byte, 0, 64)
	v = append(v, '{')
	for i, f := range fields {
		if i > 0 {
			v = append(v, ',')
		}
		if i < len(d.header) {
			v = appendString(v, d.header[i])
		} else {
			v = appendString(v, "column_"+strconv.Itoa(i+1))
		}
		v = append(v, ':')
		v = appendString(v, f)
	}
	return append(v, '}'), n, nil
}

func (d *csvDecoder) pos() int64   { return d.row }
func (d *csvDecoder) close() error { return closeAll(d.closers) }

// parquetDecoder reads the rows of a Parquet file held in memory, a record
// batch at a time; the offset is the 0-based row number in the file.
type parquetDecoder struct {
	pf    *file.Reader
	rr    pqarrow.RecordReader
	rec   arrow.RecordBatch
	i     int // next row of rec
	row   int64
	done  bool
	buf   []byte // the row being written
	chunk []byte // rows handed out share it: cur's array
	chunkHands
}

func newParquetDecoder(ctx context.Context, data []byte, opts decodeOptions) (decoder, error) {
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	d := &parquetDecoder{pf: pf, chunkHands: chunkHands{pool: opts.pool}}
	if opts.skip >= pf.NumRows() {
		d.row, d.done = pf.NumRows(), true
		return d, nil
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(opts.batchSize)}, memory.DefaultAllocator)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("parquet: %w", err)
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("parquet: %w", err)
	}
	d.rr = rr
	if opts.skip > 0 {
		if err := rr.SeekToRow(opts.skip); err != nil {
			d.close()
			return nil, fmt.Errorf("parquet: seek to row %d: %w", opts.skip, err)
		}
		d.row = opts.skip
	}
	return d, nil
}

func (d *parquetDecoder) next() ([]byte, int64, error) {
	for d.rec == nil || d.i >= int(d.rec.NumRows()) {
		if d.done || !d.rr.Next() {
			d.done = true
			if d.rr != nil {
				if err := d.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
					return nil, 0, fmt.Errorf("parquet: %w", err)
				}
			}
			return nil, 0, io.EOF
		}
		d.rec, d.i = d.rr.RecordBatch(), 0
	}
	// Rows are written into a scratch buffer, then copied into chunks of
	// lineChunk bytes that the records share, rather than each allocated
	// and grown on its own.
	d.buf = appendRow(d.buf[:0], d.rec, d.i)
	if len(d.buf) > cap(d.chunk)-len(d.chunk) {
		d.chunk = d.nextChunk(max(lineChunk, len(d.buf)), nil).buf
	}
	start := len(d.chunk)
	d.chunk = append(d.chunk, d.buf...)
	v := d.chunk[start:len(d.chunk):len(d.chunk)]
	d.handOut()
	n := d.row
	d.i++
	d.row++
	return v, n, nil
}

func (d *parquetDecoder) pos() int64 { return d.row }

func (d *parquetDecoder) close() error {
	d.letGo()
	d.chunk = nil
	if d.rr != nil {
		d.rr.Release()
		d.rr = nil
	}
	return d.pf.Close()
}
