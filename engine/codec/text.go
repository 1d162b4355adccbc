package codec

import "fmt"

const textName = "text"

// textCodec decodes bytes as a string.
type textCodec struct{}

// Name returns "text".
func (textCodec) Name() string { return textName }

// Decode returns data as a string, copied. It does not check that data is
// valid UTF-8. Any input, empty included, is valid.
func (textCodec) Decode(data []byte) (any, error) { return string(data), nil }

// Encode returns the bytes of v, which must be a string, a []byte or a
// fmt.Stringer, in a new slice.
func (c textCodec) Encode(v any) ([]byte, error) { return c.AppendEncode(nil, v) }

// AppendEncode appends the bytes of v, which must be a string, a []byte or
// a fmt.Stringer, to dst.
func (textCodec) AppendEncode(dst []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case string:
		return append(dst, t...), nil
	case []byte:
		return append(dst, t...), nil
	case fmt.Stringer:
		return append(dst, t.String()...), nil
	}
	return dst, fmt.Errorf("text: cannot encode %T: want string, []byte or fmt.Stringer", v)
}
