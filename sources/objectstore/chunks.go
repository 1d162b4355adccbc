package objectstore

import (
	"sync/atomic"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/internal/freelist"
)

// The buffers a JSON-lines object is read into, and the record slices of
// the batches, are recycled once the batches that use them are
// acknowledged: the runtime acknowledges a batch after the last sink's
// Write with its records has returned, and a sink keeps nothing of a batch
// after Write returns (engine.Sink). Reading a fresh 256 KiB chunk for
// every two batches instead cost a large allocation, its zeroing, page
// faults, and collections paced by that garbage: about a sixth of the CPU
// of a file → filter → drop pipeline.

// readChunk is a buffer lines are read into. refs counts the decoder that
// reads into it and each batch with records in it; the last release puts
// it back in its pool.
type readChunk struct {
	buf  []byte
	refs atomic.Int32
	pool *recycler
}

// release drops one reference.
func (c *readChunk) release() {
	if c.refs.Add(-1) == 0 && c.pool != nil {
		c.pool.putChunk(c)
	}
}

// chunkHands is kept by a decoder that hands out pieces of chunks: the
// chunk it fills, and the chunks it handed pieces of since the last
// takeChunks, each with a reference for the batch they go in. Without a
// recycler it keeps no account, and chunks are left to the collector.
type chunkHands struct {
	pool   *recycler
	cur    *readChunk // the chunk being filled; nil before the first
	handed []*readChunk
}

// handOut notes that a piece of cur was handed out.
func (h *chunkHands) handOut() {
	if h.pool != nil && (len(h.handed) == 0 || h.handed[len(h.handed)-1] != h.cur) {
		h.cur.refs.Add(1)
		h.handed = append(h.handed, h.cur)
	}
}

// nextChunk makes a chunk with room for at least n bytes the one being filled,
// starting with a copy of carry (a part of the chunk before), lets go of
// the one before, and returns it: a recycled one when n fits in lineChunk
// bytes.
func (h *chunkHands) nextChunk(n int, carry []byte) *readChunk {
	var c *readChunk
	if n <= lineChunk {
		c = h.pool.chunk()
	} else {
		c = &readChunk{buf: make([]byte, 0, n)} // a long line's own
		c.refs.Store(1)
	}
	c.buf = append(c.buf, carry...)
	h.letGo()
	h.cur = c
	return c
}

// letGo drops the reference to the chunk being filled.
func (h *chunkHands) letGo() {
	if h.cur != nil {
		h.cur.release()
		h.cur = nil
	}
}

// takeChunks appends to dst the chunks of the pieces handed out since the
// last call, each with a reference the caller releases once nothing uses
// those pieces.
func (h *chunkHands) takeChunks(dst []*readChunk) []*readChunk {
	dst = append(dst, h.handed...)
	clear(h.handed)
	h.handed = h.handed[:0]
	return dst
}

// recyclerSize is how many chunks, and record slices, a recycler keeps
// for reuse. Reading waits for acknowledgements once max_in_flight batches
// are out, so in a steady state a few are free at a time; a burst of
// acknowledgements beyond this leaves the rest to the collector.
const recyclerSize = 16

// recycler keeps free chunks and record slices for reuse. It is safe for
// concurrent use: acknowledgements put, the reading goroutine gets.
type recycler struct {
	chunks chan *readChunk
	recs   *freelist.List[engine.Record]
	made   atomic.Int64 // chunks made rather than reused
}

func newRecycler() *recycler {
	return &recycler{chunks: make(chan *readChunk, recyclerSize), recs: freelist.New[engine.Record](recyclerSize)}
}

// chunk returns an empty chunk of lineChunk bytes holding one reference,
// for the caller. A nil recycler makes a new one every time.
func (p *recycler) chunk() *readChunk {
	var c *readChunk
	if p != nil {
		select {
		case c = <-p.chunks:
		default:
		}
	}
	if c == nil {
		c = &readChunk{buf: make([]byte, 0, lineChunk), pool: p}
		if p != nil {
			p.made.Add(1)
		}
	}
	c.buf = c.buf[:0]
	c.refs.Store(1)
	return c
}

func (p *recycler) putChunk(c *readChunk) {
	if cap(c.buf) != lineChunk {
		return // grown for a long line: not worth keeping
	}
	select {
	case p.chunks <- c:
	default:
	}
}

// records returns an empty record slice with room for n records, all zero.
func (p *recycler) records(n int) []engine.Record {
	if p != nil {
		if recs := p.recs.Get(n); recs != nil {
			return recs
		}
	}
	return make([]engine.Record, 0, n)
}

// putRecords takes back a batch's record slice, which nothing uses any
// more.
func (p *recycler) putRecords(recs []engine.Record) {
	if p != nil {
		p.recs.Put(recs)
	}
}
