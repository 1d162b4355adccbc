package run

import (
	"fmt"
	"io"
	"time"
)

// Summary counts what a run did.
type Summary struct {
	Read         int64         // records read from the source
	Bytes        int64         // bytes of record keys and values read
	Filtered     int64         // records dropped by transforms or routed to no sink
	DeadLettered int64         // records sent to the dead-letter sink
	Retried      int64         // record deliveries retried
	Written      []SinkCount   // records durably written, per sink, in file order
	DeadLetter   int64         // records durably written to the dead-letter sink
	Elapsed      time.Duration // from Run to the end of the run
}

// SinkCount is the number of records written to one sink.
type SinkCount struct {
	Sink    string
	Records int64
}

// Rate returns records read per second.
func (s Summary) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Read) / s.Elapsed.Seconds()
}

// Print writes the summary for people.
func (s Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "read           %d records in %s (%.0f records/s)\n", s.Read, s.Elapsed.Round(time.Millisecond), s.Rate())
	for _, c := range s.Written {
		fmt.Fprintf(w, "written        %d to %s\n", c.Records, c.Sink)
	}
	fmt.Fprintf(w, "filtered       %d\n", s.Filtered)
	fmt.Fprintf(w, "dead-lettered  %d (%d durable in the dead-letter sink)\n", s.DeadLettered, s.DeadLetter)
	fmt.Fprintf(w, "retried        %d\n", s.Retried)
}

// Stats returns the counts so far; safe to call while Run is running.
func (r *Runner) Stats() Summary { return r.summary() }

func (r *Runner) summary() Summary {
	s := Summary{Read: r.read.Load(), Bytes: r.readBytes.Load(), DeadLettered: r.deadLettered.Load(), Filtered: r.unrouted.Load()}
	if st := r.started.Load(); st != 0 {
		s.Elapsed = time.Since(time.Unix(0, st))
	}
	if r.pool != nil {
		s.Filtered += r.pool.filtered.Load()
	}
	for _, st := range r.sinks {
		s.Written = append(s.Written, SinkCount{Sink: st.inst.Name, Records: st.written.Load()})
		s.Retried += st.retried.Load()
	}
	if r.dlq != nil {
		s.DeadLetter = r.dlq.written.Load()
		s.Retried += r.dlq.retried.Load()
	}
	if r.pool != nil {
		s.Retried += r.pool.retried.Load()
	}
	return s
}
