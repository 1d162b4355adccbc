//go:build race

package objectstore

// raceEnabled reports whether the race detector is on: heavy tests scale
// down under it.
const raceEnabled = true
