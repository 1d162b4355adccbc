package kafka_test

import (
	"fmt"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/sinks/kafka"
)

// Register the kafka sink on a registry, as cmd/sluice does through
// sinks.Register; pipeline files can then name it under sinks or
// dead_letter.
func ExampleRegister() {
	r := engine.NewRegistry()
	if err := kafka.Register(r); err != nil {
		panic(err)
	}
	c, _ := r.Lookup(engine.KindSink, "kafka")
	d := c.Defaults().(kafka.Config)
	fmt.Println(c.Name, c.Batch.Count, c.Batch.Bytes, c.Batch.Period)
	fmt.Println(d.Compression, d.Idempotent)
	// Output:
	// kafka 1000 1048576 100ms
	// snappy true
}
