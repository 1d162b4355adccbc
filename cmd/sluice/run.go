package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/checkpoint"
	"github.com/sluicehq/sluice/engine/run"
)

type runFlags struct {
	state    string
	progress time.Duration
}

func newRunCmd(g *globals) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run FILE...",
		Short: "Run pipelines until their sources end or SIGINT/SIGTERM (a second signal exits at once)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			log, err := stderrLogger(g)
			if err != nil {
				return err
			}
			reg, err := registry()
			if err != nil {
				return err
			}
			var srcs []pipelineSource
			for _, file := range files {
				src, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				srcs = append(srcs, pipelineSource{file: file, src: src})
			}
			return runPipelines(cmd.Context(), g, f, log, reg, srcs, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&f.state, "state", "file://.sluice/state", "checkpoint store URL for sources without native offsets (file://DIR or mem://)")
	cmd.Flags().DurationVar(&f.progress, "progress", 0, "print throughput to stderr at this interval (0: off)")
	return cmd
}

type pipelineSource struct {
	file string
	src  []byte
}

// runPipelines loads and runs pipelines until they end, draining them on
// the first SIGINT/SIGTERM and exiting at once on the second.
func runPipelines(ctx context.Context, g *globals, f *runFlags, log *slog.Logger, reg *engine.Registry, srcs []pipelineSource, out io.Writer) error {
	s, err := newSession(ctx, g, f, log, reg, srcs)
	if err != nil {
		return err
	}
	defer s.close()
	return s.run(ctx, out)
}

// session is a set of pipelines run together in one process, sharing the
// metrics registry, the HTTP endpoints and the checkpoint store.
type session struct {
	g       *globals
	f       *runFlags
	log     *slog.Logger
	srcs    []pipelineSource
	opts    engine.LoadOptions
	runners []*run.Runner
	pipes   []*engine.Pipeline
	done    []chan struct{} // closed when the runner of the same index returns
	sums    []run.Summary
	srv     interface{ Close() error }

	mu       sync.Mutex    // guards runners of scheduled pipelines
	stopping chan struct{} // closed on the first signal
	stopOnce sync.Once
}

func newSession(ctx context.Context, g *globals, f *runFlags, log *slog.Logger, reg *engine.Registry, srcs []pipelineSource) (*session, error) {
	return newSessionWith(ctx, g, f, log, reg, srcs, nil)
}

// newSessionWith is newSession with keys of the pipeline files overridden
// (engine.LoadOptions.Overrides).
func newSessionWith(ctx context.Context, g *globals, f *runFlags, log *slog.Logger, reg *engine.Registry, srcs []pipelineSource, over map[string]string) (*session, error) {
	promReg := prometheus.NewRegistry()
	promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := engine.NewMetrics(promReg, "")
	store, err := checkpoint.Open(ctx, f.state, nil)
	if err != nil {
		return nil, fmt.Errorf("--state: %w", err)
	}
	s := &session{g: g, f: f, log: log, srcs: srcs, stopping: make(chan struct{}),
		opts: engine.LoadOptions{Registry: reg, Log: log, Metrics: metrics, Checkpoints: store, Overrides: over}}
	for _, src := range srcs {
		p, err := engine.Load(src.file, src.src, s.opts)
		if err != nil {
			return nil, err
		}
		s.pipes = append(s.pipes, p)
		s.runners = append(s.runners, run.New(p, run.WithLogger(log)))
		s.done = append(s.done, make(chan struct{}))
	}
	s.sums = make([]run.Summary, len(s.runners))
	if g.httpAddr != "" {
		srv, err := serveHTTP(g.httpAddr, promReg, s.ready, log)
		if err != nil {
			return nil, err
		}
		s.srv = srv
	}
	return s, nil
}

func (s *session) close() {
	if s.srv != nil {
		s.srv.Close()
	}
}

// run runs every pipeline until all have returned, then prints their
// summaries to out.
func (s *session) run(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case sig := <-sigs:
			s.log.Info("draining: stopping reads, delivering what is in flight; signal again to exit at once", "signal", sig.String())
			s.stop()
		case <-ctx.Done():
			return
		}
		select {
		case <-sigs:
			s.log.Error("second signal: exiting without draining; unacknowledged records will be read again")
			os.Exit(130)
		case <-ctx.Done():
		}
	}()

	if s.f.progress > 0 {
		go progress(ctx, out, s.runners, s.f.progress)
	}

	var wg sync.WaitGroup
	errs := make([]error, len(s.runners))
	for i, r := range s.runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(s.done[i])
			if s.pipes[i].Schedule != nil {
				s.sums[i], errs[i] = s.runScheduled(ctx, i)
				return
			}
			s.sums[i], errs[i] = r.Run(ctx)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("pipeline %s: %w", s.pipes[i].Name, errs[i])
			}
		}()
	}
	wg.Wait()
	cancel()
	for i, sum := range s.sums {
		fmt.Fprintf(out, "── %s (%s)\n", s.pipes[i].Name, s.pipes[i].File)
		sum.Print(out)
	}
	return errors.Join(errs...)
}

// stop drains every pipeline and ends the schedules.
func (s *session) stop() {
	s.stopOnce.Do(func() { close(s.stopping) })
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.runners {
		r.Drain()
	}
}

// ready reports whether every pipeline is running (a scheduled one counts
// as ready between its runs).
func (s *session) ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.runners {
		if s.pipes[i].Schedule == nil && !r.Ready() {
			return false
		}
	}
	return true
}

// runScheduled runs pipeline i at each tick of its schedule until the
// session stops: a fresh build of the pipeline each time, never two runs at
// once (ticks that pass during a run are skipped). A failed run is logged
// and the schedule goes on. It returns the summary of the last run.
func (s *session) runScheduled(ctx context.Context, i int) (run.Summary, error) {
	p := s.pipes[i]
	var last run.Summary
	for first := true; ; first = false {
		next := p.Schedule.Next(time.Now())
		s.log.Info("next scheduled run", engine.AttrPipeline, p.Name, "at", next.Format(time.RFC3339))
		select {
		case <-time.After(time.Until(next)):
		case <-s.stopping:
			return last, nil
		case <-ctx.Done():
			return last, nil
		}
		fresh := p
		if !first {
			var err error
			if fresh, err = engine.Load(s.srcs[i].file, s.srcs[i].src, s.opts); err != nil {
				return last, err
			}
		}
		r := run.New(fresh, run.WithLogger(s.log))
		s.mu.Lock()
		s.runners[i] = r
		s.mu.Unlock()
		select {
		case <-s.stopping:
			return last, nil
		default:
		}
		sum, err := r.Run(ctx)
		last = sum
		attrs := []any{engine.AttrPipeline, p.Name, "read", sum.Read, "filtered", sum.Filtered, "dead_lettered", sum.DeadLettered, engine.AttrElapsed, sum.Elapsed.Round(time.Millisecond).String()}
		if err != nil {
			s.log.Error("scheduled run failed", append(attrs, engine.AttrError, err.Error())...)
		} else {
			s.log.Info("scheduled run finished", attrs...)
		}
	}
}

// progress prints the read rate of every runner at each interval.
func progress(ctx context.Context, w io.Writer, runners []*run.Runner, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	last := make([]int64, len(runners))
	lastAt := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			el := now.Sub(lastAt).Seconds()
			lastAt = now
			for i, r := range runners {
				s := r.Stats()
				fmt.Fprintf(w, "%-14s %9.0f records/s  read %d  filtered %d  dead-lettered %d\n",
					r.Name(), float64(s.Read-last[i])/el, s.Read, s.Filtered, s.DeadLettered)
				last[i] = s.Read
			}
		}
	}
}
