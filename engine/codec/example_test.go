package codec_test

import (
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/engine/codec"
)

func ExampleLookup() {
	c, err := codec.Lookup("json")
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := c.Decode([]byte(`{"player_id":12345678901234567,"latency_ms":42.5,"region":"eu-west"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fields := v.(map[string]any)
	fmt.Printf("%T %v\n", fields["player_id"], fields["player_id"])
	fmt.Printf("%T %v\n", fields["latency_ms"], fields["latency_ms"])

	fields["day"] = "2026-11-25"
	out, err := c.Encode(fields)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// int64 12345678901234567
	// float64 42.5
	// {"day":"2026-11-25","latency_ms":42.5,"player_id":12345678901234567,"region":"eu-west"}
}

func ExampleSyntaxError() {
	c, _ := codec.Lookup("json")
	_, err := c.Decode([]byte(`{"event":"kill",}`))
	fmt.Println(err)

	var se *codec.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Offset)
	}
	// Output:
	// json: invalid character '}' looking for beginning of object key string at offset 16
	// 16
}

func ExampleNames() {
	fmt.Println(codec.Names())
	_, err := codec.Lookup("yaml")
	fmt.Println(err)
	// Output:
	// [json raw text]
	// unknown codec "yaml" (valid: json, raw, text)
}
