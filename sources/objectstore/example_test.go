package objectstore_test

import (
	"fmt"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/sources/objectstore"
)

func ExampleRegister() {
	r := engine.NewRegistry()
	if err := objectstore.Register(r); err != nil {
		fmt.Println(err)
		return
	}
	c, _ := r.Lookup(engine.KindSource, "objectstore")
	fmt.Println(c.Name, "bounded:", c.Bounded)
	// Output: objectstore bounded: true
}

func ExampleNew() {
	c := objectstore.Defaults()
	c.URL = "s3://lake?endpoint=http://127.0.0.1:9000&use_path_style=true&region=us-east-1"
	c.Prefix = "events/"
	c.Glob = "**/*.jsonl.gz"
	c.Shard = "1/4"
	if err := c.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	// New does no I/O: Open opens the bucket, loads the state and lists.
	s, err := objectstore.New(c, engine.TestEnv())
	fmt.Println(s.StateKey(), err)
	// Output: test/objectstore/shard-1-of-4 <nil>
}
