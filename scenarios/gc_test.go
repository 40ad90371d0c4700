package scenarios

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// gcPercent reads the collector's target without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestTuneExploreGCSetsAndRestoresOnce(t *testing.T) {
	t.Setenv("GOGC", "")
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)
	outer := tuneExploreGC()
	if got := gcPercent(); got != exploreGCPercent {
		t.Fatalf("during an exploration GOGC is %d, want %d", got, exploreGCPercent)
	}
	inner := tuneExploreGC() // an overlapping exploration
	inner()
	if got := gcPercent(); got != exploreGCPercent {
		t.Fatalf("after the inner of two explorations ended GOGC is %d, want %d still", got, exploreGCPercent)
	}
	outer()
	if got := gcPercent(); got != 150 {
		t.Fatalf("after both ended GOGC is %d, want the previous 150", got)
	}
}

func TestTuneExploreGCLeavesTheUsersGOGC(t *testing.T) {
	t.Setenv("GOGC", "100")
	before := debug.SetGCPercent(120)
	defer debug.SetGCPercent(before)
	restore := tuneExploreGC()
	if got := gcPercent(); got != 120 {
		t.Fatalf("with GOGC set by the user, an exploration changed the target to %d", got)
	}
	restore()
	if got := gcPercent(); got != 120 {
		t.Fatalf("restoring changed the user's target to %d", got)
	}
}

func TestGCPercentForReachesTheFloor(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		live, floor uint64
		want        int
	}{
		{0, 64 * mb, exploreGCPercent},
		{20 * mb, 64 * mb, exploreGCPercent}, // 400% of 20 MB is 100 MB
		{16 * mb, 64 * mb, exploreGCPercent}, // 400% of 16 MB is 80 MB
		{8 * mb, 64 * mb, 700},               // 8 MB × 8 = 64 MB
		{3 * mb, 64 * mb, 2100},              // 3 MB × 22 = 66 MB
		{3 * mb, 128 * mb, 4200},
	} {
		got := gcPercentFor(c.live, c.floor)
		if got != c.want {
			t.Errorf("gcPercentFor(%d MB, %d MB) = %d, want %d", c.live/mb, c.floor/mb, got, c.want)
		}
		if c.live > 0 && c.live*uint64(100+got)/100 < c.floor {
			t.Errorf("gcPercentFor(%d MB, %d MB) = %d: heap goal below the floor", c.live/mb, c.floor/mb, got)
		}
	}
}

func TestTickExploreGCRaisesTheTargetAfterACollection(t *testing.T) {
	t.Setenv("GOGC", "")
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)
	tickExploreGC(1) // outside an exploration: no change
	if got := gcPercent(); got != 150 {
		t.Fatalf("tick outside an exploration changed the target to %d", got)
	}
	restore := tuneExploreGC()
	runtime.GC()
	tickExploreGC(2)
	live := exploreGC.samples[1].Value.Uint64()
	if got, want := gcPercent(), gcPercentFor(live, 2*exploreHeapFloor); got != want {
		t.Fatalf("after a collection with %d bytes live the target is %d, want %d", live, got, want)
	}
	restore()
	if got := gcPercent(); got != 150 {
		t.Fatalf("after the exploration the target is %d, want the previous 150", got)
	}
	tickExploreGC(1)
	if got := gcPercent(); got != 150 {
		t.Fatalf("tick after the exploration changed the target to %d", got)
	}
}
