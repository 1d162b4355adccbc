//go:build !unix

package sql

import "time"

// selfCPU is unknown here.
func selfCPU() time.Duration { return 0 }
