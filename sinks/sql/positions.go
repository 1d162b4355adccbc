package sql

import (
	"slices"

	"github.com/sluicehq/sluice/engine"
)

// Exactly-once skipping.
//
// The positions table holds, per stream, the largest offset written. A
// record at or below it is usually a replay, written before, and skipped.
// But the runtime's transform workers may hand the sink a later batch of a
// stream before an earlier one; the earlier one's records are then at or
// below the stored offset without having been written, and skipping them
// would lose them. So the sink remembers, per stream, the offsets it
// committed itself in a recent window (windowOffsets records), and skips a
// record at or below the stored offset only when
//
//   - it is one of them (a replay within the process: a partition revoked
//     and assigned again, a retried write whose commit did happen), or
//   - it is at or below the stream's baseline: the offset stored when the
//     sink first locked the stream, or when it found that another writer
//     (another instance of the pipeline, after a rebalance) had stored more
//     than it did; the baseline also rises past the offsets that leave the
//     window, or
//   - it is above every offset the sink committed (stored by another writer,
//     or by a commit whose answer was lost but that was applied).
//
// Any other record at or below the stored offset arrived out of order and
// is written. What this cannot see: a crash loses the window, so records
// that were still out of order then are skipped on the replay (below the
// stored offset, which is the new baseline), and so are records that
// arrive more than windowOffsets records late. Hence exactly_once asks for
// ordered delivery (one transform worker).

// windowOffsets is how many of its own offsets per stream the sink keeps.
const windowOffsets = 1 << 16

// streamState is what the sink knows of one stream, guarded by Sink.emu.
type streamState struct {
	baseline int64          // skip records at or below it
	own      int64          // the offset this sink stored last, set before its commit
	hi       int64          // the largest offset this sink committed or failed
	recent   map[int64]bool // offsets this sink committed or failed, in the window
	commits  [][]int64      // the same, per commit, oldest first
	held     int            // offsets in commits
}

// skips decides, under the lock of the positions rows, which records of b
// to skip, given the offsets stored for their streams. It starts a new
// epoch for a stream it has not seen or that another writer moved past it.
func (s *Sink) skips(b engine.Batch, stored map[string]int64) (skip []bool, late int) {
	s.emu.Lock()
	defer s.emu.Unlock()
	states := make(map[string]*streamState, len(stored))
	for st, off := range stored {
		e := s.streams[st]
		switch {
		case e == nil || off > e.own:
			e = &streamState{baseline: off, own: off, hi: noOffset, recent: map[int64]bool{}}
			s.streams[st] = e
		case off < e.own:
			e.own = off // this sink's last commit of the stream did not happen
		}
		states[st] = e
	}
	skip = make([]bool, len(b.Records))
	for i := range b.Records {
		pos := b.Records[i].Source
		e, ok := states[pos.Stream]
		if !ok || pos.Offset > stored[pos.Stream] {
			continue
		}
		switch {
		case e.recent[pos.Offset], pos.Offset <= e.baseline, pos.Offset > e.hi:
			skip[i] = true
		default:
			late++
		}
	}
	return skip, late
}

// storing notes the offsets a transaction is about to commit.
func (s *Sink) storing(next map[string]int64) {
	s.emu.Lock()
	defer s.emu.Unlock()
	for st, off := range next {
		if e := s.streams[st]; e != nil && off > e.own {
			e.own = off
		}
	}
}

// committed adds the offsets of the records a transaction wrote or failed
// permanently to the window of their streams.
func (s *Sink) committed(b engine.Batch, skip []bool) {
	s.emu.Lock()
	defer s.emu.Unlock()
	byStream := map[string][]int64{}
	for i := range b.Records {
		if !skip[i] {
			pos := b.Records[i].Source
			byStream[pos.Stream] = append(byStream[pos.Stream], pos.Offset)
		}
	}
	for st, offs := range byStream {
		e := s.streams[st]
		if e == nil {
			continue
		}
		for _, o := range offs {
			e.recent[o] = true
			e.hi = max(e.hi, o)
		}
		e.commits = append(e.commits, offs)
		e.held += len(offs)
		for e.held > s.window && len(e.commits) > 1 {
			old := e.commits[0]
			e.commits = e.commits[1:]
			e.held -= len(old)
			for _, o := range old {
				delete(e.recent, o)
			}
			e.baseline = max(e.baseline, slices.Max(old))
		}
	}
}
