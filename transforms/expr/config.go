package expr

import (
	"errors"
	"strings"

	"github.com/sluicehq/sluice/engine/spec"
)

// FilterConfig is the expression a record must satisfy to be kept.
type FilterConfig string

// SetConfig maps field paths to expressions, evaluated in order; each sees
// the fields set before it.
type SetConfig = spec.Pairs[string]

// DropConfig lists the field paths to remove.
type DropConfig []string

// RenameConfig maps old field paths to new ones, applied in order.
type RenameConfig = spec.Pairs[string]

// Validate checks that the expression is not empty.
func (c FilterConfig) Validate() error {
	if strings.TrimSpace(string(c)) == "" {
		return errors.New("expected an expression that is true for the records to keep")
	}
	return nil
}

// Validate checks the field paths.
func (c DropConfig) Validate() error {
	var errs []error
	for i, p := range c {
		if err := checkPath(p); err != nil {
			errs = append(errs, spec.At("["+itoa(i)+"]", err))
		}
	}
	return errors.Join(errs...)
}

func checkPath(p string) error {
	if p == "" {
		return errors.New("empty field name")
	}
	for _, seg := range strings.Split(p, ".") {
		if seg == "" {
			return errors.New("field path " + p + " has an empty segment")
		}
	}
	return nil
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
