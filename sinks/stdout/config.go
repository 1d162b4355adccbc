package stdout

import (
	"errors"

	"github.com/sluicehq/sluice/engine/spec"
)

// Config configures the stdout sink.
type Config struct {
	Format string `yaml:"format" enum:"value,envelope" doc:"value prints each record's value on its own line; envelope prints a JSON object with value, key, headers, time and source position."`
	Every  int64  `yaml:"every" doc:"Print one record in every N; the others are counted as written. 1 prints all."`
}

// Defaults prints every value.
func Defaults() Config { return Config{Format: "value", Every: 1} }

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Format != "value" && c.Format != "envelope" {
		errs = append(errs, spec.Errorf("format", "expected value or envelope, got %q", c.Format))
	}
	if c.Every < 1 {
		errs = append(errs, spec.Errorf("every", "expected at least 1, got %d", c.Every))
	}
	return errors.Join(errs...)
}
