package objectstore

import (
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/engine"
)

// ErrClosed is returned by Write before Open and after Close.
var ErrClosed = fmt.Errorf("objectstore sink is not open: %w", engine.ErrNotConnected)

// ErrNoColumns fails, permanently, a record that gives a Parquet object no
// column: an empty object, when every record of the object is empty.
var ErrNoColumns = errors.New("record has no fields: nothing to write as Parquet columns")
