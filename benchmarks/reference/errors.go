package reference

import "errors"

// Errors of decodeEvent. A line with any of them counts in Stats.Errors.
var (
	errSyntax   = errors.New("invalid JSON")
	errType     = errors.New("JSON value of the wrong type for its Event field")
	errDepth    = errors.New("JSON nested too deeply")
	errTrailing = errors.New("invalid data after the top-level value")
)
