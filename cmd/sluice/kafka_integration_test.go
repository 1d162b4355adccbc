//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/engine/enginetest"
)

// These tests run the sluice binary against the real broker that .ci/run
// starts (SLUICE_TEST_KAFKA), kill it, restart it, scale it out, and count
// the records that arrive in an output topic.

type kafkaEnv struct {
	t       *testing.T
	brokers string
	bin     string
	admin   sarama.ClusterAdmin
	client  sarama.Client
}

func newKafkaEnv(t *testing.T) *kafkaEnv {
	t.Helper()
	brokers := enginetest.Env(t, "SLUICE_TEST_KAFKA")
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	client, err := sarama.NewClient([]string{brokers}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return &kafkaEnv{t: t, brokers: brokers, bin: build(t), admin: admin, client: client}
}

func (k *kafkaEnv) topic(prefix string, partitions int32) string {
	k.t.Helper()
	name := fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), rand.IntN(1000))
	if err := k.admin.CreateTopic(name, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false); err != nil {
		k.t.Fatalf("create topic %s: %v", name, err)
	}
	return name
}

// produce writes records {"id":from..from+n-1} keyed by id; with pace > 0
// it spreads them over that duration.
func (k *kafkaEnv) produce(topic string, from, n int, pace time.Duration, value func(i int) []byte) {
	k.t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	p, err := sarama.NewSyncProducer([]string{k.brokers}, cfg)
	if err != nil {
		k.t.Fatal(err)
	}
	defer p.Close()
	const chunk = 1000
	start := time.Now()
	for i := from; i < from+n; i += chunk {
		var msgs []*sarama.ProducerMessage
		for j := i; j < min(i+chunk, from+n); j++ {
			msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprint(j)), Value: sarama.ByteEncoder(value(j))})
		}
		if err := p.SendMessages(msgs); err != nil {
			k.t.Fatalf("produce: %v", err)
		}
		if pace > 0 {
			due := start.Add(time.Duration(float64(pace) * float64(i+chunk-from) / float64(n)))
			time.Sleep(time.Until(due))
		}
	}
}

func event(i int) []byte {
	return fmt.Appendf(nil, `{"id":%d,"event":"kill","latency_ms":%d,"region":"eu-west"}`, i, i%300)
}

// endOffsets returns the high-water mark of every partition of topic.
func (k *kafkaEnv) endOffsets(topic string) map[int32]int64 {
	k.t.Helper()
	if err := k.client.RefreshMetadata(topic); err != nil {
		k.t.Fatal(err)
	}
	parts, err := k.client.Partitions(topic)
	if err != nil {
		k.t.Fatal(err)
	}
	out := map[int32]int64{}
	for _, p := range parts {
		off, err := k.client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			k.t.Fatal(err)
		}
		out[p] = off
	}
	return out
}

func total(m map[int32]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// waitTotal waits until topic holds at least n records.
func (k *kafkaEnv) waitTotal(topic string, n int64, timeout time.Duration) {
	k.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := total(k.endOffsets(topic))
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("%s holds %d records after %v, want %d", topic, got, timeout, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// readAll reads every record of topic up to its current end.
func (k *kafkaEnv) readAll(topic string) []*sarama.ConsumerMessage {
	k.t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	c, err := sarama.NewConsumer([]string{k.brokers}, cfg)
	if err != nil {
		k.t.Fatal(err)
	}
	defer c.Close()
	var out []*sarama.ConsumerMessage
	for p, end := range k.endOffsets(topic) {
		if end == 0 {
			continue
		}
		pc, err := c.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			k.t.Fatal(err)
		}
		for m := range pc.Messages() {
			out = append(out, m)
			if m.Offset >= end-1 {
				break
			}
		}
		pc.Close()
	}
	return out
}

// committed returns the group's committed offsets for topic.
func (k *kafkaEnv) committed(group, topic string, parts map[int32]int64) map[int32]int64 {
	k.t.Helper()
	var ps []int32
	for p := range parts {
		ps = append(ps, p)
	}
	resp, err := k.admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: ps})
	if err != nil {
		k.t.Fatal(err)
	}
	out := map[int32]int64{}
	for p, b := range resp.Blocks[topic] {
		out[p] = b.Offset
	}
	return out
}

// ids decodes the id field of every message and counts each.
func ids(t *testing.T, msgs []*sarama.ConsumerMessage) map[int]int {
	t.Helper()
	out := map[int]int{}
	for _, m := range msgs {
		var v struct{ ID int }
		if err := json.Unmarshal(m.Value, &v); err != nil {
			t.Fatalf("output record is not JSON: %s", m.Value)
		}
		out[v.ID]++
	}
	return out
}

// checkAll fails unless every id in [0,n) arrived; it returns how many
// arrived more than once.
func checkAll(t *testing.T, got map[int]int, n int) (dups int) {
	t.Helper()
	missing := 0
	for i := 0; i < n; i++ {
		c := got[i]
		if c == 0 {
			missing++
		}
		if c > 1 {
			dups += c - 1
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d records missing", missing, n)
	}
	return dups
}

func (k *kafkaEnv) pipeline(in, out, group, dlq string, extra string) string {
	k.t.Helper()
	dl := ""
	if dlq != "" {
		dl = fmt.Sprintf("dead_letter:\n  kafka: {brokers: [%q], topic: %s}\n", k.brokers, dlq)
	}
	src := fmt.Sprintf(`name: kafka-it
source:
  kafka:
    brokers: [%q]
    topics: [%s]
    group: %s
    start: earliest
    commit_interval: 500ms
%s
sinks:
  out:
    kafka: {brokers: [%q], topic: %s}
    batch: {count: 2000, period: 50ms}
%s`, k.brokers, in, group, extra, k.brokers, out, dl)
	return write(k.t, "pipeline.yaml", src)
}

type proc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	mu     *sync.Mutex
	done   chan error
}

func (k *kafkaEnv) start(file string) *proc {
	k.t.Helper()
	cmd := exec.Command(k.bin, "run", "--log-level", "info", "--state", "mem://", file)
	var stderr bytes.Buffer
	mu := &sync.Mutex{}
	cmd.Stderr = &lockedWriter{w: &stderr, mu: mu}
	if err := cmd.Start(); err != nil {
		k.t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: &stderr, mu: mu, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	k.t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("sluice exited with %v after SIGTERM:\n%s", err, p.log())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("sluice did not stop after SIGTERM:\n%s", p.log())
	}
}

func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// TestKafkaEndToEnd: 100 000 records through a real broker; every record
// arrives and the committed offsets equal the end offsets.
func TestKafkaEndToEnd(t *testing.T) {
	k := newKafkaEnv(t)
	const n = 100000
	in, out := k.topic("in", 8), k.topic("out", 8)
	k.produce(in, 0, n, 0, event)
	group := "g-" + in
	p := k.start(k.pipeline(in, out, group, "", ""))
	start := time.Now()
	k.waitTotal(out, n, 3*time.Minute)
	el := time.Since(start)
	p.stop(t)
	got := ids(t, k.readAll(out))
	if dups := checkAll(t, got, n); dups != 0 {
		t.Errorf("%d duplicates without any crash", dups)
	}
	ends := k.endOffsets(in)
	committed := k.committed(group, in, ends)
	for part, end := range ends {
		if committed[part] != end {
			t.Errorf("partition %d: committed %d, end %d", part, committed[part], end)
		}
	}
	t.Logf("kafka→kafka: %d records in %v (%.0f records/s, including start-up)", n, el.Round(time.Millisecond), float64(n)/el.Seconds())
}

// TestKafkaCrashRestart kills sluice with SIGKILL at random points and
// restarts it; no record may be missing.
func TestKafkaCrashRestart(t *testing.T) {
	k := newKafkaEnv(t)
	const n = 100000
	in, out := k.topic("crash-in", 8), k.topic("crash-out", 8)
	k.produce(in, 0, n, 0, event)
	file := k.pipeline(in, out, "g-"+in, "", "")
	kills := 0
	for round := 0; round < 4; round++ {
		p := k.start(file)
		// Let it get some way, then kill it at a random moment.
		target := int64(n/5*(round+1)) - int64(rand.IntN(n/10))
		deadline := time.Now().Add(2 * time.Minute)
		for total(k.endOffsets(out)) < target && time.Now().Before(deadline) {
			time.Sleep(time.Duration(20+rand.IntN(80)) * time.Millisecond)
		}
		p.kill()
		kills++
	}
	p := k.start(file)
	k.waitTotal(out, n, 3*time.Minute)
	// Wait until the output stops growing, so that the count is final.
	for last := int64(-1); ; time.Sleep(time.Second) {
		cur := total(k.endOffsets(out))
		if cur == last {
			break
		}
		last = cur
	}
	p.stop(t)
	got := ids(t, k.readAll(out))
	dups := checkAll(t, got, n)
	t.Logf("crash test: %d kill -9s, %d records, %d delivered twice or more (%.2f%%)", kills, n, dups, 100*float64(dups)/n)
	os.WriteFile(filepath.Join(os.TempDir(), "sluice-crash-duplicates.txt"), fmt.Appendf(nil, "%d kills, %d records, %d duplicates\n", kills, n, dups), 0o644)
}

// TestKafkaRebalance: two instances share a group, a third joins, one is
// killed; nothing is missing and partitions spread over the instances.
func TestKafkaRebalance(t *testing.T) {
	k := newKafkaEnv(t)
	const n = 100000
	in, out := k.topic("rb-in", 12), k.topic("rb-out", 12)
	group := "g-" + in
	file := k.pipeline(in, out, group, "", "")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); k.produce(in, 0, n, 12*time.Second, event) }()
	a, b := k.start(file), k.start(file)
	time.Sleep(4 * time.Second)
	c := k.start(file)
	// Wait for the group to settle with three members, and look at the
	// assignment.
	spread := 0
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		spread = k.membersWithPartitions(group)
		if spread == 3 {
			break
		}
	}
	if spread != 3 {
		t.Errorf("partitions spread over %d instances, want 3", spread)
	}
	a.kill()
	wg.Wait()
	k.waitTotal(out, n, 3*time.Minute)
	time.Sleep(2 * time.Second)
	b.stop(t)
	c.stop(t)
	got := ids(t, k.readAll(out))
	dups := checkAll(t, got, n)
	t.Logf("rebalance test: %d records, %d delivered twice (the killed instance's unacknowledged batches)", n, dups)
}

func (k *kafkaEnv) membersWithPartitions(group string) int {
	k.t.Helper()
	ds, err := k.admin.DescribeConsumerGroups([]string{group})
	if err != nil || len(ds) == 0 {
		return 0
	}
	n := 0
	for _, m := range ds[0].Members {
		a, err := m.GetMemberAssignment()
		if err != nil || a == nil {
			continue
		}
		parts := 0
		for _, ps := range a.Topics {
			parts += len(ps)
		}
		if parts > 0 {
			n++
		}
	}
	return n
}

// TestKafkaPoison: records that fail to decode or to transform land in a
// dead-letter topic with their error headers; the pipeline keeps consuming.
func TestKafkaPoison(t *testing.T) {
	k := newKafkaEnv(t)
	const n = 2000
	in, out, dlq := k.topic("poison-in", 4), k.topic("poison-out", 4), k.topic("poison-dlq", 1)
	value := func(i int) []byte {
		switch {
		case i%500 == 7:
			return []byte(`{"id":` + fmt.Sprint(i) + `, broken`)
		case i%500 == 9:
			return fmt.Appendf(nil, `{"id":%d,"event":"kill","latency_ms":"slow"}`, i)
		}
		return event(i)
	}
	k.produce(in, 0, n/2, 0, value)
	file := k.pipeline(in, out, "g-"+in, dlq, "transforms:\n  - set: {latency: 'to_int(latency_ms)'}\n")
	p := k.start(file)
	k.waitTotal(dlq, 4, time.Minute)
	// The pipeline is still consuming: the second half arrives too.
	k.produce(in, n/2, n/2, 0, value)
	k.waitTotal(out, n-8, time.Minute)
	k.waitTotal(dlq, 8, time.Minute)
	p.stop(t)
	dead := k.readAll(dlq)
	if len(dead) != 8 {
		t.Fatalf("%d dead letters, want 8", len(dead))
	}
	for _, m := range dead {
		h := map[string]string{}
		for _, rh := range m.Headers {
			h[string(rh.Key)] = string(rh.Value)
		}
		if h["sluice_error"] == "" || h["sluice_component"] != "transforms[0].set" || !strings.HasPrefix(h["sluice_source_position"], in+"/") {
			t.Errorf("dead letter %s has headers %v", m.Value, h)
		}
	}
	if got := len(k.readAll(out)); got != n-8 {
		t.Errorf("%d records written, want %d", got, n-8)
	}
}

var _ = context.Background
