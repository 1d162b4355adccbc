// Package sources registers every source component that ships with Sluice.
package sources

import (
	"errors"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/sources/generate"
	"github.com/sluicehq/sluice/sources/kafka"
	"github.com/sluicehq/sluice/sources/objectstore"
)

// Register adds every shipped source to r.
func Register(r *engine.Registry) error {
	return errors.Join(
		generate.Register(r),
		kafka.Register(r),
		objectstore.Register(r),
	)
}
