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
	promReg := prometheus.NewRegistry()
	promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := engine.NewMetrics(promReg, "")
	store, err := checkpoint.Open(ctx, f.state, nil)
	if err != nil {
		return fmt.Errorf("--state: %w", err)
	}
	var runners []*run.Runner
	var pipes []*engine.Pipeline
	for _, s := range srcs {
		p, err := engine.Load(s.file, s.src, engine.LoadOptions{Registry: reg, Log: log, Metrics: metrics, Checkpoints: store})
		if err != nil {
			return err
		}
		pipes = append(pipes, p)
		runners = append(runners, run.New(p, run.WithLogger(log)))
	}

	if g.httpAddr != "" {
		srv, err := serveHTTP(g.httpAddr, promReg, runners, log)
		if err != nil {
			return err
		}
		defer srv.Close()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case sig := <-sigs:
			log.Info("draining: stopping reads, delivering what is in flight; signal again to exit at once", "signal", sig.String())
			for _, r := range runners {
				r.Drain()
			}
		case <-ctx.Done():
			return
		}
		select {
		case <-sigs:
			log.Error("second signal: exiting without draining; unacknowledged records will be read again")
			os.Exit(130)
		case <-ctx.Done():
		}
	}()

	if f.progress > 0 {
		go progress(ctx, out, runners, f.progress)
	}

	var wg sync.WaitGroup
	errs := make([]error, len(runners))
	sums := make([]run.Summary, len(runners))
	for i, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sums[i], errs[i] = r.Run(ctx)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("pipeline %s: %w", pipes[i].Name, errs[i])
			}
		}()
	}
	wg.Wait()
	cancel()
	for i, s := range sums {
		fmt.Fprintf(out, "── %s (%s)\n", pipes[i].Name, pipes[i].File)
		s.Print(out)
	}
	return errors.Join(errs...)
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
				var written int64
				for _, c := range s.Written {
					written += c.Records
				}
				fmt.Fprintf(w, "%8.0f records/s  read %d  written %d  filtered %d  dead-lettered %d\n",
					float64(s.Read-last[i])/el, s.Read, written, s.Filtered, s.DeadLettered)
				last[i] = s.Read
			}
		}
	}
}
