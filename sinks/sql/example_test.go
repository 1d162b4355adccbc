package sql_test

import (
	"fmt"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/sinks/sql"
)

// Register the sql sink on a registry, as cmd/sluice does through
// sinks.Register; pipeline files can then name it under sinks.
func ExampleRegister() {
	r := engine.NewRegistry()
	if err := sql.Register(r); err != nil {
		panic(err)
	}
	c, _ := r.Lookup(engine.KindSink, "sql")
	d := c.Defaults().(sql.Config)
	fmt.Println(c.Name, c.Batch.Count, c.Batch.Bytes, c.Batch.Period)
	fmt.Println(d.Mode, d.PositionsTable, d.MaxStatementBytes, d.ConnectTimeout)
	// Output:
	// sql 1000 4194304 500ms
	// insert sluice_positions 4MiB 10s
}
