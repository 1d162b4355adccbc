//go:build integration

package kafka

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/enginetest"
)

// TestIntegrationProduce100k produces 100 000 records in batches through
// the sink to a real broker topic with 8 partitions, then consumes them
// all: every record arrives once with its key, and each key is on one
// partition.
func TestIntegrationProduce100k(t *testing.T) {
	brokers := strings.Split(enginetest.Env(t, "SLUICE_TEST_KAFKA"), ",")
	topic := fmt.Sprintf("sluice-sink-it-%d", time.Now().UnixNano())

	sc := sarama.NewConfig()
	sc.Version = sarama.V3_6_0_0
	admin, err := sarama.NewClusterAdmin(brokers, sc)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 8, ReplicationFactor: -1}, false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.DeleteTopic(topic) })

	cfg := Defaults()
	cfg.Brokers = brokers
	cfg.Topic = topic
	cfg.Key = "{{ player_id }}"
	cfg.Headers = map[string]string{"match": "{{ match_id }}"}
	s := openSink(t, cfg)

	const total, size, writers = 100000, 2000, 4
	want := make(map[string]string, total) // value -> key
	batches := make(chan engine.Batch, total/size)
	for b := 0; b < total/size; b++ {
		recs := make([]engine.Record, size)
		for i := range recs {
			n := b*size + i
			v := fmt.Sprintf(`{"n":%d,"player_id":"p%d","match_id":%d}`, n, n%997, n%31)
			want[v] = fmt.Sprintf("p%d", n%997)
			recs[i] = rec(v, nil, nil, time.Now())
		}
		batches <- engine.Batch{Records: recs}
	}
	close(batches)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, total/size)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				errs <- s.Write(t.Context(), b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	t.Logf("produced %d records in %v", total, time.Since(start))
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	// Consume every partition from the start to its high watermark.
	client, err := sarama.NewClient(brokers, sc)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	parts, err := client.Partitions(topic)
	if err != nil || len(parts) != 8 {
		t.Fatalf("partitions %v: %v", parts, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	partOfKey := map[string]int32{}
	seen := make(map[string]bool, total)
	for _, p := range parts {
		hwm, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			t.Fatal(err)
		}
		if hwm == 0 {
			continue
		}
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		for done := false; !done; {
			select {
			case m := <-pc.Messages():
				v, k := string(m.Value), string(m.Key)
				wk, ok := want[v]
				switch {
				case !ok:
					t.Fatalf("unexpected record %q", v)
				case seen[v]:
					t.Fatalf("duplicate record %q", v)
				case k != wk:
					t.Fatalf("record %q: key %q, want %q", v, k, wk)
				}
				seen[v] = true
				if q, ok := partOfKey[k]; ok && q != m.Partition {
					t.Fatalf("key %s on partitions %d and %d", k, q, m.Partition)
				}
				partOfKey[k] = m.Partition
				if len(m.Headers) != 1 || string(m.Headers[0].Key) != "match" {
					t.Fatalf("record %q: headers %v", v, m.Headers)
				}
				done = m.Offset+1 >= hwm
			case err := <-pc.Errors():
				t.Fatal(err)
			case <-ctx.Done():
				t.Fatalf("partition %d: %v after %d records", p, ctx.Err(), len(seen))
			}
		}
		pc.Close()
	}
	if len(seen) != total {
		t.Fatalf("consumed %d distinct records, want %d", len(seen), total)
	}
	used := map[int32]bool{}
	for _, p := range partOfKey {
		used[p] = true
	}
	if len(used) != 8 {
		t.Errorf("997 keys spread over partitions %v, want all 8", used)
	}
}
