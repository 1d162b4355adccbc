package field

import "unsafe"

// Arena hands out the bytes of strings that code makes for many records at
// once, such as the values a transform sets on a batch, from a few large
// blocks instead of one allocation each. Strings made from an arena share
// its blocks, which stay alive as long as any of those strings does; an
// arena never reuses memory it handed out. The zero Arena is ready to use.
// An Arena is not safe for concurrent use.
type Arena struct {
	block []byte
}

// arenaBlock is the size of an arena's blocks. Strings longer than a
// quarter of it get a block of their own.
const arenaBlock = 16 << 10

// Bytes returns a slice of length 0 and capacity at least n, to be filled
// with append and turned into a string with String. Nothing else may be
// done with it.
func (a *Arena) Bytes(n int) []byte {
	if a == nil || n > arenaBlock/4 {
		return make([]byte, 0, n)
	}
	if cap(a.block)-len(a.block) < n {
		a.block = make([]byte, 0, arenaBlock)
	}
	return a.block[len(a.block):len(a.block):cap(a.block)]
}

// String returns b, which was got from Bytes and filled since, as a
// string, and takes its bytes out of the arena for good.
func (a *Arena) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if a != nil && cap(a.block) > 0 && len(b) <= cap(a.block)-len(a.block) &&
		unsafe.SliceData(b) == unsafe.SliceData(a.block[len(a.block):cap(a.block)]) {
		a.block = a.block[:len(a.block)+len(b)]
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
