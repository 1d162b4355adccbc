// Package enginetest holds in-memory components and the conformance suites
// that every Sluice source and sink must pass, and the helper that reads
// integration-test server addresses from the environment.
//
// MemSource emits given records and records their acknowledgements;
// MemSink keeps what it is given and can fail on demand. SourceSuite and
// SinkSuite check the contracts of engine.Source and engine.Sink against a
// real component through a small harness.
//
// It is for tests only; nothing in a running pipeline imports it.
//
//	func TestConformance(t *testing.T) {
//		enginetest.SinkSuite(t, enginetest.SinkHarness{
//			New:  func(t *testing.T) engine.Sink { return stdout.New(stdout.Defaults(), &buf) },
//			Read: func(t *testing.T) [][]byte { return lines(buf.Bytes()) },
//		})
//	}
package enginetest
