package objectstore

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sluicehq/sluice/engine"
)

// span is the range of positions an object holds from one stream.
type span struct {
	stream      string
	first, last int64
}

// objectName returns the base name of an object holding recs, without
// its path and extension. It depends only on the source positions of recs,
// so that a replay of the same records gets the same name:
//
//   - records of one stream: <stream hash>-<first offset>-<last offset>,
//     where the stream hash is the first 16 hex digits of the SHA-256 of the
//     stream name and the offsets, the lowest and highest the object holds,
//     are zero-padded to 20 digits so that names sort in offset order;
//   - records of several streams: mix-<hash>, the first 32 hex digits of the
//     SHA-256 of the list of (stream, first offset, last offset), sorted by
//     stream, each field length-prefixed.
//
// Positions do not always tell objects apart (records that a transform
// fanned out of one source record share its position); publish then adds
// a hash of the contents.
func objectName(recs []*engine.Record) string {
	spans := spansOf(recs)
	var b strings.Builder
	if len(spans) == 1 {
		s := spans[0]
		sum := sha256.Sum256([]byte(s.stream))
		b.WriteString(hex.EncodeToString(sum[:8]))
		b.WriteByte('-')
		b.WriteString(formatOffset(s.first))
		b.WriteByte('-')
		b.WriteString(formatOffset(s.last))
		return b.String()
	}
	h := sha256.New()
	var n [8]byte
	for _, s := range spans {
		binary.BigEndian.PutUint64(n[:], uint64(len(s.stream)))
		h.Write(n[:])
		h.Write([]byte(s.stream))
		binary.BigEndian.PutUint64(n[:], uint64(s.first))
		h.Write(n[:])
		binary.BigEndian.PutUint64(n[:], uint64(s.last))
		h.Write(n[:])
	}
	b.WriteString("mix-")
	b.WriteString(hex.EncodeToString(h.Sum(nil)[:16]))
	return b.String()
}

// candidate returns the k-th name publish tries for an object with base
// name base and content hash sum (hex): base itself, then base-<16 hex
// digits of sum>, then base-<16 hex digits>-k.
func candidate(base, sum string, k int) string {
	switch k {
	case 0:
		return base
	case 1:
		return base + "-" + sum[:16]
	}
	return base + "-" + sum[:16] + "-" + strconv.Itoa(k)
}

// spansOf returns the position range of each stream in recs, sorted by
// stream.
func spansOf(recs []*engine.Record) []span {
	var spans []span
	for _, r := range recs {
		p := r.Source
		i, found := slices.BinarySearchFunc(spans, p.Stream, func(s span, stream string) int { return strings.Compare(s.stream, stream) })
		if !found {
			spans = slices.Insert(spans, i, span{stream: p.Stream, first: p.Offset, last: p.Offset})
			continue
		}
		s := &spans[i]
		s.first = min(s.first, p.Offset)
		s.last = max(s.last, p.Offset)
	}
	return spans
}

// maxPathBytes bounds a rendered path, leaving room in S3's 1024-byte
// keys for the name and extension.
const maxPathBytes = 900

// checkPath reports whether a rendered path is a usable object name
// prefix: relative, valid UTF-8 without control characters, without empty,
// . or .. segments, and not too long.
func checkPath(p string) error {
	switch {
	case p == "":
		return nil
	case len(p) > maxPathBytes:
		return pathError(p, "is "+strconv.Itoa(len(p))+" bytes long, at most "+strconv.Itoa(maxPathBytes)+" are allowed")
	case !utf8.ValidString(p):
		return pathError(p, "is not valid UTF-8")
	case strings.HasPrefix(p, "/"):
		return pathError(p, "starts with /")
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f {
			return pathError(p, "holds a control character")
		}
	}
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		switch {
		case seg == "" && i < len(segs)-1:
			return pathError(p, "has an empty segment (a field rendered as an empty string?)")
		case seg == "." || seg == "..":
			return pathError(p, "has a "+seg+" segment")
		}
	}
	return nil
}

type pathErr struct{ path, msg string }

func (e *pathErr) Error() string { return "path " + strconv.Quote(truncate(e.path, 200)) + " " + e.msg }

func pathError(p, msg string) error { return &pathErr{path: p, msg: msg} }
