package checkpoint

import "errors"

// ErrNotFound is returned, wrapped, by Store.Load when no token was saved
// under the key: the source starts from its configured beginning.
var ErrNotFound = errors.New("checkpoint: not found")
