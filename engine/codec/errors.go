package codec

import (
	"errors"
	"strconv"
)

// ErrUnknownCodec is wrapped by the error Lookup returns for a name that
// names no codec.
var ErrUnknownCodec = errors.New("unknown codec")

// SyntaxError is the error a codec's Decode returns for input that is not
// well-formed. Retrying cannot help: the record goes to the dead-letter sink.
type SyntaxError struct {
	// Codec is the name of the codec that rejected the input, such as "json".
	Codec string
	// Offset is the 0-based byte offset in the input at which the problem
	// was found: the offending byte, or the length of the input when it
	// ends too early.
	Offset int64
	// Msg says what is wrong, such as "invalid character 'x' looking for
	// beginning of value".
	Msg string
}

// Error formats e as "json: MSG at offset N".
func (e *SyntaxError) Error() string {
	return e.Codec + ": " + e.Msg + " at offset " + strconv.FormatInt(e.Offset, 10)
}
