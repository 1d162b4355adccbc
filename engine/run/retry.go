package run

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/sluicehq/sluice/engine"
)

// backoff returns the wait before retry attempt n (1-based): initial doubled
// per attempt, capped at max, with full jitter over its upper half.
func backoff(rc engine.RetryConfig, n int) time.Duration {
	d := rc.Initial
	for i := 1; i < n && d < rc.Max; i++ {
		d *= 2
	}
	if d > rc.Max {
		d = rc.Max
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// sleep waits d or until ctx ends; it reports whether the full wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
