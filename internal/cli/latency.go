package cli

import (
	"math/bits"
	"time"
)

// Latency is a histogram of one-way latencies (sender timestamp to
// receipt) in fixed memory: buckets of 1/64 of a power of two, so a
// percentile is off by less than 1.6 % however long the run, and every
// sample weighs the same. The maximum is kept exactly.
type Latency struct {
	counts [64 * latencySub]uint64
	n      uint64
	max    time.Duration
}

const latencySub = 64 // buckets per power of two

// NewLatency makes an empty histogram.
func NewLatency() *Latency { return &Latency{} }

// Add records one latency; a negative one (clocks apart) counts as 0.
func (l *Latency) Add(d time.Duration) {
	d = max(d, 0)
	l.counts[bucket(uint64(d))]++
	l.n++
	l.max = max(l.max, d)
}

// bucket: values below latencySub get one each; above, the top 6 bits
// after the leading one choose among latencySub buckets of its power.
func bucket(v uint64) int {
	if v < latencySub {
		return int(v)
	}
	e := bits.Len64(v) - 7 // shift that leaves the leading one and 6 bits
	return (e+1)*latencySub + int(v>>e) - latencySub
}

// lowest is the smallest value of bucket b.
func lowest(b int) uint64 {
	if b < latencySub {
		return uint64(b)
	}
	e := b/latencySub - 1
	return uint64(b%latencySub+latencySub) << e
}

// LatencySummary is in microseconds.
type LatencySummary struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Summary returns nil when nothing was measured.
func (l *Latency) Summary() *LatencySummary {
	if l == nil || l.n == 0 {
		return nil
	}
	at := func(q float64) float64 {
		rank := uint64(q*float64(l.n-1)) + 1
		var seen uint64
		for b, c := range l.counts {
			if seen += c; seen >= rank {
				return float64(min(time.Duration(lowest(b)), l.max)) / 1e3
			}
		}
		return float64(l.max) / 1e3
	}
	return &LatencySummary{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: float64(l.max) / 1e3}
}
