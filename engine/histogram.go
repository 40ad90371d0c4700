package engine

import (
	"math/bits"

	"github.com/ckptsim/ckptsim/sim"
)

// Histogram counts durations in logarithmic buckets (16 per power of two, so a
// quantile is within about 6%); recording never allocates.
type Histogram struct {
	counts [64 * 16]int64
	n      int64
	max    sim.Duration
}

func bucketOf(d sim.Duration) int {
	if d <= 0 {
		return 0
	}
	v := uint64(d)
	e := bits.Len64(v) - 1
	if e < 4 {
		return int(v)
	}
	return (e-3)*16 + int((v>>(uint(e)-4))&15)
}

func bucketUpper(b int) sim.Duration {
	if b < 16 {
		return sim.Duration(b)
	}
	e := b/16 + 3
	sub := uint64(b % 16)
	return sim.Duration((16 + sub + 1) << uint(e-4))
}

// Record adds one duration.
func (h *Histogram) Record(d sim.Duration) {
	h.counts[bucketOf(d)]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

// Count is the number of durations recorded.
func (h *Histogram) Count() int64 { return h.n }

// Max is the largest duration recorded.
func (h *Histogram) Max() sim.Duration { return h.max }

// Quantile is the q-quantile (0..1) of the recorded durations.
func (h *Histogram) Quantile(q float64) sim.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n-1)) + 1
	var seen int64
	for b, c := range h.counts {
		seen += c
		if seen >= rank {
			u := bucketUpper(b)
			if u > h.max {
				u = h.max
			}
			return u
		}
	}
	return h.max
}

// Merge adds another histogram's counts.
func (h *Histogram) Merge(o *Histogram) {
	for b, c := range o.counts {
		h.counts[b] += c
	}
	h.n += o.n
	if o.max > h.max {
		h.max = o.max
	}
}

// Since is the histogram of the durations recorded after prev was copied from h
// (prev must be an earlier copy of h). Its maximum is the upper bound of its
// highest bucket, capped by h's maximum.
func (h *Histogram) Since(prev *Histogram) Histogram {
	var d Histogram
	for b := range h.counts {
		if c := h.counts[b] - prev.counts[b]; c > 0 {
			d.counts[b] = c
			d.n += c
			d.max = min(bucketUpper(b), h.max)
		}
	}
	return d
}
