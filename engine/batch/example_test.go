package batch_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/engine/batch"
)

func ExampleBatcher() {
	b := batch.New(batch.Policy{Count: 3, Bytes: 10}, func(s string) int { return len(s) })
	for _, s := range []string{"a", "b", "c", "dddd", "eeeeee", "f"} {
		if full := b.Add(s); full != nil {
			fmt.Println(full)
		}
	}
	fmt.Println(b.Flush())
	// Output:
	// [a b c]
	// [dddd eeeeee]
	// [f]
}

func ExampleRun() {
	in := make(chan int)
	go func() {
		for i := range 7 {
			in <- i
		}
		close(in)
	}()
	b := batch.New[int](batch.Policy{Count: 3, Period: time.Second}, nil)
	err := batch.Run(context.Background(), b, in, func(_ context.Context, items []int) error {
		fmt.Println(items)
		return nil
	})
	fmt.Println(err)
	// Output:
	// [0 1 2]
	// [3 4 5]
	// [6]
	// <nil>
}
