package scenarios

import (
	"slices"
	"testing"

	"github.com/ckptsim/ckptsim/engine"
)

// The restore-points sample keeps at most its bound, and the same checkpoints
// whatever the order they are offered in (a bottom-k sample of the seed).
func TestRestoreSampleIsBoundedAndOrderFree(t *testing.T) {
	ids := func(s *restoreSample) []int64 {
		var out []int64
		for _, k := range s.kept {
			out = append(out, k.cp.ID)
		}
		slices.Sort(out)
		return out
	}
	fill := func(order []int64) *restoreSample {
		s := newRestoreSample(7, 3)
		for _, id := range order {
			cp := &engine.CompletedCheckpoint{ID: id}
			s.offer(cp, func() *engine.CompletedCheckpoint { return cp })
		}
		return s
	}
	var up, down []int64
	for id := int64(1); id <= 500; id++ {
		up = append(up, id)
		down = append(down, 501-id)
	}
	a, b := fill(up), fill(down)
	if len(a.kept) != 3 || a.offered != 500 {
		t.Fatalf("kept %d of %d offered, want 3 of 500", len(a.kept), a.offered)
	}
	if !slices.Equal(ids(a), ids(b)) {
		t.Fatalf("offered in order: %v; in reverse: %v", ids(a), ids(b))
	}
	if other := ids(func() *restoreSample {
		s := newRestoreSample(8, 3)
		for _, id := range up {
			cp := &engine.CompletedCheckpoint{ID: id}
			s.offer(cp, func() *engine.CompletedCheckpoint { return cp })
		}
		return s
	}()); slices.Equal(other, ids(a)) {
		t.Fatalf("seeds 7 and 8 sample the same checkpoints %v", other)
	}
	// durable is asked only for the checkpoints kept when offered
	asked := 0
	s := newRestoreSample(7, 3)
	for _, id := range up {
		cp := &engine.CompletedCheckpoint{ID: id}
		s.offer(cp, func() *engine.CompletedCheckpoint { asked++; return cp })
	}
	if asked >= 100 {
		t.Fatalf("the store was read for %d of 500 checkpoints; a bottom-3 sample needs about 3·ln(500/3) ≈ 18", asked)
	}
}
