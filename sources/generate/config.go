package generate

import (
	"errors"
	"time"

	"github.com/sluicehq/sluice/engine/spec"
)

// Config configures the generate source.
type Config struct {
	Count     int64         `yaml:"count" doc:"Events to generate before the source ends. 0: never end."`
	Rate      float64       `yaml:"rate" doc:"Most events per second. 0: as fast as the pipeline takes them."`
	Seed      int64         `yaml:"seed" doc:"Seed of the pseudo-random choices; the same seed gives the same events."`
	BatchSize int           `yaml:"batch_size" doc:"Events per batch."`
	Start     string        `yaml:"start" doc:"Event time of the first event (RFC 3339); later events follow every step. Default: each event takes the time it is generated."`
	Step      time.Duration `yaml:"step" doc:"Event time between consecutive events when start is set."`
	Players   int           `yaml:"players" doc:"Number of distinct player IDs."`
	BadEvery  int64         `yaml:"bad_every" doc:"Make every Nth event invalid JSON, to exercise dead-lettering. 0: never."`
}

// Defaults returns the default config: endless, unthrottled, seed 1.
func Defaults() Config {
	return Config{Seed: 1, BatchSize: 500, Step: time.Millisecond, Players: 10000}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Count < 0 {
		errs = append(errs, spec.Errorf("count", "expected 0 or more, got %d", c.Count))
	}
	if c.Rate < 0 {
		errs = append(errs, spec.Errorf("rate", "expected 0 or more, got %v", c.Rate))
	}
	if c.BatchSize < 1 {
		errs = append(errs, spec.Errorf("batch_size", "expected at least 1, got %d", c.BatchSize))
	}
	if c.Players < 1 {
		errs = append(errs, spec.Errorf("players", "expected at least 1, got %d", c.Players))
	}
	if c.BadEvery < 0 {
		errs = append(errs, spec.Errorf("bad_every", "expected 0 or more, got %d", c.BadEvery))
	}
	if c.Start != "" {
		if _, err := time.Parse(time.RFC3339Nano, c.Start); err != nil {
			errs = append(errs, spec.Errorf("start", "expected an RFC 3339 time such as 2026-11-25T10:00:00Z, got %q", c.Start))
		}
	}
	return errors.Join(errs...)
}
