package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/pipelines"
)

func newDemoCmd(g *globals) *cobra.Command {
	var count int64
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the demo on embedded defaults: game telemetry → in-process Kafka → Kafka source → filter/set → stdout sample + drop",
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
			// An in-process Kafka-protocol cluster, so that nothing needs
			// installing; the pipelines talk to it over loopback like to any
			// broker.
			cluster, err := kfake.NewCluster(
				kfake.NumBrokers(1),
				kfake.SeedTopics(8, "game-events"),
				kfake.SeedTopics(1, "game-events-dlq"),
			)
			if err != nil {
				return fmt.Errorf("start the embedded Kafka cluster: %w", err)
			}
			defer cluster.Close()
			os.Setenv("KAFKA_BROKERS", strings.Join(cluster.ListenAddrs(), ","))
			errw := cmd.ErrOrStderr()
			fmt.Fprintf(errw, "sluice demo: embedded Kafka at %s; pipelines/demo-producer.yaml feeds game-events, pipelines/demo.yaml consumes it\n", cluster.ListenAddrs()[0])
			fmt.Fprintln(errw, "stdout shows a sample of the records, stderr the throughput; Ctrl-C drains and stops")

			f := &runFlags{state: "mem://", progress: time.Second}
			s, err := newSession(cmd.Context(), g, f, log, reg, []pipelineSource{
				{file: "pipelines/demo-producer.yaml", src: pipelines.DemoProducer},
				{file: "pipelines/demo.yaml", src: pipelines.Demo},
			})
			if err != nil {
				return err
			}
			defer s.close()
			go drainWhenConsumed(cmd.Context(), s)
			return s.run(cmd.Context(), errw)
		},
	}
	cmd.Flags().Int64Var(&count, "count", 0, "events to generate (default: the pipeline's, 2000000)")
	return cmd
}

// drainWhenConsumed stops the consuming pipeline once the producer has
// finished and the consumer has read everything it produced.
func drainWhenConsumed(ctx context.Context, s *session) {
	select {
	case <-s.done[0]:
	case <-ctx.Done():
		return
	}
	var produced int64
	for _, c := range s.sums[0].Written {
		produced += c.Records
	}
	consumer := s.runners[1]
	for consumer.Stats().Read < produced {
		select {
		case <-s.done[1]:
			return
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	consumer.Drain()
}
