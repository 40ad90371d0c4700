package scenarios

import "testing"

// TestWindowAndJoinLatency: window, window-join and interval-join results have an
// end-to-end latency, measured from the event time of the records that produced
// them (it was 0 ms for every window and join job).
func TestWindowAndJoinLatency(t *testing.T) {
	for _, name := range []string{"window-timer-storm", "join-imbalanced", "window-join-crash"} {
		sc, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		st, err := sc.Setup("aligned")
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(st, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if l := res.LatencyMS; !(l.P50 > 0 && l.P50 <= l.P99 && l.P99 <= l.Max && l.Max < res.SimTimeMS) {
			t.Errorf("%s: latency p50 %v, p99 %v, max %v ms (run of %v ms)", name, l.P50, l.P99, l.Max, res.SimTimeMS)
		}
	}
}
