package checkpoint_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/sluicehq/sluice/engine/checkpoint"
)

func ExampleTracker() {
	ctx := context.Background()
	t := checkpoint.NewTracker[int64](100)
	var dones []func() (int64, bool)
	for _, offset := range []int64{10, 20, 30} {
		done, err := t.Track(ctx, offset)
		if err != nil {
			log.Fatal(err)
		}
		dones = append(dones, done)
	}
	for _, i := range []int{1, 0, 2} { // batches settle out of order
		if off, ok := dones[i](); ok {
			fmt.Println("commit", off)
		} else {
			fmt.Println("hold")
		}
	}
	// Output:
	// hold
	// commit 20
	// commit 30
}

func ExampleOpen() {
	ctx := context.Background()
	s, err := checkpoint.Open(ctx, "mem://", nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := s.Load(ctx, "backfill/shard-0"); errors.Is(err, checkpoint.ErrNotFound) {
		fmt.Println("start from the beginning")
	}
	if err := s.Save(ctx, "backfill/shard-0", []byte("events/2024-06-01.jsonl:1200")); err != nil {
		log.Fatal(err)
	}
	token, _ := s.Load(ctx, "backfill/shard-0")
	fmt.Printf("resume at %s\n", token)

	_, err = checkpoint.Open(ctx, "ftp://host/state", nil)
	fmt.Println(err)
	// Output:
	// start from the beginning
	// resume at events/2024-06-01.jsonl:1200
	// checkpoint store "ftp://host/state": unsupported scheme "ftp" (supported: file, mem)
}
