package codec

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		name    string
		lookup  string
		wantErr string
	}{
		{"json", "json", ""},
		{"raw", "raw", ""},
		{"text", "text", ""},
		{"unknown", "yaml", `unknown codec "yaml" (valid: json, raw, text)`},
		{"names are case-sensitive", "JSON", `unknown codec "JSON" (valid: json, raw, text)`},
		{"empty", "", `unknown codec "" (valid: json, raw, text)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Lookup(tc.lookup)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Lookup(%q) error = %v, want %q", tc.lookup, err, tc.wantErr)
				}
				if !errors.Is(err, ErrUnknownCodec) {
					t.Fatalf("Lookup(%q) error does not wrap ErrUnknownCodec", tc.lookup)
				}
				return
			}
			if err != nil {
				t.Fatalf("Lookup(%q): %v", tc.lookup, err)
			}
			if c.Name() != tc.lookup {
				t.Fatalf("Lookup(%q).Name() = %q", tc.lookup, c.Name())
			}
		})
	}
}

func TestNames(t *testing.T) {
	got := Names()
	if want := []string{"json", "raw", "text"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %q, want %q", got, want)
	}
	got[0] = "changed"
	if Names()[0] != "json" {
		t.Fatal("changing the result of Names changed the next result")
	}
	for _, name := range Names() {
		if _, err := Lookup(name); err != nil {
			t.Errorf("Lookup(%q) of a listed name: %v", name, err)
		}
	}
}

type stringer string

func (s stringer) String() string { return "S:" + string(s) }

func TestRawAndText(t *testing.T) {
	tests := []struct {
		name       string
		codec      string
		decodeIn   []byte
		wantDecode any
		encodeIn   any
		wantEncode string
		wantErr    string
	}{
		{name: "raw bytes", codec: "raw", decodeIn: []byte("\x00\xff{"), wantDecode: []byte("\x00\xff{"), encodeIn: []byte("\x00\xff{"), wantEncode: "\x00\xff{"},
		{name: "raw empty", codec: "raw", decodeIn: []byte{}, wantDecode: []byte{}, encodeIn: []byte{}, wantEncode: ""},
		{name: "raw from string", codec: "raw", decodeIn: []byte("a"), wantDecode: []byte("a"), encodeIn: "abc", wantEncode: "abc"},
		{name: "raw rejects a map", codec: "raw", decodeIn: []byte("a"), wantDecode: []byte("a"), encodeIn: map[string]any{}, wantErr: "raw: cannot encode map[string]interface {}: want []byte or string"},
		{name: "raw rejects nil", codec: "raw", decodeIn: []byte("a"), wantDecode: []byte("a"), encodeIn: nil, wantErr: "raw: cannot encode <nil>: want []byte or string"},
		{name: "text string", codec: "text", decodeIn: []byte("héllo\n"), wantDecode: "héllo\n", encodeIn: "héllo\n", wantEncode: "héllo\n"},
		{name: "text empty", codec: "text", decodeIn: nil, wantDecode: "", encodeIn: "", wantEncode: ""},
		{name: "text keeps invalid utf-8", codec: "text", decodeIn: []byte("a\xff"), wantDecode: "a\xff", encodeIn: []byte("a\xff"), wantEncode: "a\xff"},
		{name: "text from stringer", codec: "text", decodeIn: []byte("x"), wantDecode: "x", encodeIn: stringer("x"), wantEncode: "S:x"},
		{name: "text from time", codec: "text", decodeIn: []byte("x"), wantDecode: "x", encodeIn: time.Duration(1500) * time.Millisecond, wantEncode: "1.5s"},
		{name: "text rejects an int", codec: "text", decodeIn: []byte("x"), wantDecode: "x", encodeIn: 42, wantErr: "text: cannot encode int: want string, []byte or fmt.Stringer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Lookup(tc.codec)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Decode(tc.decodeIn)
			if err != nil {
				t.Fatalf("Decode(%q): %v", tc.decodeIn, err)
			}
			if !reflect.DeepEqual(got, tc.wantDecode) {
				t.Fatalf("Decode(%q) = %#v, want %#v", tc.decodeIn, got, tc.wantDecode)
			}
			enc, err := c.Encode(tc.encodeIn)
			app, appErr := c.AppendEncode([]byte("pre:"), tc.encodeIn)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Encode(%#v) error = %v, want %q", tc.encodeIn, err, tc.wantErr)
				}
				if appErr == nil || appErr.Error() != tc.wantErr || string(app) != "pre:" {
					t.Fatalf("AppendEncode(%#v) = %q, %v, want pre: and %q", tc.encodeIn, app, appErr, tc.wantErr)
				}
				return
			}
			if err != nil || string(enc) != tc.wantEncode {
				t.Fatalf("Encode(%#v) = %q, %v, want %q", tc.encodeIn, enc, err, tc.wantEncode)
			}
			if appErr != nil || string(app) != "pre:"+tc.wantEncode {
				t.Fatalf("AppendEncode(%#v) = %q, %v, want %q", tc.encodeIn, app, appErr, "pre:"+tc.wantEncode)
			}
		})
	}
}

func TestRawDecodeSharesInput(t *testing.T) {
	c, _ := Lookup("raw")
	data := []byte("abc")
	v, _ := c.Decode(data)
	data[0] = 'X'
	if got := string(v.([]byte)); got != "Xbc" {
		t.Fatalf("raw Decode result = %q, want it to share the input", got)
	}
}
