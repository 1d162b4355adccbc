package kafka

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/enginetest"
	"github.com/sluicehq/sluice/engine/spec"
)

func TestSinkConformance(t *testing.T) {
	c := newCluster(t, kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(4))
	var topic string
	enginetest.SinkSuite(t, enginetest.SinkHarness{
		Reset: func(t *testing.T) {
			topic = topicName()
			if err := c.CreateTopic(topic, 4, nil); err != nil {
				t.Fatal(err)
			}
		},
		New: func(t *testing.T) engine.Sink {
			s, err := New(testConfig(c, topic), engine.TestEnv())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Read: func(t *testing.T) [][]byte {
			var out [][]byte
			for _, r := range consume(t, c, topic) {
				out = append(out, r.Value)
			}
			return out
		},
	})
}

// TestRoundTrip writes several batches and reads back every record with
// its value, key, headers and timestamp; records with equal keys share a
// partition.
func TestRoundTrip(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(4, "t"))
	s := openSink(t, testConfig(c, "t"))
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	type want struct {
		key     string
		headers map[string]string
		at      time.Time
	}
	wants := map[string]want{}
	for b := range 5 {
		recs := make([]engine.Record, 200)
		for i := range recs {
			n := b*200 + i
			v := fmt.Sprintf(`{"n":%d}`, n)
			w := want{key: fmt.Sprintf("player-%d", n%17), at: base.Add(time.Duration(n) * time.Millisecond)}
			if n%3 == 0 {
				w.headers = map[string]string{"trace": fmt.Sprint(n), "a": "1"}
			}
			wants[v] = w
			recs[i] = rec(v, []byte(w.key), w.headers, w.at)
		}
		if err := s.Write(t.Context(), engine.Batch{Records: recs}); err != nil {
			t.Fatalf("Write batch %d: %v", b, err)
		}
	}
	got := consume(t, c, "t")
	if len(got) != len(wants) {
		t.Fatalf("read %d records, want %d", len(got), len(wants))
	}
	partOfKey := map[string]int32{}
	for _, r := range got {
		w, ok := wants[string(r.Value)]
		if !ok {
			t.Fatalf("unexpected record %q", r.Value)
		}
		delete(wants, string(r.Value))
		if string(r.Key) != w.key {
			t.Errorf("%s: key %q, want %q", r.Value, r.Key, w.key)
		}
		if !r.Timestamp.Equal(w.at) {
			t.Errorf("%s: timestamp %v, want %v", r.Value, r.Timestamp, w.at)
		}
		gotH := map[string]string{}
		var names []string
		for _, h := range r.Headers {
			gotH[h.Key] = string(h.Value)
			names = append(names, h.Key)
		}
		if len(gotH) != len(w.headers) || !slices.IsSorted(names) {
			t.Errorf("%s: headers %v, want %v sorted", r.Value, r.Headers, w.headers)
		}
		for k, v := range w.headers {
			if gotH[k] != v {
				t.Errorf("%s: header %s = %q, want %q", r.Value, k, gotH[k], v)
			}
		}
		if p, seen := partOfKey[w.key]; seen && p != r.Partition {
			t.Errorf("key %s on partitions %d and %d", w.key, p, r.Partition)
		}
		partOfKey[w.key] = r.Partition
	}
	parts := map[int32]bool{}
	for _, p := range partOfKey {
		parts[p] = true
	}
	if len(parts) < 2 {
		t.Errorf("17 keys all hashed to partitions %v", parts)
	}
}

// TestStaticTopicNeedsNoFields checks the dead-letter case: with a static
// topic and the record's own key, values that are not valid for the codec
// are produced as they are, never decoded.
func TestStaticTopicNeedsNoFields(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "dlq"))
	s := openSink(t, testConfig(c, "dlq"))
	if s.needFields {
		t.Fatal("a static topic without key or headers reads the record's fields")
	}
	r := rec(`{broken json`, nil, map[string]string{"sluice_error": "decode: bad", "sluice_component": "transforms[0]", "sluice_source_position": "game-events/3@42"}, time.Time{})
	if err := s.Write(t.Context(), engine.Batch{Records: []engine.Record{r}}); err != nil {
		t.Fatal(err)
	}
	got := consume(t, c, "dlq")
	if len(got) != 1 || string(got[0].Value) != `{broken json` || got[0].Key != nil {
		t.Fatalf("got %+v", got)
	}
	h := map[string]string{}
	for _, kv := range got[0].Headers {
		h[kv.Key] = string(kv.Value)
	}
	if h["sluice_error"] != "decode: bad" || h["sluice_source_position"] != "game-events/3@42" || h["sluice_component"] != "transforms[0]" {
		t.Errorf("headers = %v", h)
	}
	if got[0].Timestamp.IsZero() || time.Since(got[0].Timestamp) > time.Minute {
		t.Errorf("a record without time gets the produce time, got %v", got[0].Timestamp)
	}
}

// TestTopicTemplate routes records to the topic their fields name, and
// fails the records whose topic cannot be rendered.
func TestTopicTemplate(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(2, "events-eu", "events-us"))
	s := openSink(t, testConfig(c, "events-{{ lower(region) }}"))
	recs := []engine.Record{
		rec(`{"id":0,"region":"EU"}`, nil, nil, time.Time{}),
		rec(`{"id":1,"region":"US"}`, nil, nil, time.Time{}),
		rec(`{"id":2}`, nil, nil, time.Time{}), // lower(nil): fails
		rec(`{"id":3,"region":"eu"}`, nil, nil, time.Time{}),
		rec(`{"id":4,"region":"a/b"}`, nil, nil, time.Time{}), // illegal topic name
		rec(`[1,2]`, nil, nil, time.Time{}),                   // not an object
		rec(`{"id":6,"region":"us"}`, nil, nil, time.Time{}),
	}
	err := s.Write(t.Context(), engine.Batch{Records: recs})
	assertFailed(t, err, map[int]bool{2: true, 4: true, 5: true})
	eu := values(consume(t, c, "events-eu"))
	us := values(consume(t, c, "events-us"))
	slices.Sort(eu)
	slices.Sort(us)
	if want := []string{`{"id":0,"region":"EU"}`, `{"id":3,"region":"eu"}`}; !slices.Equal(eu, want) {
		t.Errorf("events-eu = %q, want %q", eu, want)
	}
	if want := []string{`{"id":1,"region":"US"}`, `{"id":6,"region":"us"}`}; !slices.Equal(us, want) {
		t.Errorf("events-us = %q, want %q", us, want)
	}
}

// TestTopicTemplateMissingTopic fails a record that the template routes
// to a topic that does not exist, permanently: its fields are at fault.
func TestTopicTemplateMissingTopic(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "events-eu"))
	s := openSink(t, testConfig(c, "events-{{ region }}"))
	recs := []engine.Record{
		rec(`{"region":"eu"}`, nil, nil, time.Time{}),
		rec(`{"region":"mars"}`, nil, nil, time.Time{}),
	}
	err := s.Write(t.Context(), engine.Batch{Records: recs})
	assertFailed(t, err, map[int]bool{1: true})
	if !strings.Contains(err.Error(), "topic events-mars rendered from") {
		t.Errorf("err = %v", err)
	}
	if got := values(consume(t, c, "events-eu")); len(got) != 1 {
		t.Errorf("events-eu holds %q", got)
	}
}

// assertFailed checks that err is a *engine.BatchError failing exactly the
// records in want (index: permanent).
func assertFailed(t *testing.T, err error, want map[int]bool) {
	t.Helper()
	var be *engine.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a *engine.BatchError", err)
	}
	got := map[int]bool{}
	for _, f := range be.Failed {
		got[f.Index] = engine.IsPermanent(f.Err)
		if f.Err == nil {
			t.Errorf("record %d failed with a nil error", f.Index)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("failed records %v, want %v (%v)", got, want, err)
	}
	for i, perm := range want {
		if g, ok := got[i]; !ok || g != perm {
			t.Errorf("record %d: failed=%v permanent=%v, want permanent=%v (%v)", i, ok, g, perm, err)
		}
	}
	if !slices.IsSortedFunc(be.Failed, func(a, b engine.RecordError) int { return a.Index - b.Index }) {
		t.Errorf("failures not in index order: %v", be.Failed)
	}
}

// TestKey covers a key template, a key expression and the failures of
// records whose key cannot be computed.
func TestKey(t *testing.T) {
	tests := []struct {
		name   string
		key    string
		want   []string // keys of records 0..3; "" for a failed record
		failed map[int]bool
	}{
		{"template", "{{ player_id }}", []string{"p1", "42", "", "p1"}, map[int]bool{2: true}},
		{"template with text", "match-{{ match_id }}/{{ player_id }}", []string{"match-7/p1", "match-7/42", "", ""}, map[int]bool{2: true, 3: true}},
		{"expression", `to_string(match_id) + ":" + to_string(player_id)`, []string{"7:p1", "7:42", "", ""}, map[int]bool{2: true, 3: true}},
		{"bare field expression", "player_id", []string{"p1", "42", "", "p1"}, map[int]bool{2: true}},
		{"constant", `"all"`, []string{"all", "all", "all", "all"}, nil},
	}
	c := newCluster(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			topic := topicName()
			if err := c.CreateTopic(topic, 2, nil); err != nil {
				t.Fatal(err)
			}
			cfg := testConfig(c, topic)
			cfg.Key = tc.key
			s := openSink(t, cfg)
			recs := []engine.Record{
				rec(`{"i":0,"player_id":"p1","match_id":7}`, []byte("own"), nil, time.Time{}),
				rec(`{"i":1,"player_id":42,"match_id":7}`, nil, nil, time.Time{}),
				rec(`{"i":2}`, []byte("own"), nil, time.Time{}),
				rec(`{"i":3,"player_id":"p1"}`, nil, nil, time.Time{}),
			}
			err := s.Write(t.Context(), engine.Batch{Records: recs})
			if tc.failed == nil {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				assertFailed(t, err, tc.failed)
			}
			got := map[string]string{}
			for _, r := range consume(t, c, topic) {
				got[string(r.Value)] = string(r.Key)
			}
			for i, r := range recs {
				k, ok := got[string(r.Value)]
				if tc.want[i] == "" {
					if ok {
						t.Errorf("record %d was written with key %q, want it failed", i, k)
					}
					continue
				}
				if k != tc.want[i] {
					t.Errorf("record %d: key %q, want %q", i, k, tc.want[i])
				}
			}
		})
	}
}

// TestPartitionExpression sends records to the partition an expression
// computes, and fails those whose partition is not one of the topic's.
func TestPartitionExpression(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(4, "t"))
	cfg := testConfig(c, "t")
	cfg.Partition = "p"
	s := openSink(t, cfg)
	var recs []engine.Record
	for i := range 8 {
		recs = append(recs, rec(fmt.Sprintf(`{"i":%d,"p":%d}`, i, i%4), nil, nil, time.Time{}))
	}
	recs = append(recs,
		rec(`{"i":8,"p":4}`, nil, nil, time.Time{}),      // no partition 4: ErrInvalidPartition from sarama
		rec(`{"i":9,"p":-1}`, nil, nil, time.Time{}),     // negative
		rec(`{"i":10,"p":"one"}`, nil, nil, time.Time{}), // not a number
		rec(`{"i":11}`, nil, nil, time.Time{}),           // nil
	)
	err := s.Write(t.Context(), engine.Batch{Records: recs})
	assertFailed(t, err, map[int]bool{8: true, 9: true, 10: true, 11: true})
	got := consume(t, c, "t")
	if len(got) != 8 {
		t.Fatalf("read %d records, want 8", len(got))
	}
	for _, r := range got {
		var i, p int
		fmt.Sscanf(string(r.Value), `{"i":%d,"p":%d}`, &i, &p)
		if r.Partition != int32(p) {
			t.Errorf("%s on partition %d", r.Value, r.Partition)
		}
	}

	// hash_mod gives a stable partition per player.
	cfg.Partition = "hash_mod(string(player_id), 4)"
	s2 := openSink(t, cfg)
	recs = recs[:0]
	for i := range 40 {
		recs = append(recs, rec(fmt.Sprintf(`{"i":%d,"player_id":%d}`, 100+i, i%5), nil, nil, time.Time{}))
	}
	if err := s2.Write(t.Context(), engine.Batch{Records: recs}); err != nil {
		t.Fatal(err)
	}
	byPlayer := map[int]int32{}
	for _, r := range consume(t, c, "t") {
		var i, player int
		if _, err := fmt.Sscanf(string(r.Value), `{"i":%d,"player_id":%d}`, &i, &player); err != nil {
			continue
		}
		if p, ok := byPlayer[player]; ok && p != r.Partition {
			t.Errorf("player %d on partitions %d and %d", player, p, r.Partition)
		}
		byPlayer[player] = r.Partition
	}
	if len(byPlayer) != 5 {
		t.Errorf("players seen: %v", byPlayer)
	}
}

// TestHeaders adds static and templated headers to the record's own; a
// configured header replaces the record's header of the same name.
func TestHeaders(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "t"))
	cfg := testConfig(c, "t")
	cfg.Headers = map[string]string{"producer": "sluice", "region": "{{ region }}", "trace": "cfg"}
	s := openSink(t, cfg)
	recs := []engine.Record{
		rec(`{"region":"eu"}`, nil, map[string]string{"trace": "rec", "z": "1"}, time.Time{}),
		rec(`{"id":1}`, nil, nil, time.Time{}), // region missing
	}
	assertFailed(t, s.Write(t.Context(), engine.Batch{Records: recs}), map[int]bool{1: true})
	got := consume(t, c, "t")
	if len(got) != 1 {
		t.Fatalf("read %d records", len(got))
	}
	var hs []string
	for _, h := range got[0].Headers {
		hs = append(hs, h.Key+"="+string(h.Value))
	}
	if want := []string{"z=1", "producer=sluice", "region=eu", "trace=cfg"}; !slices.Equal(hs, want) {
		t.Errorf("headers %q, want %q", hs, want)
	}
}

// TestConcurrentWrites writes from several goroutines at once.
func TestConcurrentWrites(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(4, "t"))
	cfg := testConfig(c, "t")
	cfg.Key = "{{ w }}"
	s := openSink(t, cfg)
	const writers, batches, size = 8, 10, 250
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				recs := make([]engine.Record, size)
				for i := range recs {
					recs[i] = rec(fmt.Sprintf(`{"w":%d,"b":%d,"i":%d}`, w, b, i), nil, nil, time.Time{})
				}
				errs <- s.Write(t.Context(), engine.Batch{Records: recs})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := consume(t, c, "t")
	seen := map[string]bool{}
	for _, r := range got {
		if seen[string(r.Value)] {
			t.Fatalf("duplicate %s", r.Value)
		}
		seen[string(r.Value)] = true
	}
	if len(seen) != writers*batches*size {
		t.Fatalf("read %d distinct records, want %d", len(seen), writers*batches*size)
	}
	// Per writer (one key, one partition), records keep the order of the
	// writes and of each batch.
	last := map[string][2]int{}
	for _, r := range got {
		var w, b, i int
		fmt.Sscanf(string(r.Value), `{"w":%d,"b":%d,"i":%d}`, &w, &b, &i)
		k := string(r.Key)
		if p, ok := last[k]; ok && (b < p[0] || b == p[0] && i < p[1]) {
			t.Fatalf("writer %s: %d/%d after %d/%d", k, b, i, p[0], p[1])
		}
		last[k] = [2]int{b, i}
	}
}

// TestIdempotentProducer checks the producer configuration and that the
// brokers see an idempotent producer: one InitProducerID and records with
// a producer ID.
func TestIdempotentProducer(t *testing.T) {
	cfg := Defaults()
	cfg.Brokers = []string{"localhost:9092"}
	cfg.Topic = "t"
	sc, err := cfg.saramaConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Producer.Idempotent || sc.Producer.RequiredAcks != sarama.WaitForAll || sc.Net.MaxOpenRequests != 1 ||
		sc.Producer.Retry.Max < 1 || !sc.Producer.Return.Successes || !sc.Producer.Return.Errors {
		t.Fatalf("producer config: idempotent %v, acks %v, max open %d, retries %d",
			sc.Producer.Idempotent, sc.Producer.RequiredAcks, sc.Net.MaxOpenRequests, sc.Producer.Retry.Max)
	}
	if sc.Producer.Compression != sarama.CompressionSnappy {
		t.Errorf("compression %v, want snappy", sc.Producer.Compression)
	}
	if d := sc.Producer.Retry.BackoffFunc(1, 5); d != 100*time.Millisecond {
		t.Errorf("first backoff %v", d)
	}
	if d := sc.Producer.Retry.BackoffFunc(9, 10); d != maxRetryBackoff {
		t.Errorf("ninth backoff %v", d)
	}

	c := newCluster(t, kfake.SeedTopics(2, "t"))
	inits := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.InitProducerID}, Observe: true, Count: -1})
	s := openSink(t, testConfig(c, "t"))
	if err := s.Write(t.Context(), engine.Batch{Records: []engine.Record{rec(`{"a":1}`, []byte("k"), nil, time.Time{})}}); err != nil {
		t.Fatal(err)
	}
	if inits.Hits() != 1 {
		t.Errorf("InitProducerID requests: %d, want 1", inits.Hits())
	}
	got := consume(t, c, "t")
	if len(got) != 1 || got[0].ProducerID < 0 {
		t.Fatalf("records %+v: want one with a producer ID", got)
	}

	// idempotent: false produces without a producer ID.
	cfg = testConfig(c, "t")
	cfg.Idempotent = false
	s2 := openSink(t, cfg)
	if err := s2.Write(t.Context(), engine.Batch{Records: []engine.Record{rec(`{"a":2}`, nil, nil, time.Time{})}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range consume(t, c, "t") {
		if string(r.Value) == `{"a":2}` && r.ProducerID != -1 {
			t.Errorf("non-idempotent record has producer ID %d", r.ProducerID)
		}
	}
}

// TestCompression round-trips every codec through kfake.
func TestCompression(t *testing.T) {
	c := newCluster(t)
	for _, comp := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			topic := topicName()
			if err := c.CreateTopic(topic, 1, nil); err != nil {
				t.Fatal(err)
			}
			cfg := testConfig(c, topic)
			cfg.Compression = comp
			s := openSink(t, cfg)
			var recs []engine.Record
			for i := range 100 {
				recs = append(recs, rec(fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", 100)), nil, nil, time.Time{}))
			}
			if err := s.Write(t.Context(), engine.Batch{Records: recs}); err != nil {
				t.Fatal(err)
			}
			if got := consume(t, c, topic); len(got) != 100 {
				t.Fatalf("read %d records", len(got))
			}
		})
	}
}

// TestErrorClassification checks which producer errors are permanent.
func TestErrorClassification(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "t"))
	cfg := testConfig(c, "t")
	cfg.Retries = 2
	cfg.RetryBackoff = 10 * time.Millisecond
	cfg.MaxMessageBytes = 1000
	s := openSink(t, cfg)
	small := func(i int) engine.Record { return rec(fmt.Sprintf(`{"i":%d}`, i), nil, nil, time.Time{}) }
	big := rec(`{"pad":"`+strings.Repeat("x", 2000)+`"}`, nil, nil, time.Time{})

	t.Run("larger_than_max_message_bytes", func(t *testing.T) {
		err := s.Write(t.Context(), engine.Batch{Records: []engine.Record{small(0), big, small(2)}})
		assertFailed(t, err, map[int]bool{1: true})
	})
	tests := []struct {
		name      string
		err       *kerr.Error
		permanent bool
	}{
		{"not_enough_replicas", kerr.NotEnoughReplicas, false},
		{"leader_not_available", kerr.LeaderNotAvailable, false},
		{"request_timed_out", kerr.RequestTimedOut, false},
		{"topic_authorization_failed", kerr.TopicAuthorizationFailed, false},
		{"message_too_large", kerr.MessageTooLarge, true},
		{"invalid_record", kerr.InvalidRecord, true},
		{"policy_violation", kerr.PolicyViolation, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "t", Err: tc.err, Count: -1})
			err := s.Write(t.Context(), engine.Batch{Records: []engine.Record{small(0), small(1)}})
			f.Remove()
			assertFailed(t, err, map[int]bool{0: tc.permanent, 1: tc.permanent})
			if !strings.Contains(err.Error(), "produce to t/0") {
				t.Errorf("error does not say where: %v", err)
			}
			// The producer recovers once the fault is gone.
			if err := s.Write(t.Context(), engine.Batch{Records: []engine.Record{small(2)}}); err != nil {
				t.Fatalf("Write after the fault: %v", err)
			}
		})
	}
	if n := testutilCounter(s); n < 1 {
		t.Errorf("sluice_kafka_produce_errors_total = %v", n)
	}

	t.Run("unit", func(t *testing.T) {
		for _, tc := range []struct {
			err       error
			permanent bool
		}{
			{sarama.ErrNotEnoughReplicasAfterAppend, false},
			{sarama.ErrOutOfBrokers, false},
			{errors.New("dial tcp: connection refused"), false},
			{sarama.ErrInvalidPartition, true},
			{sarama.ConfigurationError("too big"), true},
			{fmt.Errorf("produce: %w", sarama.ErrInvalidTopic), true},
			{sarama.ErrInvalidTimestamp, true},
		} {
			if got := engine.IsPermanent(classify(tc.err)); got != tc.permanent {
				t.Errorf("classify(%v) permanent = %v, want %v", tc.err, got, tc.permanent)
			}
		}
	})
}

// TestCancel checks that a Write whose context ends while the brokers have
// not answered returns ctx.Err(), not success.
func TestCancel(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "t"))
	s := openSink(t, testConfig(c, "t"))
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		cancel()
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	err := s.Write(ctx, engine.Batch{Records: []engine.Record{rec(`{"a":1}`, nil, nil, time.Time{})}})
	close(release)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Write(t.Context(), engine.Batch{Records: []engine.Record{rec(`{"a":2}`, nil, nil, time.Time{})}}); !errors.Is(err, engine.ErrNotConnected) {
		t.Fatalf("Write after Close: %v, want ErrNotConnected", err)
	}
}

func TestOpenFails(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		cfg := Defaults()
		cfg.Brokers = []string{"127.0.0.1:1"}
		cfg.Topic = "t"
		s, err := New(cfg, engine.TestEnv())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		err = s.Open(ctx)
		if err == nil || !strings.Contains(err.Error(), "connect to kafka 127.0.0.1:1") {
			t.Fatalf("Open: %v", err)
		}
		t.Log(err)
	})
	t.Run("unreachable_templated_topic", func(t *testing.T) {
		cfg := Defaults()
		cfg.Brokers = []string{"127.0.0.1:1"}
		cfg.Topic = "events-{{ region }}"
		cfg.Idempotent = false // no InitProducerID either
		s, err := New(cfg, engine.TestEnv())
		if err != nil {
			t.Fatal(err)
		}
		err = s.Open(t.Context())
		if err == nil || !strings.Contains(err.Error(), "connect to kafka 127.0.0.1:1") {
			t.Fatalf("Open: %v", err)
		}
	})
	t.Run("ctx_bounds_connect", func(t *testing.T) {
		cfg := Defaults()
		cfg.Brokers = []string{"10.255.255.1:9092"} // not routable: dials hang
		cfg.Topic = "t"
		s, _ := New(cfg, engine.TestEnv())
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := s.Open(ctx)
		if err == nil {
			t.Fatal("Open succeeded")
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Fatalf("Open took %v with a 300ms context", el)
		}
	})
	t.Run("missing_topic", func(t *testing.T) {
		c := newCluster(t)
		s, _ := New(testConfig(c, "nope"), engine.TestEnv())
		err := s.Open(t.Context())
		if err == nil || !strings.Contains(err.Error(), "topic nope does not exist") {
			t.Fatalf("Open: %v", err)
		}
	})
}

func TestConfigDocs(t *testing.T) {
	if err := spec.CheckDocs(reflect.TypeFor[Config]()); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string // "" for valid
	}{
		{"ok", func(c *Config) {}, ""},
		{"template topic", func(c *Config) { c.Topic = "events-{{ region }}" }, ""},
		{"no topic", func(c *Config) { c.Topic = "" }, "topic: a topic name or template is required"},
		{"illegal topic", func(c *Config) { c.Topic = "a b" }, "topic: topic name \"a b\" has an illegal character"},
		{"no brokers", func(c *Config) { c.Brokers = nil }, "brokers: at least one address"},
		{"bad compression", func(c *Config) { c.Compression = "brotli" }, "compression: expected none, gzip"},
		{"zstd too old", func(c *Config) { c.Compression = "zstd"; c.Version = "2.0.0" }, "compression: zstd needs version 2.1.0"},
		{"idempotent too old", func(c *Config) { c.Version = "0.10.2.0" }, "idempotent: needs version 0.11.0"},
		{"old broker, not idempotent", func(c *Config) { c.Version = "0.10.2.0"; c.Idempotent = false }, ""},
		{"no retries", func(c *Config) { c.Retries = 0 }, "retries: expected at least 1"},
		{"zero max bytes", func(c *Config) { c.MaxMessageBytes = 0 }, "max_message_bytes: expected a positive size"},
		{"zero ack timeout", func(c *Config) { c.AckTimeout = 0 }, "ack_timeout: expected a positive duration"},
		{"empty header name", func(c *Config) { c.Headers = map[string]string{"": "x"} }, "headers: empty header name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			c.Brokers = []string{"localhost:9092"}
			c.Topic = "t"
			tc.mod(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			var fe *spec.FieldError
			if !errors.As(err, &fe) {
				t.Errorf("%v is not a spec.FieldError", err)
			}
		})
	}
}

func TestNewCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"topic", func(c *Config) { c.Topic = "events-{{ region" }, "topic: unclosed {{"},
		{"key template", func(c *Config) { c.Key = "{{ uper(x) }}" }, `key: unknown function "uper"`},
		{"key expression", func(c *Config) { c.Key = "a +" }, "key: "},
		{"key expression typo", func(c *Config) { c.Key = "to_strin(a)" }, `key: unknown function "to_strin" (did you mean "to_string"?)`},
		{"partition", func(c *Config) { c.Partition = "hash_mod(x)" }, "partition: "},
		{"header", func(c *Config) { c.Headers = map[string]string{"h": "{{ }}"} }, "headers.h: empty expression"},
		{"rendered topic", func(c *Config) { c.Topic = "{{ \"a\" }}" }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			c.Brokers = []string{"localhost:9092"}
			c.Topic = "t"
			tc.mod(&c)
			_, err := New(c, engine.TestEnv())
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestPipelineFile loads a pipeline whose dead-letter sink is kafka, and
// one with a bad key template, through the engine's loader.
func TestPipelineFile(t *testing.T) {
	r := engine.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	if err := engine.RegisterSource(r, engine.SourceSpec[struct{}]{
		Name: "nothing", Defaults: func() struct{} { return struct{}{} },
		New: func(struct{}, engine.Env) (engine.Source, error) { return nil, nil },
	}); err != nil {
		t.Fatal(err)
	}
	comp, ok := r.Lookup(engine.KindSink, "kafka")
	if !ok || comp.Batch != DefaultBatch {
		t.Fatalf("registered %+v", comp)
	}
	lookup := func(string) (string, bool) { return "", false }
	src := `name: chain
source:
  nothing: {}
sinks:
  out:
    kafka:
      brokers: ["${KAFKA_BROKERS:-localhost:9092}"]
      topic: 'events-{{ region }}'
      key: '{{ player_id }}'
      partition: 'hash_mod(string(player_id), 8)'
      headers: {producer: sluice}
      compression: zstd
dead_letter:
  kafka: {brokers: ["${KAFKA_BROKERS:-localhost:9092}"], topic: game-events-dlq}
`
	p, err := engine.Load("chain.yaml", []byte(src), engine.LoadOptions{Registry: r, Lookup: lookup})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Sinks[0].Sink.(*Sink); !ok {
		t.Errorf("sink is %T", p.Sinks[0].Sink)
	}
	bad := strings.Replace(src, "key: '{{ player_id }}'", "key: '{{ player_id'", 1)
	_, err = engine.Load("chain.yaml", []byte(bad), engine.LoadOptions{Registry: r, Lookup: lookup})
	if err == nil || !strings.Contains(err.Error(), "chain.yaml:9:13:") || !strings.Contains(err.Error(), "sinks.out.kafka.key: unclosed {{") {
		t.Fatalf("err = %v", err)
	}
}

var _ engine.Sink = (*Sink)(nil)

// testutilCounter returns the value of the sink's produce error counter.
func testutilCounter(s *Sink) float64 {
	var m dto.Metric
	if err := s.produceErrors.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}
