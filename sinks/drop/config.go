package drop

// Config configures the drop sink. It has no settings.
type Config struct{}

// Defaults returns the empty config.
func Defaults() Config { return Config{} }
