package objectstore

import (
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/zstd"
)

// The Parquet writer compresses each page (at most about 1MiB: the data
// page and dictionary page limits) on its own, with a pooled zstd encoder
// of the default 8MiB window, whose history buffer takes twice that: each
// encoder in the pool holds 16MiB that a page never uses, and the pool is
// refilled after garbage collections empty it. That was 32MiB of a
// backfill's live heap, and some 50MiB of its peak RSS. zstdCodec encodes
// pages with a 1MiB window instead, which gives the same compressed pages
// for pages up to 1MiB (a larger page only finds no match further back
// than 1MiB), readable by any zstd decoder; decoding is arrow-go's own.
const zstdWindow = 1 << 20

// zstdCodec is the zstd codec of arrow-go's Parquet package, encoding
// pages with zstdWindow.
type zstdCodec struct {
	base  zstdBase
	pools sync.Map // zstd.EncoderLevel to *sync.Pool of *zstd.Encoder
}

// zstdBase is what arrow-go's zstd codec implements, and what the
// Parquet readers and writers look for.
type zstdBase interface {
	compress.ErrorCodec
	compress.StreamingCodec
}

var useZstdCodec sync.Once

// registerZstdCodec makes arrow-go's Parquet writers compress zstd pages
// with zstdCodec. arrow-go keeps its codecs in a process-wide table that
// it does not lock, so this is done once, from Register and New, before
// the pipeline reads or writes any Parquet.
func registerZstdCodec() {
	useZstdCodec.Do(func() {
		c, err := compress.GetCodec(compress.Codecs.Zstd)
		if err != nil {
			return
		}
		if base, ok := c.(zstdBase); ok {
			compress.RegisterCodec(compress.Codecs.Zstd, &zstdCodec{base: base})
		}
	})
}

// Encode compresses src at the default level.
func (c *zstdCodec) Encode(dst, src []byte) []byte {
	return c.EncodeLevel(dst, src, compress.DefaultCompressionLevel)
}

// EncodeLevel compresses src at a zstd level, as arrow-go's codec does.
func (c *zstdCodec) EncodeLevel(dst, src []byte, level int) []byte {
	l := zstd.SpeedDefault
	if level != compress.DefaultCompressionLevel {
		l = zstd.EncoderLevelFromZstd(level)
	}
	p, _ := c.pools.Load(l)
	if p == nil {
		p, _ = c.pools.LoadOrStore(l, &sync.Pool{New: func() any {
			enc, err := zstd.NewWriter(nil, zstd.WithZeroFrames(true), zstd.WithEncoderLevel(l),
				zstd.WithEncoderConcurrency(1), zstd.WithAllLitEntropyCompression(true), zstd.WithWindowSize(zstdWindow))
			if err != nil {
				panic(err) // the options are constant and valid
			}
			return enc
		}})
	}
	pool := p.(*sync.Pool)
	enc := pool.Get().(*zstd.Encoder)
	defer pool.Put(enc)
	return enc.EncodeAll(src, dst[:0])
}

// CompressBound is arrow-go's.
func (c *zstdCodec) CompressBound(n int64) int64 { return c.base.CompressBound(n) }

// Decode is arrow-go's.
func (c *zstdCodec) Decode(dst, src []byte) []byte { return c.base.Decode(dst, src) }

// DecodeWithError is arrow-go's.
func (c *zstdCodec) DecodeWithError(dst, src []byte) ([]byte, error) {
	return c.base.DecodeWithError(dst, src)
}

// NewReader is arrow-go's.
func (c *zstdCodec) NewReader(r io.Reader) io.ReadCloser { return c.base.NewReader(r) }

// NewWriter is arrow-go's.
func (c *zstdCodec) NewWriter(w io.Writer) io.WriteCloser { return c.base.NewWriter(w) }

// NewWriterLevel is arrow-go's.
func (c *zstdCodec) NewWriterLevel(w io.Writer, level int) (io.WriteCloser, error) {
	return c.base.NewWriterLevel(w, level)
}
