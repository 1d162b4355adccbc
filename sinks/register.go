// Package sinks registers every sink component that ships with Sluice.
package sinks

import (
	"errors"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/sinks/drop"
	"github.com/sluicehq/sluice/sinks/kafka"
	"github.com/sluicehq/sluice/sinks/objectstore"
	"github.com/sluicehq/sluice/sinks/sql"
	"github.com/sluicehq/sluice/sinks/stdout"
)

// Register adds every shipped sink to r.
func Register(r *engine.Registry) error {
	return errors.Join(
		drop.Register(r),
		kafka.Register(r),
		objectstore.Register(r),
		sql.Register(r),
		stdout.Register(r),
	)
}
