package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/engine/run"
)

// The live scenario measures latency from event time to durable: while the
// measured child runs the pipeline, the harness produces events into an
// empty topic at a steady rate, each stamped with the time it is produced,
// and the pipeline's sluice_end_to_end_latency_seconds histogram gives the
// median and 99th percentile.
//
// The run goes in steps. The child starts the pipeline; the harness
// produces a heartbeat (which the pipeline's filter drops, so it is not
// measured) every 20ms until the child has read one, that is until the
// consumer group has its partitions, and the child says so on stdout
// ({"ready":true}). The harness then produces -live-rate events a second
// for -live-seconds, and tells the child on stdin how many records the
// topic now holds ({"total":n}); the child drains once it has read them
// and reports as any other run.

// liveReady and liveTotal are the messages of the live steps.
type liveReady struct {
	Ready bool `json:"ready"`
}

type liveTotal struct {
	Total    int64 `json:"total"`    // records in the topic
	Measured int64 `json:"measured"` // of them, the events produced at the rate
}

// prepareLive gives each run an empty topic of its own, deleted after.
func prepareLive(_ context.Context, f *fixture, id string) (map[string]string, func(), error) {
	topic := "sluice-bench-live-" + id
	if err := createTopic(f.brokers, topic, 8); err != nil {
		return nil, nil, err
	}
	vars := map[string]string{
		"BENCH_KAFKA": strings.Join(f.brokers, ","),
		"BENCH_TOPIC": topic,
		"BENCH_GROUP": "sluice-bench-" + id,
	}
	return vars, func() { deleteTopic(f.brokers, topic) }, nil
}

// measureLive runs a live scenario's child, producing its input meanwhile.
func (h *harness) measureLive(ctx context.Context, f *fixture, s *scenario) (metrics, error) {
	vars, cleanup, err := s.prepare(ctx, f, f.nextID())
	if err != nil {
		return metrics{}, fmt.Errorf("set-up: %w", err)
	}
	defer cleanup()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.brokers...), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.DefaultProduceTopic(vars["BENCH_TOPIC"]), kgo.ProducerLinger(0))
	if err != nil {
		return metrics{}, err
	}
	defer cl.Close()

	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	exe, err := os.Executable()
	if err != nil {
		return metrics{}, err
	}
	cmd := exec.CommandContext(ctx, exe, childFlag, s.name)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return metrics{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return metrics{}, err
	}
	stderr := &tailBuffer{max: 8 << 10}
	cmd.Stderr = stderr
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return metrics{}, err
	}
	job := childJob{Scenario: s.name, Kind: s.kind, Vars: vars, Live: true}
	if err := json.NewEncoder(stdin).Encode(job); err != nil {
		return metrics{}, err
	}

	var produced atomic.Int64
	var failed atomic.Pointer[error]
	produce := func(v []byte) {
		produced.Add(1)
		cl.Produce(ctx, &kgo.Record{Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
	}
	// Heartbeats until the child reads one.
	probing, probed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(probed)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			produce([]byte(`{"event":"heartbeat","latency_ms":1,"ts":"2026-11-24T00:00:00Z","region":"eu"}`))
			select {
			case <-t.C:
			case <-probing:
				return
			}
		}
	}()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 1<<20)
	var ready liveReady
	for !ready.Ready && lines.Scan() {
		json.Unmarshal(lines.Bytes(), &ready)
	}
	close(probing)
	<-probed
	if !ready.Ready {
		cmd.Wait()
		return metrics{}, fmt.Errorf("the child did not start reading; stderr: %s", strings.TrimSpace(stderr.String()))
	}

	// The measured events, at the rate, stamped as they are produced.
	err = produceAtRate(ctx, f.liveRate, f.recordsOf(s), produce)
	if ferr := cl.Flush(ctx); err == nil {
		err = ferr
	}
	if e := failed.Load(); err == nil && e != nil {
		err = *e
	}
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return metrics{}, fmt.Errorf("produce: %w", err)
	}
	if err := json.NewEncoder(stdin).Encode(liveTotal{Total: produced.Load(), Measured: f.recordsOf(s)}); err != nil {
		return metrics{}, err
	}
	var rest bytes.Buffer
	for lines.Scan() {
		rest.Write(lines.Bytes())
		rest.WriteByte('\n')
	}
	runErr := cmd.Wait()
	return h.childMetrics(ctx, cmd, rest.String(), runErr, stderr)
}

// produceAtRate calls produce with n benchmark events, rate a second,
// paced every millisecond.
func produceAtRate(ctx context.Context, rate, n int64, produce func([]byte)) error {
	start := time.Now()
	var sent int64
	return generateEvents(ctx, n, func(values [][]byte) error {
		for _, v := range values {
			// Wait until this event is due.
			if due := start.Add(time.Duration(sent * int64(time.Second) / rate)); time.Until(due) > time.Millisecond {
				select {
				case <-time.After(time.Until(due)):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			produce(append([]byte(nil), v...)) // kgo keeps the value until acknowledged
			sent++
		}
		return nil
	})
}

// runLive is the child's side of a live run: the pipeline runs while the
// harness produces, and drains once it has read the total the harness
// sends on in.
func runLive(ctx context.Context, job childJob, in *json.Decoder, out io.Writer) (childResult, error) {
	var res childResult
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p, reg, err := newRunner(job.Scenario, job.Vars)
	if err != nil {
		return res, err
	}
	r := run.New(p)
	type result struct {
		sum run.Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := r.Run(ctx)
		done <- result{sum, err}
	}()
	// Ready once a first record was read: the partitions are assigned.
	wait := func(cond func() bool, what string) error {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for !cond() {
			select {
			case <-t.C:
			case res := <-done:
				return fmt.Errorf("the pipeline ended %s: %v", what, res.err)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	if err := wait(func() bool { return r.Stats().Read > 0 }, "before reading"); err != nil {
		return res, err
	}
	if err := json.NewEncoder(out).Encode(liveReady{Ready: true}); err != nil {
		return res, err
	}
	start := time.Now()
	var total liveTotal
	if err := in.Decode(&total); err != nil {
		return res, fmt.Errorf("read the total: %w", err)
	}
	if err := wait(func() bool { return r.Stats().Read >= total.Total }, "before reading every record"); err != nil {
		return res, err
	}
	elapsed := time.Since(start)
	r.Drain()
	rr := <-done
	if rr.err != nil {
		return res, rr.err
	}
	// The run's records are the events it measured: the heartbeats before
	// them were only there to wait for the group.
	res.Records, res.Bytes, res.Seconds = total.Measured, rr.sum.Bytes, elapsed.Seconds()
	for _, w := range rr.sum.Written {
		res.Kept += w.Records
	}
	if rr.sum.Read != total.Total {
		return res, fmt.Errorf("read %d records, the topic holds %d", rr.sum.Read, total.Total)
	}
	res.AckP50, res.AckP99 = histogramQuantiles(reg, "sluice_ack_latency_seconds", "")
	res.E2EP50, res.E2EP99 = histogramQuantiles(reg, "sluice_end_to_end_latency_seconds", "sinks.out")
	if res.E2EP50 == nil {
		return res, errors.New("no end-to-end latency was measured")
	}
	return res, nil
}
