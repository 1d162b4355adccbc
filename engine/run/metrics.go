package run

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/engine"
)

// Latency buckets, in seconds, from 100µs to about a minute.
var latencyBuckets = prometheus.ExponentialBuckets(0.0001, 2.5, 15)

// Batch size buckets, in records.
var sizeBuckets = prometheus.ExponentialBuckets(1, 4, 9)

// Engine-level metric names. Every component boundary is instrumented with
// these; components add only what only they can see.
const (
	mRecordsIn    = "sluice_records_in_total"
	mRecordsOut   = "sluice_records_out_total"
	mBytesIn      = "sluice_bytes_in_total"
	mBytesOut     = "sluice_bytes_out_total"
	mFiltered     = "sluice_records_filtered_total"
	mDeadLettered = "sluice_records_dead_lettered_total"
	mRetries      = "sluice_retries_total"
	mErrors       = "sluice_errors_total"
	mBatchRecords = "sluice_batch_records"
	mLatency      = "sluice_latency_seconds"
	mEndToEnd     = "sluice_end_to_end_latency_seconds"
	mBatchesRead  = "sluice_batches_read_total"
	mBatchesAcked = "sluice_batches_acked_total"
	mAckSeconds   = "sluice_ack_latency_seconds"
	mWorkers      = "sluice_workers"
	mBusySeconds  = "sluice_busy_seconds_total"
)

// boundary is the set of collectors of one component.
type boundary struct {
	recordsIn, recordsOut prometheus.Counter
	bytesIn, bytesOut     prometheus.Counter
	filtered, dead        prometheus.Counter
	retries, errors       prometheus.Counter
	batchRecords          prometheus.Observer
	latency               prometheus.Observer
	endToEnd              *engine.LatencyHistogram // one observation per record
	busy                  prometheus.Counter
}

func newBoundary(m *engine.Metrics) *boundary {
	return &boundary{
		recordsIn:    m.Counter(mRecordsIn, "Records that entered the component."),
		recordsOut:   m.Counter(mRecordsOut, "Records the component passed on (sources: read; sinks: durably written)."),
		bytesIn:      m.Counter(mBytesIn, "Bytes of record keys and values that entered the component."),
		bytesOut:     m.Counter(mBytesOut, "Bytes of record keys and values the component passed on or wrote."),
		filtered:     m.Counter(mFiltered, "Records deliberately dropped by the component."),
		dead:         m.Counter(mDeadLettered, "Records that failed permanently in the component and were sent to the dead-letter sink."),
		retries:      m.Counter(mRetries, "Record deliveries retried after a retryable failure."),
		errors:       m.Counter(mErrors, "Failed calls of the component (each failed attempt counts)."),
		batchRecords: m.Histogram(mBatchRecords, "Records per batch handled by the component.", sizeBuckets),
		latency:      m.Histogram(mLatency, "Time the component took per batch (read, apply or write).", latencyBuckets),
		endToEnd:     m.LatencyHistogram(mEndToEnd, "Time from a record's event time to it being durable in a sink.", latencyBuckets),
		busy:         m.Counter(mBusySeconds, "Seconds the component's workers spent processing."),
	}
}

// runMetrics are the pipeline-wide collectors.
type runMetrics struct {
	batchesRead  prometheus.Counter
	batchesAcked prometheus.Counter
	ackSeconds   prometheus.Observer
	workers      prometheus.Gauge
}

func newRunMetrics(m *engine.Metrics) *runMetrics {
	pm := m.For("pipeline", "pipeline")
	return &runMetrics{
		batchesRead:  pm.Counter(mBatchesRead, "Source batches read. In flight = read - acked."),
		batchesAcked: pm.Counter(mBatchesAcked, "Source batches acknowledged."),
		ackSeconds:   pm.Histogram(mAckSeconds, "Time from reading a source batch to acknowledging it.", latencyBuckets),
		workers:      m.For("transforms", engine.KindTransform).Gauge(mWorkers, "Transform workers running."),
	}
}
