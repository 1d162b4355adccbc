// Package run is the Sluice runtime: it drives a built engine.Pipeline from
// its source through the transform worker pool and the router to each
// sink's batcher and writers, and acknowledges every source batch once every
// record derived from it is durable in every sink it was routed to, was
// filtered, or is in the dead-letter sink.
//
// Every queue is bounded, so a slow sink slows the source. Retryable
// failures are retried with capped exponential backoff and jitter;
// permanent ones go to the dead-letter sink with the error, the component
// and the source position in headers, or, when the pipeline has no
// dead-letter sink, stop the pipeline without acknowledging the batch.
//
// It is not a scheduler of many pipelines and knows no connector.
//
//	p, err := engine.LoadFile("pipelines/demo.yaml", engine.LoadOptions{Registry: reg})
//	if err != nil { ... }
//	r := run.New(p, run.WithLogger(log))
//	go func() { <-sigint; r.Drain() }()
//	sum, err := r.Run(ctx)
package run
