package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/engine"
)

func newValidateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check pipeline files offline: strict keys, types, expressions; builds every component without I/O",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			reg, err := registry()
			if err != nil {
				return err
			}
			failed := 0
			files = pipelineFiles(files)
			for _, f := range files {
				p, err := engine.LoadFile(f, engine.LoadOptions{Registry: reg})
				if err != nil {
					failed++
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (pipeline %s: source %s, %d transform(s), %d sink(s)%s, %d test(s))\n",
					f, p.Name, p.SourceName, len(p.Transforms), len(p.Sinks), dlqNote(p), len(p.Tests))
			}
			if failed > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d file(s) invalid", failed, len(files))}
			}
			return nil
		},
	}
}

func dlqNote(p *engine.Pipeline) string {
	if p.DeadLetter == nil {
		return ", no dead_letter"
	}
	return ", dead_letter " + p.DeadLetter.Component
}
