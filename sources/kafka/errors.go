package kafka

import "errors"

// ErrClosed is returned by Read once Close has been called.
var ErrClosed = errors.New("kafka: source closed")
