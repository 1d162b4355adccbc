package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/run"
)

type backfillFlags struct {
	from, to, shard string
	state           string
	every           time.Duration
}

func newBackfillCmd(g *globals) *cobra.Command {
	f := &backfillFlags{}
	cmd := &cobra.Command{
		Use:   "backfill FILE",
		Short: "Run a pipeline once over its object-store source (a time range, a shard), resumable after a crash",
		Long: `backfill runs a pipeline whose source is objectstore once, to the end of the
listing, with a progress bar on a terminal (objects, bytes, records, rate,
ETA) and a log line every --every otherwise. Progress is checkpointed in
--state, so a backfill that is killed resumes where it stopped; finished
objects are not read again. --shard i/N takes the objects whose key hashes
to i, so N workers (a Kubernetes Indexed Job) split a backfill without
coordination.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := stderrLogger(g)
			if err != nil {
				return err
			}
			reg, err := registry()
			if err != nil {
				return err
			}
			src, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			over := map[string]string{}
			set := func(key, v string) {
				if v != "" {
					over["source.objectstore."+key] = v
				}
			}
			set("from", f.from)
			set("to", f.to)
			set("shard", f.shard)
			rf := &runFlags{state: f.state}
			s, err := newSessionWith(cmd.Context(), g, rf, log, reg, []pipelineSource{{file: args[0], src: src}}, over)
			if err != nil {
				return err
			}
			defer s.close()
			if s.pipes[0].SourceName != "objectstore" {
				return fmt.Errorf("%s: backfill needs an objectstore source, not %s (use sluice run)", args[0], s.pipes[0].SourceName)
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			go showProgress(ctx, cmd.ErrOrStderr(), s.pipes[0], s.runners[0], f.every)
			return s.run(cmd.Context(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&f.from, "from", "", "read objects from this time on (RFC 3339), overriding the pipeline's from")
	cmd.Flags().StringVar(&f.to, "to", "", "read objects before this time (RFC 3339), overriding the pipeline's to")
	cmd.Flags().StringVar(&f.shard, "shard", "", "take shard i of N (i/N): the objects whose key hashes to i")
	cmd.Flags().StringVar(&f.state, "state", "file://.sluice/state", "checkpoint store URL: file://DIR, mem://, or a bucket URL shared by the shards")
	cmd.Flags().DurationVar(&f.every, "every", 10*time.Second, "interval of progress log lines when stderr is not a terminal")
	return cmd
}

// showProgress draws a progress bar on a terminal, or writes a line every
// interval otherwise, until ctx ends.
func showProgress(ctx context.Context, w io.Writer, p *engine.Pipeline, r *run.Runner, every time.Duration) {
	pr, ok := p.Source.(engine.ProgressReporter)
	if !ok {
		return
	}
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	if tty {
		every = 200 * time.Millisecond
	}
	start := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(w)
			}
			return
		case <-t.C:
			line := progressLine(pr.Progress(), r.Stats(), time.Since(start))
			if tty {
				fmt.Fprintf(w, "\r\033[K%s", line)
			} else {
				fmt.Fprintln(w, line)
			}
		}
	}
}

func progressLine(p engine.Progress, s run.Summary, el time.Duration) string {
	frac := 0.0
	if p.BytesTotal > 0 {
		frac = float64(p.BytesRead) / float64(p.BytesTotal)
	} else if p.ObjectsTotal > 0 {
		frac = float64(p.ObjectsDone) / float64(p.ObjectsTotal)
	}
	const width = 24
	filled := int(frac * width)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	rate := float64(s.Read) / el.Seconds()
	eta := "?"
	if frac > 0.001 {
		eta = (time.Duration(float64(el)/frac) - el).Round(time.Second).String()
	}
	return fmt.Sprintf("%s %5.1f%%  objects %d/%d  %s/%s  records %d  %.0f/s  ETA %s",
		bar, 100*frac, p.ObjectsDone, p.ObjectsTotal, humanBytes(p.BytesRead), humanBytes(p.BytesTotal), s.Read, rate, eta)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
