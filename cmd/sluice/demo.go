package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/pipelines"
)

func newDemoCmd(g *globals) *cobra.Command {
	var count int64
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the embedded demo pipeline: synthetic game telemetry → filter/set → stdout sample + drop",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := stderrLogger(g)
			if err != nil {
				return err
			}
			reg, err := registry()
			if err != nil {
				return err
			}
			if count > 0 {
				os.Setenv("DEMO_COUNT", fmt.Sprint(count))
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "sluice demo: pipeline pipelines/demo.yaml (embedded); stdout shows a sample of the records, stderr the throughput")
			f := &runFlags{state: "mem://", progress: time.Second}
			return runPipelines(cmd.Context(), g, f, log, reg, []pipelineSource{{file: "pipelines/demo.yaml", src: pipelines.Demo}}, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().Int64Var(&count, "count", 0, "events to generate (default: the pipeline's, 2000000)")
	return cmd
}
