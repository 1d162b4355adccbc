package kafka_test

import (
	"fmt"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/sources/kafka"
)

func ExampleRegister() {
	r := engine.NewRegistry()
	if err := kafka.Register(r); err != nil {
		fmt.Println(err)
		return
	}
	c, _ := r.Lookup(engine.KindSource, "kafka")
	fmt.Println(c.Name, "bounded:", c.Bounded)
	// Output: kafka bounded: false
}

func ExampleNew() {
	c := kafka.Defaults()
	c.Brokers = []string{"localhost:9092"}
	c.Topics = []string{"game-events"}
	c.Group = "sluice-game-telemetry"
	if err := c.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	// New does no I/O: Open connects and joins the group.
	s, err := kafka.New(c, engine.TestEnv())
	fmt.Println(s != nil, err)
	// Output: true <nil>
}
