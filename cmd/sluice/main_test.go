package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// build compiles the sluice binary into a temporary directory.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sluice")
	out, err := exec.Command("go", "build", "-race", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSignalDrains runs an endless pipeline in a real process, sends
// SIGTERM, and checks that it exits 0 having written every record it read.
func TestSignalDrains(t *testing.T) {
	bin := build(t)
	p := write(t, "endless.yaml", `
name: endless
source:
  generate: {rate: 20000, batch_size: 100}
sinks:
  out:
    stdout: {}
    batch: {count: 1000, period: 50ms}
`)
	cmd := exec.Command(bin, "run", "--state", "mem://", p)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("did not exit after SIGTERM\n%s", stderr.String())
	}
	lines := 0
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		lines++
	}
	read := summaryCount(t, stderr.String(), `read\s+(\d+) records`)
	written := summaryCount(t, stderr.String(), `written\s+(\d+) to out`)
	if read < 1000 || read != written || written != lines {
		t.Fatalf("read %d, written %d, stdout lines %d\n%s", read, written, lines, stderr.String())
	}
	if !strings.Contains(stderr.String(), "draining") {
		t.Errorf("no drain log:\n%s", stderr.String())
	}
}

func summaryCount(t *testing.T, s, re string) int {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %q in:\n%s", re, s)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestValidateReportsPositions(t *testing.T) {
	bin := build(t)
	bad := write(t, "bad.yaml", "name: bad\nsource: {generate: {count: -1}}\nsinks:\n  out: {stdout: {format: xml}}\n")
	good := write(t, "good.yaml", "name: good\nsource: {generate: {count: 1}}\nsinks:\n  out: {drop: {}}\n")
	out, err := exec.Command(bin, "validate", good, bad).CombinedOutput()
	if err == nil {
		t.Fatalf("validate of a bad file exited 0:\n%s", out)
	}
	for _, want := range []string{
		good + ": ok",
		bad + ":2:28: source.generate.count: expected 0 or more, got -1",
		bad + ":4:26: sinks.out.stdout.format: expected value or envelope, got \"xml\"",
		"1 of 2 file(s) invalid",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestTestCommand(t *testing.T) {
	bin := build(t)
	p := write(t, "p.yaml", `
name: p
source: {generate: {count: 1}}
transforms:
  - set: {b: 'a * 2'}
sinks:
  out: {drop: {}}
tests:
  - name: doubles
    input: [{a: 1}]
    expect: {out: [{a: 1, b: 2}]}
  - name: wrong on purpose
    input: [{a: 1}]
    expect: {out: [{a: 1, b: 3}]}
`)
	out, err := exec.Command(bin, "test", p).CombinedOutput()
	if err == nil {
		t.Fatalf("a failing case exited 0:\n%s", out)
	}
	for _, want := range []string{"ok   " + p + ":9 doubles", "FAIL " + p + ":12 wrong on purpose", `- want[0] {"a":1,"b":3}`, `+ got[0]  {"a":1,"b":2}`, "1 passed, 1 failed"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestScheduledBackfill runs a pipeline with a schedule in a real process:
// it runs at each tick, one run at a time, logs each run's summary, and a
// later run reads nothing that an earlier one finished.
func TestScheduledBackfill(t *testing.T) {
	bin := build(t)
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake", "in")
	if err := os.MkdirAll(lake, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		var b strings.Builder
		for j := range 100 {
			fmt.Fprintf(&b, "{\"id\":%d}\n", i*100+j)
		}
		os.WriteFile(filepath.Join(lake, fmt.Sprintf("part-%d.jsonl", i)), []byte(b.String()), 0o644)
	}
	p := write(t, "scheduled.yaml", fmt.Sprintf(`
name: nightly
schedule: '@every 1s'
source:
  objectstore: {url: "file://%s", prefix: in/}
sinks:
  out: {stdout: {}}
`, filepath.Join(dir, "lake")))
	cmd := exec.Command(bin, "run", "--state", "file://"+filepath.Join(dir, "state"), p)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	runs := strings.Count(stderr.String(), "scheduled run finished")
	if runs < 2 {
		t.Fatalf("%d scheduled runs in 3.5s of @every 1s:\n%s", runs, stderr.String())
	}
	lines := strings.Count(stdout.String(), "\n")
	if lines != 300 {
		t.Fatalf("%d records written over %d runs, want the 300 once", lines, runs)
	}
}

// syncBuffer is a bytes.Buffer that a child process may write while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestHTTPEndpoints runs a pipeline with --http and reads /metrics,
// /healthz and /readyz while it runs.
func TestHTTPEndpoints(t *testing.T) {
	bin := build(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := write(t, "http.yaml", "name: web\nsource: {generate: {rate: 2000}}\nsinks:\n  out: {drop: {}}\n")
	cmd := exec.Command(bin, "run", "--http", addr, "--log-format", "json", "--state", "mem://", p)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	}
	defer stop()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := get("/metrics")
		if code == 200 && strings.Contains(body, `sluice_records_out_total{component="sinks.out",kind="sink",pipeline="web"}`) {
			if !strings.Contains(body, "sluice_end_to_end_latency_seconds_bucket") || !strings.Contains(body, "go_goroutines") {
				t.Errorf("metrics lack latency or runtime collectors")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sink metrics at /metrics (%d):\n%s\n%s", code, body, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz = %d", code)
	}
	stop()
	if !strings.Contains(stderr.String(), `"msg":"pipeline started"`) {
		t.Errorf("--log-format json not honoured:\n%s", stderr.String())
	}
}
