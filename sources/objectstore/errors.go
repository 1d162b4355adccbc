package objectstore

import "errors"

// ErrClosed is returned by Read once Close has been called.
var ErrClosed = errors.New("objectstore: source closed")
