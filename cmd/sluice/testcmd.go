package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/engine/run"
)

func newTestCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "test FILE...",
		Short: "Run the tests: cases of pipeline files offline (input records → expected records per sink)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			reg, err := registry()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			passed, failed, invalid := 0, 0, 0
			for _, f := range pipelineFiles(files) {
				p, err := engine.LoadFile(f, engine.LoadOptions{Registry: reg})
				if err != nil {
					invalid++
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					continue
				}
				if len(p.Tests) == 0 {
					fmt.Fprintf(out, "%s: no tests\n", f)
					continue
				}
				for i, tc := range p.Tests {
					// Each case gets freshly built components.
					fresh, err := engine.LoadFile(f, engine.LoadOptions{Registry: reg})
					if err != nil {
						return err
					}
					res, err := run.RunCase(cmd.Context(), fresh, fresh.Tests[i])
					if err != nil {
						return err
					}
					if res.Failed {
						failed++
						fmt.Fprintf(out, "FAIL %s:%d %s\n%s\n", tc.File, tc.Line, tc.Name, indent(res.Diff))
					} else {
						passed++
						fmt.Fprintf(out, "ok   %s:%d %s\n", tc.File, tc.Line, tc.Name)
					}
				}
			}
			fmt.Fprintf(out, "%d passed, %d failed\n", passed, failed)
			if failed > 0 || invalid > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
