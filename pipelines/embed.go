// Package pipelines holds the pipeline files that ship with Sluice: the
// demo (embedded in the binary) and the examples under examples/. A test
// validates every file here.
package pipelines

import _ "embed"

// Demo is demo.yaml, the pipeline `sluice demo` runs.
//
//go:embed demo.yaml
var Demo []byte
