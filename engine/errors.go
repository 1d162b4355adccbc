package engine

import (
	"errors"
	"fmt"
	"strings"
)

// ErrEndOfInput is returned by Source.Read when a bounded source has emitted
// everything; the runtime drains what is in flight and stops.
var ErrEndOfInput = errors.New("end of input")

// ErrNotConnected is returned by a component that lost its connection; the
// runtime backs off and tries again.
var ErrNotConnected = errors.New("not connected")

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that a retry cannot fix: a mapping error, a
// rejected document, an HTTP 4xx, a constraint violation. Records that fail
// with a permanent error go to the dead-letter sink. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent. A *BatchError is permanent when every record in it failed
// permanently.
func IsPermanent(err error) bool {
	var p *permanentError
	if errors.As(err, &p) {
		return true
	}
	var be *BatchError
	if errors.As(err, &be) && len(be.Failed) > 0 {
		for _, f := range be.Failed {
			if !IsPermanent(f.Err) {
				return false
			}
		}
		return true
	}
	return false
}

// RecordError is the failure of one record of a batch.
type RecordError struct {
	Index int   // index of the record in the batch passed to Write
	Err   error // the cause; Permanent when a retry cannot help
}

// BatchError reports which records of a batch failed. The records it does
// not name were written.
type BatchError struct {
	Failed []RecordError
}

// NewBatchError returns a *BatchError, or nil when failed is empty.
func NewBatchError(failed []RecordError) error {
	if len(failed) == 0 {
		return nil
	}
	return &BatchError{Failed: failed}
}

// Error summarises the failures: how many, and the first cause.
func (e *BatchError) Error() string {
	if len(e.Failed) == 0 {
		return "batch error with no failed records"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d record(s) failed", len(e.Failed))
	fmt.Fprintf(&b, "; first (record %d): %v", e.Failed[0].Index, e.Failed[0].Err)
	return b.String()
}

// Retryable returns the indices of the records that failed with a retryable
// error.
func (e *BatchError) Retryable() []RecordError {
	var out []RecordError
	for _, f := range e.Failed {
		if !IsPermanent(f.Err) {
			out = append(out, f)
		}
	}
	return out
}
