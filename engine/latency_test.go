package engine

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestLatencyHistogramAgreesWithPrometheus observes the same durations in
// a LatencyHistogram and in a Prometheus native histogram of the same
// schema, and checks that a scrape gives the same native buckets, count
// and sum, and classic buckets off by no more than the observations near
// their bounds.
func TestLatencyHistogramAgreesWithPrometheus(t *testing.T) {
	bounds := prometheus.ExponentialBuckets(0.0001, 2.5, 15)
	m := NewMetrics(nil, "p").For("sinks.out", KindSink)
	mine := m.LatencyHistogram("sluice_test_seconds", "test", bounds)
	theirs := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x", Buckets: bounds,
		NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: 1000})
	r := rand.New(rand.NewPCG(1, 2))
	var ds []time.Duration
	for range 20000 {
		// 2µs to about a day, spread over orders of magnitude.
		d := time.Duration(math.Exp(r.Float64()*25) * 2e3)
		ds = append(ds, d)
		mine.Observe(d)
		theirs.Observe(d.Seconds())
	}
	var got, want dto.Metric
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != "sluice_test_seconds" || mfs[0].GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("gathered %v", mfs)
	}
	got.Histogram = mfs[0].GetMetric()[0].GetHistogram()
	labels := map[string]string{}
	for _, l := range mfs[0].GetMetric()[0].GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	if len(labels) != 3 || labels["component"] != "sinks.out" || labels["kind"] != "sink" || labels["pipeline"] != "p" {
		t.Errorf("labels %v", labels)
	}
	if err := theirs.Write(&want); err != nil {
		t.Fatal(err)
	}
	g, w := got.GetHistogram(), want.GetHistogram()
	if g.GetSampleCount() != w.GetSampleCount() || math.Abs(g.GetSampleSum()-w.GetSampleSum()) > 1e-6*w.GetSampleSum() {
		t.Errorf("count %d sum %g, want %d %g", g.GetSampleCount(), g.GetSampleSum(), w.GetSampleCount(), w.GetSampleSum())
	}
	if g.GetSchema() != w.GetSchema() {
		t.Fatalf("schema %d, want %d", g.GetSchema(), w.GetSchema())
	}
	if !sameBuckets(g.GetPositiveSpan(), g.GetPositiveDelta(), w.GetPositiveSpan(), w.GetPositiveDelta()) {
		t.Errorf("native buckets differ:\n%v %v\n%v %v", g.GetPositiveSpan(), g.GetPositiveDelta(), w.GetPositiveSpan(), w.GetPositiveDelta())
	}
	for i, b := range g.GetBucket() {
		wb := w.GetBucket()[i]
		near := 0
		for _, d := range ds {
			if s := d.Seconds(); s > b.GetUpperBound()/1.1 && s <= b.GetUpperBound()*1.1 {
				near++
			}
		}
		if diff := int64(wb.GetCumulativeCount()) - int64(b.GetCumulativeCount()); diff < 0 || diff > int64(near) {
			t.Errorf("classic bucket le=%g: %d, Prometheus %d, %d observations near the bound", b.GetUpperBound(),
				b.GetCumulativeCount(), wb.GetCumulativeCount(), near)
		}
	}
}

// sameBuckets compares two native bucket encodings by the counts per key.
func sameBuckets(s1 []*dto.BucketSpan, d1 []int64, s2 []*dto.BucketSpan, d2 []int64) bool {
	a, b := bucketCounts(s1, d1), bucketCounts(s2, d2)
	if len(a) != len(b) {
		return false
	}
	for k, c := range a {
		if b[k] != c {
			return false
		}
	}
	return true
}

func bucketCounts(spans []*dto.BucketSpan, deltas []int64) map[int32]int64 {
	out := map[int32]int64{}
	key, i, count := int32(0), 0, int64(0)
	for _, s := range spans {
		key += s.GetOffset()
		for range s.GetLength() {
			count += deltas[i]
			if count != 0 {
				out[key] = count
			}
			i++
			key++
		}
	}
	return out
}

// TestLatencyObserveN checks that ObserveN counts as n Observes.
func TestLatencyObserveN(t *testing.T) {
	var a, b LatencyHistogram
	for _, d := range []time.Duration{0, time.Microsecond / 2, 3 * time.Millisecond, 2 * time.Second} {
		a.ObserveN(d, 3)
		for range 3 {
			b.Observe(d)
		}
	}
	var ma, mb dto.Metric
	a.write(&ma, []float64{0.001, 1})
	b.write(&mb, []float64{0.001, 1})
	if ma.String() != mb.String() || ma.GetHistogram().GetSampleCount() != 12 {
		t.Errorf("ObserveN:\n%v\nObserve:\n%v", ma.String(), mb.String())
	}
}
