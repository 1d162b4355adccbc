package batch

import (
	"errors"
	"fmt"
	"time"
)

// Policy says when a batch is full. A zero field sets no limit of its kind;
// a Policy with every field zero makes every item a batch of its own.
type Policy struct {
	// Count flushes a batch once it holds this many items.
	Count int
	// Bytes flushes a batch once its items' sizes add up to this many
	// bytes. A batch never goes over Bytes, except a batch of one item that
	// is bigger than Bytes on its own.
	Bytes int64
	// Period flushes a batch this long after its first item was added.
	Period time.Duration
}

// Validate reports every negative field of p at once.
func (p Policy) Validate() error {
	var errs []error
	if p.Count < 0 {
		errs = append(errs, fmt.Errorf("count: must not be negative, got %d", p.Count))
	}
	if p.Bytes < 0 {
		errs = append(errs, fmt.Errorf("bytes: must not be negative, got %d", p.Bytes))
	}
	if p.Period < 0 {
		errs = append(errs, fmt.Errorf("period: must not be negative, got %s", p.Period))
	}
	return errors.Join(errs...)
}
