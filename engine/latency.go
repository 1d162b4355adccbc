package engine

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// LatencyHistogram is a Prometheus histogram of durations built for one
// observation per record: an observation is one atomic add to a bucket of
// a native histogram (buckets about 9% wide, schema 3) and one to the sum.
// Scrapes get the native buckets and, for scrapers that want them, the
// classic buckets it was made with, counted from the native ones: an
// observation near a classic bound may be counted in the bucket above it.
// A Prometheus histogram costs ten times as much per observation, which is
// noticeable at millions of records a second. Safe for concurrent use.
type LatencyHistogram struct {
	zero   atomic.Uint64                 // at most latencyZero
	counts [latencyBuckets]atomic.Uint64 // native buckets from latencyMinKey
	sumNs  atomic.Int64
}

const (
	latencySchema = 3 // bucket bounds grow by 2^(1/8)
	// Native bucket keys kept: about 1µs (2^-20 s) to 12 days (2^20 s);
	// longer durations are counted in the last bucket.
	latencyMinKey  = -20 << latencySchema
	latencyMaxKey  = 20 << latencySchema
	latencyBuckets = latencyMaxKey - latencyMinKey + 1
)

// latencyZero is the zero bucket's threshold, 2^-20 s: durations at most
// this long are counted in it.
var latencyZero = math.Ldexp(1, latencyMinKey>>latencySchema)

// nativeBounds are the lower bounds of the fractions of the schema's
// buckets within a power of two, as Prometheus computes them.
var nativeBounds = func() [1 << latencySchema]float64 {
	var b [1 << latencySchema]float64
	for j := range b {
		b[j] = math.Exp2(float64(j)/(1<<latencySchema) - 1)
	}
	return b
}()

// Observe counts one duration.
func (h *LatencyHistogram) Observe(d time.Duration) { h.ObserveN(d, 1) }

// ObserveN counts n observations of the same duration, as cheaply as one.
func (h *LatencyHistogram) ObserveN(d time.Duration, n int) {
	h.sumNs.Add(int64(d) * int64(n))
	s := d.Seconds()
	if s <= latencyZero {
		h.zero.Add(uint64(n))
		return
	}
	frac, exp := math.Frexp(s)
	j := 0
	for j < len(nativeBounds) && nativeBounds[j] < frac {
		j++
	}
	key := j + (exp-1)<<latencySchema
	key = min(max(key, latencyMinKey), latencyMaxKey)
	h.counts[key-latencyMinKey].Add(uint64(n))
}

// upper returns the upper bound of the native bucket key, in seconds.
func upper(key int) float64 {
	return math.Exp2(float64(key) / (1 << latencySchema))
}

// write fills m with a snapshot of h, with classic buckets at bounds.
func (h *LatencyHistogram) write(m *dto.Metric, bounds []float64) {
	zero := h.zero.Load()
	count := zero
	var counts [latencyBuckets]uint64
	for i := range counts {
		counts[i] = h.counts[i].Load()
		count += counts[i]
	}
	hist := &dto.Histogram{
		SampleCount:   proto.Uint64(count),
		SampleSum:     proto.Float64(time.Duration(h.sumNs.Load()).Seconds()),
		Schema:        proto.Int32(latencySchema),
		ZeroThreshold: proto.Float64(latencyZero),
		ZeroCount:     proto.Uint64(zero),
	}
	// Classic buckets: each native bucket counts in the first classic one
	// whose bound is at or above the native bucket's upper bound.
	classic := make([]uint64, len(bounds))
	cum := zero
	next := 0
	for i, c := range counts {
		if c == 0 {
			continue
		}
		up := upper(i + latencyMinKey)
		for next < len(bounds) && bounds[next] < up {
			classic[next] = cum
			next++
		}
		cum += c
	}
	for ; next < len(bounds); next++ {
		classic[next] = cum
	}
	for i, b := range bounds {
		hist.Bucket = append(hist.Bucket, &dto.Bucket{UpperBound: proto.Float64(b), CumulativeCount: proto.Uint64(classic[i])})
	}
	// Native buckets as spans of consecutive keys and deltas between
	// counts.
	var prevKey int
	var prevCount int64
	for i, c := range counts {
		if c == 0 {
			continue
		}
		key := i + latencyMinKey
		switch {
		case len(hist.PositiveSpan) == 0:
			hist.PositiveSpan = append(hist.PositiveSpan, &dto.BucketSpan{Offset: proto.Int32(int32(key)), Length: proto.Uint32(0)})
		case key != prevKey+1:
			hist.PositiveSpan = append(hist.PositiveSpan, &dto.BucketSpan{Offset: proto.Int32(int32(key - prevKey - 1)), Length: proto.Uint32(0)})
		}
		span := hist.PositiveSpan[len(hist.PositiveSpan)-1]
		*span.Length++
		hist.PositiveDelta = append(hist.PositiveDelta, int64(c)-prevCount)
		prevKey, prevCount = key, int64(c)
	}
	if len(hist.PositiveSpan) == 0 && zero == 0 {
		// An empty native histogram still says it is one.
		hist.PositiveSpan = []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(0)}}
	}
	m.Histogram = hist
}

// latencyVec is the collector of one LatencyHistogram name: a histogram
// per label set.
type latencyVec struct {
	desc   *prometheus.Desc
	bounds []float64

	mu       sync.Mutex
	children map[[3]string]*LatencyHistogram
	order    [][3]string
}

func (v *latencyVec) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc }

func (v *latencyVec) Collect(ch chan<- prometheus.Metric) {
	v.mu.Lock()
	labels := slices.Clone(v.order)
	children := make([]*LatencyHistogram, len(labels))
	for i, l := range labels {
		children[i] = v.children[l]
	}
	v.mu.Unlock()
	for i, h := range children {
		ch <- &latencyMetric{desc: v.desc, labels: labels[i], h: h, bounds: v.bounds}
	}
}

func (v *latencyVec) child(labels [3]string) *LatencyHistogram {
	v.mu.Lock()
	defer v.mu.Unlock()
	h, ok := v.children[labels]
	if !ok {
		h = &LatencyHistogram{}
		v.children[labels] = h
		v.order = append(v.order, labels)
	}
	return h
}

// latencyMetric is a scrape of one LatencyHistogram.
type latencyMetric struct {
	desc   *prometheus.Desc
	labels [3]string
	h      *LatencyHistogram
	bounds []float64
}

func (m *latencyMetric) Desc() *prometheus.Desc { return m.desc }

func (m *latencyMetric) Write(out *dto.Metric) error {
	for i, name := range metricLabels {
		out.Label = append(out.Label, &dto.LabelPair{Name: proto.String(name), Value: proto.String(m.labels[i])})
	}
	m.h.write(out, m.bounds)
	return nil
}

// LatencyHistogram returns the latency histogram name for this component,
// with classic buckets at bounds (seconds) for scrapers that do not read
// native histograms.
func (m *Metrics) LatencyHistogram(name, help string, bounds []float64) *LatencyHistogram {
	v := vec(m, name, func() *latencyVec {
		return &latencyVec{
			desc:     prometheus.NewDesc(name, help, metricLabels, nil),
			bounds:   slices.Clone(bounds),
			children: map[[3]string]*LatencyHistogram{},
		}
	})
	return v.child([3]string{m.pipeline, m.component, m.kind})
}
