// Package pipelines holds the pipeline files that ship with Sluice: the
// demo pair (embedded in the binary) and the examples under examples/. A
// test validates every file here and runs their tests.
package pipelines

import _ "embed"

// Demo is demo.yaml, the consuming pipeline `sluice demo` runs.
//
//go:embed demo.yaml
var Demo []byte

// DemoProducer is demo-producer.yaml, which feeds the demo's Kafka topic.
//
//go:embed demo-producer.yaml
var DemoProducer []byte
