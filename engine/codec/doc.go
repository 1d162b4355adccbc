// Package codec turns the raw bytes of a record into the structured value
// that expressions work on, and turns that value back into bytes for the
// sinks.
//
// A pipeline names one codec (the `codec:` key of a pipeline file), and the
// engine decodes a record's Value with it the first time a transform needs
// its fields, and encodes it again only if a transform changed it. Three
// codecs exist:
//
//   - json decodes one JSON value: objects become map[string]any, arrays
//     []any, integers that fit in an int64 become int64 (so that ids stay
//     exact), other numbers float64, and strings, booleans and null become
//     string, bool and nil. It encodes compact JSON with the keys of every
//     map sorted, so that the same value always gives the same bytes.
//   - raw leaves the bytes as they are: Decode returns them as a []byte.
//   - text decodes the bytes as a string.
//
// Codecs are stateless and safe for concurrent use; Lookup returns shared
// values.
//
// Codec is not a schema: it checks that the bytes are well-formed, never that
// a field exists or has a type; expressions and sinks do that. It is not a
// stream format either: one call decodes one record. Splitting a file into
// records (JSON lines, CSV rows, Parquet rows) is the job of the source that
// reads it, and laying records out in a file is the job of the sink.
//
// Example:
//
//	c, err := codec.Lookup("json")
//	if err != nil {
//		return err
//	}
//	v, err := c.Decode([]byte(`{"player_id":12345,"latency_ms":42.5}`))
//	if err != nil {
//		return err // *codec.SyntaxError: says what is wrong and at which byte offset
//	}
//	fields := v.(map[string]any) // {"latency_ms": 42.5 (float64), "player_id": 12345 (int64)}
//	fields["region"] = "eu-west"
//	out, err := c.Encode(fields) // {"latency_ms":42.5,"player_id":12345,"region":"eu-west"}
package codec
