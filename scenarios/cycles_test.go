package scenarios

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
)

// cyclic-reachability passes under every protocol that checkpoints cycles, its
// crash hitting a back edge's log under aligned; the others refuse it naming the
// edge.
func TestCyclicReachability(t *testing.T) {
	sc, err := Lookup("cyclic-reachability")
	if err != nil {
		t.Fatal(err)
	}
	for _, proto := range []string{"aligned", "unaligned", "uncoordinated", "cic"} {
		setup, err := sc.Setup(proto)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(setup, RunOptions{Seed: setup.Seed})
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK || res.Outcome != OutcomePass {
			t.Errorf("%s: outcome %s: %+v", proto, res.Outcome, res.Checks)
		}
		if proto == "aligned" && !slices.Contains(res.Coverage, "crash-during-back-edge-logging") {
			t.Errorf("aligned: the crash did not hit a back edge's log: coverage %v", res.Coverage)
		}
	}
	for _, proto := range []string{"hybrid", "atleastonce"} {
		_, err := sc.Setup(proto)
		want := `protocol ` + proto + ` does not support feedback edge "project -> join"`
		if !errors.Is(err, checkpoint.ErrNoFeedback) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", proto, err, want)
		}
		if AppliesTo(sc, proto) {
			t.Errorf("%s: AppliesTo says yes", proto)
		}
	}
}

// Cyclic explore cases that failed while cycles were built: a head triggered in
// the middle of a feedback buffer lost its rest (aligned, two concurrent
// checkpoints); a head restored by a local recovery line with its forward inputs
// ended never waited for its loop (cic); blocking barriers on back edges
// deadlocked two heads (aligned, fault-free reference).
func TestCyclicExploreRegressions(t *testing.T) {
	for _, tc := range []struct {
		seed     uint64
		protocol string
	}{{6538983674404691665, "aligned"}, {11363983123082546991, "cic"}, {6582969738712858166, "aligned"}} {
		c, err := NewRandomCase(tc.seed, tc.protocol)
		if err != nil {
			t.Fatal(err)
		}
		if c.Shape != cycleShape {
			t.Fatalf("case %d is %s, not cyclic", tc.seed, c.Shape)
		}
		res, err := RunRecovered(c.Setup, RunOptions{Seed: c.Seed})
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK {
			for _, ch := range res.Checks {
				if !ch.OK {
					t.Errorf("case %d (%s): %s: %s", tc.seed, tc.protocol, ch.Name, ch.Detail)
				}
			}
		}
	}
}
