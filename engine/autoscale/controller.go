package autoscale

import "time"

// Limits bounds a worker pool.
type Limits struct {
	Min int // workers kept even when idle; 0 lets the pool scale to zero
	Max int // most workers
	// IdleAfter is how long a worker must have been unneeded before the
	// pool shrinks by one. Zero means 5s.
	IdleAfter time.Duration
}

// Observation is a sample of a pool's state.
type Observation struct {
	Workers int // running workers
	Busy    int // workers processing a batch right now
	Queued  int // batches waiting in the pool's input queue
}

// Decision is what a Controller asks the pool to do.
type Decision int

// The decisions.
const (
	Hold Decision = iota
	Grow
	Shrink
)

func (d Decision) String() string {
	switch d {
	case Grow:
		return "grow"
	case Shrink:
		return "shrink"
	}
	return "hold"
}

// Controller turns observations into decisions: grow by one when work is
// queued and every worker is busy, shrink by one when at least one worker
// has been idle for IdleAfter with nothing queued. It is not safe for
// concurrent use.
type Controller struct {
	lim       Limits
	spareFrom time.Time // when the pool last started having a spare worker
}

// NewController returns a Controller for lim.
func NewController(lim Limits) *Controller {
	if lim.IdleAfter <= 0 {
		lim.IdleAfter = 5 * time.Second
	}
	if lim.Max < 1 {
		lim.Max = 1
	}
	if lim.Min > lim.Max {
		lim.Min = lim.Max
	}
	if lim.Min < 0 {
		lim.Min = 0
	}
	return &Controller{lim: lim}
}

// Limits returns the controller's limits.
func (c *Controller) Limits() Limits { return c.lim }

// Decide returns what the pool should do given o, observed at now.
func (c *Controller) Decide(o Observation, now time.Time) Decision {
	switch {
	case o.Workers < c.lim.Min:
		c.spareFrom = time.Time{}
		return Grow
	case o.Workers > c.lim.Max:
		return Shrink
	case o.Queued > 0 && o.Busy >= o.Workers && o.Workers < c.lim.Max:
		c.spareFrom = time.Time{}
		return Grow
	}
	spare := o.Queued == 0 && o.Busy < o.Workers && o.Workers > c.lim.Min
	if !spare {
		c.spareFrom = time.Time{}
		return Hold
	}
	if c.spareFrom.IsZero() {
		c.spareFrom = now
		return Hold
	}
	if now.Sub(c.spareFrom) >= c.lim.IdleAfter {
		c.spareFrom = now
		return Shrink
	}
	return Hold
}
