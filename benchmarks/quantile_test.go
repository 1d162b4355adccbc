package main

import (
	"math"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// TestQuantileNativeLayout decodes hand-written native buckets: schema 0
// (each bucket twice as wide as the one before), two spans, deltas and a
// zero bucket.
func TestQuantileNativeLayout(t *testing.T) {
	h := &dto.Histogram{
		SampleCount:   proto.Uint64(8),
		Schema:        proto.Int32(0),
		ZeroThreshold: proto.Float64(0.001),
		ZeroCount:     proto.Uint64(1),
		// Indices 1 and 2, then 5: (1,2] holds 2, (2,4] 3, (16,32] 2.
		PositiveSpan:  []*dto.BucketSpan{{Offset: proto.Int32(1), Length: proto.Uint32(2)}, {Offset: proto.Int32(2), Length: proto.Uint32(1)}},
		PositiveDelta: []int64{2, 1, -1},
		// Classic buckets that disagree, to show they are not read.
		Bucket: []*dto.Bucket{{UpperBound: proto.Float64(1000), CumulativeCount: proto.Uint64(8)}},
	}
	cases := []struct {
		name string
		q    float64
		want float64
	}{
		{"in the zero bucket", 0.05, 0.0004},                      // rank 0.4 of 1 in [0, 0.001]
		{"first bucket's top", 3.0 / 8, 2},                        // rank 3: the end of (1,2]
		{"median", 0.5, 2 * math.Pow(2, 1.0/3)},                   // rank 4: 1/3 into (2,4]
		{"after the gap", 7.0 / 8, 16 * math.Sqrt2},               // rank 7: half into (16,32]
		{"maximum", 1, 32},                                        // rank 8
		{"minimum", 0, 0},                                         // the zero bucket's bottom
		{"just past the zero bucket", 1.5 / 8, math.Pow(2, 0.25)}, // rank 1.5: a quarter into (1,2]
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := histogramQuantile(tc.q, h)
			if !ok || math.Abs(got-tc.want) > 1e-4*math.Max(1, tc.want) {
				t.Errorf("q=%v: got %v (%v), want %v", tc.q, got, ok, tc.want)
			}
		})
	}
}

// TestQuantileObserved observes known values into real Prometheus
// histograms, native as the engine's and classic-only, and checks the
// quantiles against the exact ones within the bucket error.
func TestQuantileObserved(t *testing.T) {
	// 1ms, 2ms, ..., 10s: the exact q-quantile is about q·10s.
	var values []float64
	for i := 1; i <= 10000; i++ {
		values = append(values, float64(i)/1000)
	}
	native := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "n", Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 15),
		NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: 160,
	})
	classic := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "c", Buckets: prometheus.LinearBuckets(0.5, 0.5, 20)})
	for _, v := range values {
		native.Observe(v)
		classic.Observe(v)
	}
	cases := []struct {
		name string
		h    prometheus.Histogram
		tol  float64 // relative
	}{
		// Native buckets with factor 1.1 are 2^(1/8) ≈ 1.09 wide.
		{"native", native, 0.09},
		// Classic buckets are 0.5s wide: 10% of the median, 0.5% of p99.
		{"classic", classic, 0.1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m dto.Metric
			if err := tc.h.Write(&m); err != nil {
				t.Fatal(err)
			}
			if tc.name == "native" && m.GetHistogram().Schema == nil {
				t.Fatal("no native buckets")
			}
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
				want := values[int(math.Ceil(q*float64(len(values))))-1]
				got, ok := histogramQuantile(q, m.GetHistogram())
				if !ok || math.Abs(got-want) > tc.tol*want {
					t.Errorf("q=%v: got %v (%v), want %v within %.0f%%", q, got, ok, want, 100*tc.tol)
				}
			}
		})
	}
}

// TestQuantileClassicEdges covers the implicit +Inf bucket, the first
// bucket and an empty histogram.
func TestQuantileClassicEdges(t *testing.T) {
	h := &dto.Histogram{
		SampleCount: proto.Uint64(10),
		Bucket: []*dto.Bucket{
			{UpperBound: proto.Float64(1), CumulativeCount: proto.Uint64(4)},
			{UpperBound: proto.Float64(3), CumulativeCount: proto.Uint64(8)},
		},
	}
	for _, tc := range []struct {
		q, want float64
	}{{0.2, 0.5}, {0.6, 2}, {0.95, 3}} {
		if got, ok := histogramQuantile(tc.q, h); !ok || got != tc.want {
			t.Errorf("q=%v: got %v (%v), want %v", tc.q, got, ok, tc.want)
		}
	}
	if _, ok := histogramQuantile(0.5, &dto.Histogram{}); ok {
		t.Error("an empty histogram has a quantile")
	}
	if _, ok := histogramQuantile(0.5, &dto.Histogram{Schema: proto.Int32(3), ZeroThreshold: proto.Float64(1e-128)}); ok {
		t.Error("an empty native histogram has a quantile")
	}
}
