package main

import (
	"errors"
	"math"
	"sort"

	dto "github.com/prometheus/client_model/go"
)

// histogramQuantile returns the q-quantile (0 ≤ q ≤ 1) of the observations
// of a gathered Prometheus histogram. It reads the native (sparse) buckets
// when the histogram has them, else the classic ones; either way the result
// is only known to lie in the bucket that holds the rank q·count, and is
// interpolated within it: exponentially in a native bucket (whose bounds
// grow by a constant factor, such as 1.09 for the engine's histograms),
// linearly in a classic one, as Prometheus' histogram_quantile does. It
// returns false when the histogram has no observations.
func histogramQuantile(q float64, h *dto.Histogram) (float64, bool) {
	if h == nil || math.IsNaN(q) || q < 0 || q > 1 {
		return 0, false
	}
	if h.Schema != nil {
		bs, err := nativeBuckets(h)
		if err == nil {
			return quantileOf(q, bs)
		}
	}
	return classicQuantile(q, h)
}

// histBucket is a histogram bucket with its bounds and count (not cumulative).
type histBucket struct {
	lower, upper float64
	count        float64
	exponential  bool // interpolate exponentially: 0 < lower < upper
}

// nativeBuckets lists the populated buckets of a native histogram in
// increasing order: the negative buckets, the zero bucket, the positive
// buckets. With schema s, bucket index i covers (2^((i-1)·2^-s), 2^(i·2^-s)]
// (negated for the negative buckets); the spans give the indices (the first
// span's offset is an index, each later one the gap after the previous
// span) and the deltas the counts (the first absolute, each later one the
// change from the bucket before).
func nativeBuckets(h *dto.Histogram) ([]histBucket, error) {
	schema := h.GetSchema()
	if schema < -4 || schema > 8 {
		return nil, errors.New("unsupported schema")
	}
	bound := func(i int64) float64 { return math.Exp2(float64(i) * math.Exp2(-float64(schema))) }
	side := func(spans []*dto.BucketSpan, deltas []int64, counts []float64) ([]histBucket, error) {
		var out []histBucket
		var idx int64
		var k int
		var prev int64
		for si, sp := range spans {
			if si == 0 {
				idx = int64(sp.GetOffset())
			} else {
				idx += int64(sp.GetOffset())
			}
			for range sp.GetLength() {
				var c float64
				switch {
				case len(counts) > 0:
					if k >= len(counts) {
						return nil, errors.New("fewer counts than spans say")
					}
					c = counts[k]
				default:
					if k >= len(deltas) {
						return nil, errors.New("fewer deltas than spans say")
					}
					prev += deltas[k]
					c = float64(prev)
				}
				k++
				if c > 0 {
					out = append(out, histBucket{lower: bound(idx - 1), upper: bound(idx), count: c, exponential: true})
				}
				idx++
			}
		}
		return out, nil
	}
	neg, err := side(h.NegativeSpan, h.NegativeDelta, h.NegativeCount)
	if err != nil {
		return nil, err
	}
	pos, err := side(h.PositiveSpan, h.PositiveDelta, h.PositiveCount)
	if err != nil {
		return nil, err
	}
	var out []histBucket
	for i := len(neg) - 1; i >= 0; i-- {
		b := neg[i]
		out = append(out, histBucket{lower: -b.upper, upper: -b.lower, count: b.count})
	}
	zero := float64(h.GetZeroCount())
	if h.ZeroCountFloat != nil {
		zero = h.GetZeroCountFloat()
	}
	if zero > 0 {
		zt, lo := h.GetZeroThreshold(), 0.0
		if len(neg) > 0 {
			lo = -zt
		}
		out = append(out, histBucket{lower: lo, upper: zt, count: zero})
	}
	return append(out, pos...), nil
}

// quantileOf returns the q-quantile of the observations in bs.
func quantileOf(q float64, bs []histBucket) (float64, bool) {
	var total float64
	for _, b := range bs {
		total += b.count
	}
	if total == 0 {
		return 0, false
	}
	rank := q * total
	var cum float64
	for i, b := range bs {
		if cum+b.count < rank && i < len(bs)-1 {
			cum += b.count
			continue
		}
		frac := math.Min(math.Max((rank-cum)/b.count, 0), 1)
		if b.exponential {
			return b.lower * math.Pow(b.upper/b.lower, frac), true
		}
		return b.lower + (b.upper-b.lower)*frac, true
	}
	return 0, false // not reached
}

// classicQuantile interpolates the q-quantile linearly in the classic
// buckets, taking 0 as the lower bound of the first one (when its upper
// bound is positive) and the highest finite bound for a rank in the +Inf
// bucket.
func classicQuantile(q float64, h *dto.Histogram) (float64, bool) {
	total := float64(h.GetSampleCount())
	if h.SampleCountFloat != nil {
		total = h.GetSampleCountFloat()
	}
	bs := h.GetBucket()
	if total == 0 || len(bs) == 0 {
		return 0, false
	}
	cumulative := func(b *dto.Bucket) float64 {
		if b.CumulativeCountFloat != nil {
			return b.GetCumulativeCountFloat()
		}
		return float64(b.GetCumulativeCount())
	}
	rank := q * total
	i := sort.Search(len(bs), func(i int) bool { return cumulative(bs[i]) >= rank })
	if i == len(bs) || math.IsInf(bs[i].GetUpperBound(), 1) {
		// In the implicit (or explicit) +Inf bucket.
		for j := min(i, len(bs)) - 1; j >= 0; j-- {
			if !math.IsInf(bs[j].GetUpperBound(), 1) {
				return bs[j].GetUpperBound(), true
			}
		}
		return 0, false
	}
	upper := bs[i].GetUpperBound()
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = bs[i-1].GetUpperBound(), cumulative(bs[i-1])
	} else if upper <= 0 {
		return upper, true
	}
	count := cumulative(bs[i]) - below
	if count == 0 {
		return upper, true
	}
	return lower + (upper-lower)*(rank-below)/count, true
}
