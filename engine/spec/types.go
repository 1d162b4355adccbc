package spec

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Secret is a string that is never printed: String, GoString, logging and
// error messages show a mask instead. Use Reveal to get the value.
type Secret string

const secretMask = "******"

// String returns a mask, or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return secretMask
}

// GoString returns a mask so that %#v does not print the value.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// MarshalText masks the value so that encoders do not print it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// ByteSize is a size in bytes, written in a pipeline file as an integer or
// with a unit: 512KB, 5MiB, 1GB (KB, MB, GB are powers of 1000; KiB, MiB,
// GiB powers of 1024; B is bytes).
type ByteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30},
	{"B", 1},
}

// ParseByteSize parses s as a ByteSize.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	if t == "" || !unicode.IsDigit(rune(t[0])) {
		return 0, fmt.Errorf("expected a size such as 1048576, 512KB or 5MiB, got %q", s)
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("expected a size such as 1048576, 512KB or 5MiB, got %q", s)
	}
	return ByteSize(f * float64(mult)), nil
}

// String formats b with the largest binary unit that divides it.
func (b ByteSize) String() string {
	for _, u := range []struct {
		s string
		m int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && int64(b)%u.m == 0 {
			return strconv.FormatInt(int64(b)/u.m, 10) + u.s
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// Pair is one entry of a Pairs mapping.
type Pair[V any] struct {
	Key   string
	Value V
	Pos   Pos // position of the key in the file
}

// Pairs is a mapping that keeps the order in which its keys were written, for
// configs where order matters (fields set one after the other).
type Pairs[V any] []Pair[V]

// Keys returns the keys in file order.
func (p Pairs[V]) Keys() []string {
	out := make([]string, len(p))
	for i, kv := range p {
		out[i] = kv.Key
	}
	return out
}
