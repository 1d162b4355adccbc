package objectstore_test

import (
	"fmt"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/sinks/objectstore"
)

// Register the objectstore sink on a registry, as cmd/sluice does through
// sinks.Register; pipeline files can then name it under sinks.
func ExampleRegister() {
	r := engine.NewRegistry()
	if err := objectstore.Register(r); err != nil {
		panic(err)
	}
	c, _ := r.Lookup(engine.KindSink, "objectstore")
	d := c.Defaults().(objectstore.Config)
	fmt.Println(c.Name, c.Batch.Count, c.Batch.Bytes, c.Batch.Period)
	fmt.Println(d.Format, d.RowGroupSize, d.Roll.Bytes)
	// Output:
	// objectstore 100000 67108864 1m0s
	// parquet 65536 128MiB
}

// ParseSchema reads a declared Parquet schema written as in a pipeline
// file.
func ExampleParseSchema() {
	s, err := objectstore.ParseSchema(`{event_id: string, ts: timestamp, device: {os: string, ver: string}, tags: [string]}`)
	if err != nil {
		panic(err)
	}
	for _, c := range s {
		fmt.Println(c.Name, c.Type.Name, len(c.Type.Fields), c.Type.Elem != nil)
	}
	// Output:
	// event_id string 0 false
	// ts timestamp 0 false
	// device  2 false
	// tags  0 true
}
