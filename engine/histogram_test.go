package engine

import (
	"testing"

	"github.com/ckptsim/ckptsim/sim"
)

// Since keeps exactly what was recorded after the copy.
func TestHistogramSince(t *testing.T) {
	var h Histogram
	for i := 1; i <= 100; i++ {
		h.Record(sim.Duration(i) * sim.Millisecond)
	}
	prev := h
	for i := 0; i < 50; i++ {
		h.Record(5 * sim.Second)
	}
	d := h.Since(&prev)
	if d.Count() != 50 {
		t.Fatalf("Since counts %d, want 50", d.Count())
	}
	if q := d.Quantile(0.01); q < 4700*sim.Millisecond || q > 5*sim.Second {
		t.Fatalf("Since quantile %v, want about 5 s", q)
	}
	if empty := h.Since(&h); empty.Count() != 0 || empty.Quantile(0.99) != 0 {
		t.Fatalf("a histogram since itself is not empty: %d", empty.Count())
	}
}
