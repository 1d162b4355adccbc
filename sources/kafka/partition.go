package kafka

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/checkpoint"
)

// handler is the sarama.ConsumerGroupHandler of a Source. sarama calls
// Setup when the group assigns partitions, ConsumeClaim on a goroutine of
// its own for each of them, and Cleanup once every ConsumeClaim returned,
// before its last commit.
type handler struct{ s *Source }

// Setup counts the assignment and applies resume positions: marking the
// offset after a kept position moves the start of a partition forward, never
// back (sarama's MarkOffset only advances), so each partition starts after
// the larger of its committed offset and the kept one.
func (h handler) Setup(sess sarama.ConsumerGroupSession) error {
	for topic, parts := range sess.Claims() {
		for _, p := range parts {
			if off, ok := h.s.resume[topic+"/"+strconv.Itoa(int(p))]; ok {
				sess.MarkOffset(topic, p, off+1, "")
			}
		}
	}
	n := countPartitions(sess.Claims())
	h.s.rebalances.Inc()
	h.s.assigned.Set(float64(n))
	h.s.log.Info("partitions assigned", attrGroup, h.s.cfg.Group, attrPartitions, n)
	return nil
}

// Cleanup runs once every partition of the session was released.
func (h handler) Cleanup(sess sarama.ConsumerGroupSession) error {
	h.s.assigned.Set(0)
	h.s.log.Info("partitions revoked", attrGroup, h.s.cfg.Group, attrPartitions, countPartitions(sess.Claims()))
	return nil
}

// ConsumeClaim reads the partition until it is revoked, then releases it.
func (h handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	p := newPartition(h.s, sess, claim)
	h.s.addPartition(p)
	defer h.s.removePartition(p)
	p.read(sess.Context(), claim.Messages())
	p.release()
	return nil
}

func countPartitions(claims map[string][]int32) int {
	n := 0
	for _, ps := range claims {
		n += len(ps)
	}
	return n
}

// partition is one claimed partition: it batches the partition's records,
// hands the batches to Read, and marks offsets for commit as they are
// acknowledged.
type partition struct {
	s      *Source
	sess   sarama.ConsumerGroupSession
	claim  sarama.ConsumerGroupClaim
	stream string // topic/partition, the Stream of the records' positions

	// tracker holds the offset after each batch handed to Read, in read
	// order, and turns acks into the offset that is safe to commit.
	tracker *checkpoint.Tracker[int64]
	// next is the offset after the last record handed to Read; negative
	// until the first batch when the partition had no committed offset.
	next atomic.Int64

	mu       sync.Mutex
	limit    int64 // no commit reaches past this: the first offset of the earliest batch that failed or was dropped
	marked   int64 // highest offset marked for commit
	released bool  // the partition was let go: acks mark nothing more
}

func newPartition(s *Source, sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) *partition {
	p := &partition{
		s:       s,
		sess:    sess,
		claim:   claim,
		stream:  claim.Topic() + "/" + strconv.Itoa(int(claim.Partition())),
		tracker: checkpoint.NewTracker[int64](s.cfg.MaxPending),
		limit:   math.MaxInt64,
		marked:  claim.InitialOffset(),
	}
	p.next.Store(claim.InitialOffset())
	return p
}

// read batches the records that arrive on msgs and hands each batch to
// Read, until the partition is revoked: ctx ends or msgs is closed. The
// records of a batch that is not full by then are left for the
// partition's next owner.
//
// A batch is filled in place, in a slice allocated once with room for as
// many records as the batch before it held (batch_size at first), and is
// handed on when it holds batch_size records or batch_linger after its
// first record arrived.
func (p *partition) read(ctx context.Context, msgs <-chan *sarama.ConsumerMessage) {
	size, linger := p.s.cfg.BatchSize, p.s.cfg.BatchLinger
	hint := size             // capacity of the next batch
	var recs []engine.Record // the batch being filled; nil while empty
	timer := time.NewTimer(linger)
	timer.Stop()
	defer timer.Stop()
	var due <-chan time.Time // timer.C while recs is not empty
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			if recs == nil {
				recs = make([]engine.Record, 0, hint)
				timer.Reset(linger) // discards a tick of the last batch (Go 1.23 timers)
				due = timer.C
			}
			recs = p.add(recs, m)
			// Take what is already buffered with plain receives: a select
			// per message costs more than the rest of the loop.
			for len(recs) < size && len(msgs) > 0 {
				if m, ok = <-msgs; !ok {
					return
				}
				recs = p.add(recs, m)
			}
			if len(recs) < size {
				continue
			}
		case <-due:
		}
		timer.Stop()
		due = nil
		hint = len(recs)
		if !p.emit(ctx, recs) {
			return
		}
		recs = nil
	}
}

// add appends the record of m to recs. It fills the record in place:
// recs has spare capacity that make or growing it zeroed, and copying a
// whole engine.Record in costs more than setting the few fields a Kafka
// message has.
func (p *partition) add(recs []engine.Record, m *sarama.ConsumerMessage) []engine.Record {
	n := len(recs)
	if n == cap(recs) {
		recs = slices.Grow(recs, 1)
	}
	recs = recs[:n+1]
	r := &recs[n]
	r.Key, r.Value = m.Key, m.Value
	r.Source = engine.Position{Stream: p.stream, Offset: m.Offset}
	r.Time = m.Timestamp
	if r.Time.UnixMilli() <= 0 { // the record has no timestamp
		r.Time = time.Now()
	}
	if len(m.Headers) > 0 {
		r.Headers = make(map[string]string, len(m.Headers))
		for _, h := range m.Headers {
			r.Headers[string(h.Key)] = string(h.Value)
		}
	}
	return recs
}

// emit tracks recs and hands them to Read as one batch. It waits while
// max_pending batches of the partition are unacknowledged, and reports
// false when ctx ended first.
func (p *partition) emit(ctx context.Context, recs []engine.Record) bool {
	first := recs[0].Source.Offset
	next := recs[len(recs)-1].Source.Offset + 1
	done, err := p.tracker.Track(ctx, next)
	if err != nil {
		return false
	}
	ack := func(_ context.Context, err error) { p.settle(first, done, err != nil) }
	select {
	case p.s.out <- delivery{batch: engine.Batch{Records: recs}, ack: ack}:
	case <-ctx.Done():
		p.settle(first, done, true) // dropped: never commit past it
		return false
	}
	p.next.Store(next)
	p.s.updateLag()
	p.s.log.LogAttrs(ctx, slog.LevelDebug, "batch read",
		slog.String(engine.AttrTopic, p.claim.Topic()), slog.Int(engine.AttrPartition, int(p.claim.Partition())),
		slog.Int64(engine.AttrOffset, first), slog.Int(engine.AttrRecords, len(recs)))
	return true
}

// settle settles the batch that starts at offset first. A failed batch
// keeps every later commit of the partition below first; otherwise the
// offset that became committable, if any, is marked.
func (p *partition) settle(first int64, done func() (int64, bool), failed bool) {
	if failed {
		p.mu.Lock()
		p.limit = min(p.limit, first)
		p.mu.Unlock()
	}
	// Settling the failed batch happens after its limit is set, and no
	// later batch can become committable before it settles.
	if next, ok := done(); ok {
		p.mark(next)
	}
}

// mark marks next, capped by the limit, as the offset to commit.
func (p *partition) mark(next int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	next = min(next, p.limit)
	if p.released || next <= p.marked {
		return
	}
	p.sess.MarkOffset(p.claim.Topic(), p.claim.Partition(), next, "")
	p.marked = next
}

// release lets the revoked partition go: it waits, up to
// rebalance_settle_timeout, for the batches in flight to be acknowledged,
// stops marking offsets, and commits.
func (p *partition) release() {
	timeout := p.s.cfg.RebalanceSettleTimeout
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := p.tracker.Wait(ctx); err != nil {
		p.s.log.Warn("revoked partition still has batches in flight; its next owner reads them again",
			engine.AttrTopic, p.claim.Topic(), engine.AttrPartition, p.claim.Partition(), engine.AttrElapsed, timeout)
	}
	p.mu.Lock()
	p.released = true
	marked := p.marked
	p.mu.Unlock()
	p.sess.Commit()
	p.s.log.Debug("partition released",
		engine.AttrTopic, p.claim.Topic(), engine.AttrPartition, p.claim.Partition(), engine.AttrOffset, marked)
}

// lag returns how many records of the partition were not handed to Read,
// as far as the last fetch knows.
func (p *partition) lag() int64 {
	next := p.next.Load()
	if next < 0 {
		return 0
	}
	return max(0, p.claim.HighWaterMarkOffset()-next)
}
