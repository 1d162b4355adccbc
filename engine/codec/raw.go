package codec

import "fmt"

const rawName = "raw"

// rawCodec passes bytes through unchanged.
type rawCodec struct{}

// Name returns "raw".
func (rawCodec) Name() string { return rawName }

// Decode returns data itself as a []byte, without copying it. Any input,
// empty included, is valid.
func (rawCodec) Decode(data []byte) (any, error) { return data, nil }

// Encode returns v, which must be a []byte or a string. A []byte is returned
// as is, not copied.
func (rawCodec) Encode(v any) ([]byte, error) {
	switch t := v.(type) {
	case []byte:
		return t, nil
	case string:
		return []byte(t), nil
	}
	return nil, fmt.Errorf("raw: cannot encode %T: want []byte or string", v)
}

// AppendEncode appends v, which must be a []byte or a string, to dst.
func (rawCodec) AppendEncode(dst []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case []byte:
		return append(dst, t...), nil
	case string:
		return append(dst, t...), nil
	}
	return dst, fmt.Errorf("raw: cannot encode %T: want []byte or string", v)
}
