// Package autoscale decides how many workers a stage should run, from what
// the engine measures: how many workers are busy, how much input is
// queued, and how long the stage has been idle.
//
// It makes decisions only; the runtime (engine/run) starts and stops the
// workers. Components have no scaling hooks.
//
//	c := autoscale.NewController(autoscale.Limits{Min: 1, Max: 8})
//	for range ticker.C {
//		switch c.Decide(autoscale.Observation{Workers: n, Busy: busy, Queued: len(queue)}, time.Now()) {
//		case autoscale.Grow:
//			startWorker()
//		case autoscale.Shrink:
//			stopWorker()
//		}
//	}
package autoscale
