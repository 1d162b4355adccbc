// Package transforms registers every transform component that ships with
// Sluice.
package transforms

import (
	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/transforms/expr"
)

// Register adds every shipped transform to r.
func Register(r *engine.Registry) error {
	return expr.Register(r)
}
