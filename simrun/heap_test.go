package simrun

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/scenarios"
)

// TestRunReportsSpeedAndHeap: simrun run --json says how fast the run simulated
// and how large the heap grew, and a suite's reproducible files leave both out.
func TestRunReportsSpeedAndHeap(t *testing.T) {
	res := runJSON(t, 0, "run", small, "--json")
	if res.SimSecondsPerWallSecond <= 0 || res.WallMS <= 0 {
		t.Errorf("sim_seconds_per_wall_second %v, wall_ms %v: want both > 0", res.SimSecondsPerWallSecond, res.WallMS)
	}
	if want := res.SimTimeMS / res.WallMS; res.SimSecondsPerWallSecond != want {
		t.Errorf("sim_seconds_per_wall_second %v, want sim_time_ms/wall_ms = %v", res.SimSecondsPerWallSecond, want)
	}
	// a run allocates at least its job, its world and its reference's state
	if res.PeakHeapBytes < 1<<20 {
		t.Errorf("peak_heap_bytes %d: want at least 1 MiB", res.PeakHeapBytes)
	}
	_, out, _ := simrun(t, "run", small)
	if !strings.Contains(out, "simulated s per wall s, peak heap ") {
		t.Errorf("the summary does not show the speed and the peak heap:\n%s", out)
	}
	b, err := json.Marshal(withoutWallClock([]*scenarios.Result{res}))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"wall_ms", "sim_seconds_per_wall_second", "peak_heap_bytes"} {
		if strings.Contains(string(b), `"`+k+`"`) {
			t.Errorf("a suite's results.json carries %s: %s", k, b)
		}
	}
}
