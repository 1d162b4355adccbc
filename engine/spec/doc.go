// Package spec decodes pipeline files strictly and describes configuration
// types.
//
// It decodes a parsed YAML node tree into Go config structs: unknown keys are
// errors, every scalar is checked against the type of its field, ${VAR} and
// ${VAR:-default} are interpolated from the environment, and every problem is
// collected (not only the first) with its file:line:column and key path.
// From the same structs it generates JSON Schema (for editors) and field
// reference tables (for `sluice docs`).
//
// It is not the pipeline grammar itself (that is in package engine) and it
// does no I/O beyond what the caller hands it. It imports only the standard
// library and the YAML parser.
//
// A config struct names its keys with yaml tags and documents them with doc
// tags:
//
//	type Config struct {
//		Brokers []string      `yaml:"brokers"  doc:"Seed broker addresses (host:port)." spec:"required"`
//		MaxWait time.Duration `yaml:"max_wait" doc:"Longest time a fetch may wait for data."`
//		Password spec.Secret  `yaml:"password" doc:"SASL password; never printed."`
//	}
//
//	var n yaml.Node
//	_ = yaml.Unmarshal(src, &n)
//	d := spec.NewDecoder("pipeline.yaml", os.LookupEnv)
//	cfg := Config{MaxWait: 500 * time.Millisecond}
//	d.Decode(&n, "source.kafka", &cfg)
//	if err := d.Err(); err != nil {
//		// pipeline.yaml:4:13: source.kafka.max_wait: expected a duration such as 500ms or 1m30s, got "soon"
//	}
package spec
