package report

import (
	"math"
	"sort"
	"time"
)

// Dist summarises a sample of durations, in milliseconds.
type Dist struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// Millis converts durations to float milliseconds, keeping their order.
func Millis(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}

// Summarize computes the nearest-rank percentiles of samples (milliseconds). The input is
// not modified. An empty sample gives the zero Dist.
func Summarize(samples []float64) Dist {
	if len(samples) == 0 {
		return Dist{}
	}
	s := append([]float64(nil), samples...)
	sort.Float64s(s)
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	return Dist{
		N:    len(s),
		P50:  Percentile(s, 50),
		P95:  Percentile(s, 95),
		P99:  Percentile(s, 99),
		Max:  s[len(s)-1],
		Mean: sum / float64(len(s)),
	}
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of an ascending sample:
// the smallest value with at least p% of the sample at or below it. With few samples the
// p99 is the maximum, which is the honest answer.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
