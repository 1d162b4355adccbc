package codec

import (
	"fmt"
	"slices"
	"strings"
)

// Codec decodes raw record bytes into a structured value and encodes such a
// value back into bytes.
//
// Implementations are safe for concurrent use and keep no state between
// calls. Decode never changes data; whether the value it returns shares
// memory with data is documented by each codec (json never does, raw always
// does). Encode and AppendEncode never change v.
type Codec interface {
	// Name returns the name the codec is looked up by, such as "json".
	Name() string

	// Decode decodes one record. Empty input, input that is not well-formed
	// and input with anything but white space after the value are errors.
	Decode(data []byte) (any, error)

	// Encode returns the bytes of v in a newly allocated slice.
	Encode(v any) ([]byte, error)

	// AppendEncode appends the bytes of v to dst and returns the extended
	// slice, so that a caller can reuse one buffer for many records. On
	// error it returns dst unchanged.
	AppendEncode(dst []byte, v any) ([]byte, error)
}

// codecs holds every codec by name.
var codecs = map[string]Codec{
	jsonName: jsonCodec{portable: !sonicNative},
	rawName:  rawCodec{},
	textName: textCodec{},
}

// Lookup returns the codec called name. An unknown name is an error that
// wraps ErrUnknownCodec and lists the valid names.
func Lookup(name string) (Codec, error) {
	if c, ok := codecs[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknownCodec, name, strings.Join(Names(), ", "))
}

// Names returns the names of every codec, sorted. The caller owns the slice.
func Names() []string {
	names := make([]string, 0, len(codecs))
	for name := range codecs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
