package reference

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Stats is what a reference run did.
type Stats struct {
	Read     int64 // lines read, not counting lines that are only white space
	Kept     int64 // events that passed the filter and were set
	Errors   int64 // lines that did not decode, and kept events whose ts did not parse
	Bytes    int64 // bytes read
	Checksum int64 // keeps the work observable: over every set day and region
}

// chunkSize is the size of the chunks of whole lines the workers take: about
// 4,500 lines, so handing chunks over costs next to nothing, and small
// enough to stay in cache between the reader and a worker. 1 MiB was
// faster than 256 KiB, 512 KiB, 2, 4 and 16 MiB.
const chunkSize = 1 << 20

// Run runs scenario (a) by hand over the JSONL file at path with workers
// worker goroutines (workers < 1 means 2).
//
// The calling goroutine reads the file and hands chunks of whole lines over
// a channel to the workers, which decode, filter and set each line, then
// drop it. On Linux the file is mapped into memory and the chunks are
// slices of it; elsewhere, or if mapping fails, it is read into a few
// recycled buffers. A line that does not decode, or a kept event whose ts
// does not parse, counts in Errors and the run goes on. Run stops early
// when ctx is done and returns the stats so far with ctx's error; an error
// opening or reading the file is returned too.
func Run(ctx context.Context, path string, workers int) (Stats, error) {
	return run(ctx, path, options{workers: workers, size: chunkSize, decode: decodeEvent})
}

// options are Run's knobs, for tests and benchmarks.
type options struct {
	workers int
	size    int                        // bytes of a chunk; a longer line makes its chunk longer
	decode  func([]byte, *Event) error // decodeEvent unless comparing decoders
	noMap   bool                       // read the file even where it could be mapped
}

func run(ctx context.Context, path string, o options) (Stats, error) {
	if o.workers < 1 {
		o.workers = 2
	}
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()

	var data []byte
	if !o.noMap {
		var unmap func()
		if data, unmap = mapFile(f); data != nil {
			defer unmap() // after the workers are done
		}
	}
	// Buffers read into go back to free once processed. Every buffer is
	// with the reader, in full, with a worker or in free, and free has room
	// for all of them, so giving one back never blocks.
	var free chan []byte
	if data == nil {
		nbuf := o.workers + 2
		free = make(chan []byte, nbuf)
		for range nbuf {
			free <- make([]byte, o.size)
		}
	}
	full := make(chan []byte, o.workers)
	ws := make([]worker, o.workers)
	var wg sync.WaitGroup
	for i := range ws {
		w := &ws[i]
		w.decode = o.decode
		wg.Go(func() {
			for b := range full {
				if ctx.Err() == nil {
					w.chunk(b)
				}
				if free != nil {
					free <- b[:cap(b)]
				}
			}
			w.ev = Event{} // it points into the chunks
		})
	}
	var n int64
	if data != nil {
		n, err = split(ctx, data, o.size, full)
	} else {
		n, err = read(ctx, f, full, free)
	}
	close(full)
	wg.Wait()

	st := Stats{Bytes: n}
	for i := range ws {
		s := &ws[i].stats
		st.Read += s.Read
		st.Kept += s.Kept
		st.Errors += s.Errors
		st.Checksum += s.Checksum
	}
	if err == nil {
		err = ctx.Err()
	}
	return st, err
}

// split sends data to full in chunks of about size bytes, each cut after a
// newline, and returns the number of bytes sent.
func split(ctx context.Context, data []byte, size int, full chan<- []byte) (int64, error) {
	var total int64
	for len(data) > 0 {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n := len(data)
		if size < n {
			if i := bytes.IndexByte(data[size:], '\n'); i >= 0 {
				n = size + i + 1
			}
		}
		full <- data[:n:n]
		data = data[n:]
		total += int64(n)
	}
	return total, nil
}

// read reads r into buffers taken from free and sends each to full cut
// after its last newline; the partial line after it starts the next
// buffer. It returns the number of bytes read.
func read(ctx context.Context, r io.Reader, full chan<- []byte, free chan []byte) (int64, error) {
	var total int64
	buf := <-free
	held := 0 // bytes of a partial line at the start of buf
	for {
		if err := ctx.Err(); err != nil {
			free <- buf
			return total, err
		}
		n, err := io.ReadFull(r, buf[held:])
		total += int64(n)
		end := held + n
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			if end > 0 {
				full <- buf[:end]
			} else {
				free <- buf
			}
			return total, nil
		case err != nil:
			free <- buf
			return total, fmt.Errorf("read: %w", err)
		}
		cut := bytes.LastIndexByte(buf, '\n') + 1
		if cut == 0 {
			// One line fills the buffer: grow it in place of the old one.
			grown := make([]byte, 2*len(buf))
			copy(grown, buf)
			buf, held = grown, end
			continue
		}
		var next []byte
		select {
		case next = <-free:
		case <-ctx.Done():
			free <- buf
			return total, ctx.Err()
		}
		if len(next) < len(buf) {
			next = make([]byte, len(buf)) // buf had grown
		}
		held = copy(next, buf[cut:])
		full <- buf[:cut]
		buf = next
	}
}
