// Package sources registers every source component that ships with Sluice.
package sources

import (
	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/sources/generate"
)

// Register adds every shipped source to r.
func Register(r *engine.Registry) error {
	return generate.Register(r)
}
