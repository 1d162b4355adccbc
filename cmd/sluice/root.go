package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/engine"
	"github.com/sluicehq/sluice/sinks"
	"github.com/sluicehq/sluice/sources"
	"github.com/sluicehq/sluice/transforms"
)

// globals are the flags every command takes.
type globals struct {
	logFormat string
	logLevel  string
	httpAddr  string
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "sluice",
		Short:         "Sluice runs declarative ETL pipelines: Kafka or object storage in, transforms, Elasticsearch, SQL or Parquet out.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	pf.StringVar(&g.httpAddr, "http", "", "serve /metrics, /healthz and /readyz on this address (e.g. :9090)")
	root.AddCommand(
		newRunCmd(g),
		newValidateCmd(g),
		newTestCmd(g),
		newSchemaCmd(),
		newDocsCmd(),
		newDemoCmd(g),
		newBackfillCmd(g),
		newVersionCmd(),
	)
	return root
}

// registry returns a Registry with every shipped component.
func registry() (*engine.Registry, error) {
	r := engine.NewRegistry()
	for _, reg := range []func(*engine.Registry) error{sources.Register, transforms.Register, sinks.Register} {
		if err := reg(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// logger builds the process logger; logs go to standard error so that
// standard output stays for records.
func (g *globals) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: expected debug, info, warn or error, got %q", g.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(g.logFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: expected text or json, got %q", g.logFormat)
}

// stderrLogger returns the process logger and routes the global logs of
// sarama and the MySQL driver into it.
func stderrLogger(g *globals) (*slog.Logger, error) {
	l, err := g.logger(os.Stderr)
	if err == nil {
		bridgeSarama(l)
		bridgeMySQL(l)
	}
	return l, err
}
