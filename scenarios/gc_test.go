package scenarios

import (
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
