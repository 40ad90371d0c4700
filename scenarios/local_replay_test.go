package scenarios

import "testing"

// TestReplayIncludesUnrecordedDurableCheckpoints replays the case that lost four
// window-join results: a partition dropped the report of payments[0]'s durable
// checkpoint, whose log delta then never reached the replay when the recovery line
// rolled its receiver back to its initial state. Every local protocol must pass it.
func TestReplayIncludesUnrecordedDurableCheckpoints(t *testing.T) {
	for _, p := range []string{"uncoordinated", "cic", "mutant/cic-skip-forced"} {
		rep := Explore(ExploreOptions{Cases: []uint64{988536628470286833}, Protocol: p, Parallel: 1})
		if rep.Runs != 1 {
			t.Fatalf("%s: ran %d cases, want 1", p, rep.Runs)
		}
		if rep.Failures != 0 {
			t.Errorf("%s: %s: %s", p, rep.Failed[0].Check, clip(rep.Failed[0].Detail, 300))
		}
	}
}
