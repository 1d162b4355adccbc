// Package engine defines the contracts every Sluice component implements and
// the pieces the runtime shares with them: Record and Batch, the Source,
// Transform and Sink interfaces, Ack, BatchError and the retryable/permanent
// classification of failures, the Registry of components with their typed
// configuration, Env, and the loading of pipeline files into a built
// Pipeline.
//
// A Record decodes its value lazily. Code that reads a few fields asks for
// them with Record.Values and a field.Layout: they are picked out of a JSON
// value in one pass, without decoding the rest, into typed field.Values
// (strings share the value's bytes). The runtime picks, once per batch
// (PickBatch), every field that the transforms (FieldsUser) and the sinks'
// when use; compiled expressions read them by slot (expr.Program.EvalValues).
// A transform changes a field with SetValue, and a record changed only that
// way is encoded again by patching its value (codec.Patcher). Data, Fields
// and Bytes see every change.
//
// A batch's records are the runtime's from Read until their Ack, and nobody
// else's: a sink keeps nothing of a batch after Write returns, so once
// every sink is done with a batch and it is acknowledged, its memory can be
// used again. The runtime reuses the arrays of picked values of finished
// batches (PickBatchInto), and the objectstore source the buffers its JSON
// lines are read into and its record slices, so that reading at full speed
// makes little garbage.
//
// The engine knows no connector: it imports no client SDK. Components import
// engine, register themselves on a Registry explicitly (there are no init()
// side effects and no global registry), and the runtime in engine/run drives
// them.
//
// Registering a component:
//
//	func Register(r *engine.Registry) error {
//		return engine.RegisterSink(r, engine.SinkSpec[Config]{
//			Name:     "stdout",
//			Summary:  "Writes records to standard output, one per line.",
//			Defaults: Defaults,
//			New:      func(c Config, env engine.Env) (engine.Sink, error) { return New(c, env) },
//		})
//	}
package engine
