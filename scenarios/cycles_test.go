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
		res := runScenario(t, "cyclic-reachability", proto, RunOptions{}, nil)
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

// cyclic-narrow-loop passes under every protocol that checkpoints cycles, cic
// forcing checkpoints and taking no useless one; HMNR without its second forcing
// condition takes useless checkpoints there (in cyclic-reachability it takes
// none); the protocols without cycles refuse it.
func TestCyclicNarrowLoop(t *testing.T) {
	sc, err := Lookup("cyclic-narrow-loop")
	if err != nil {
		t.Fatal(err)
	}
	run := func(proto string) *Result {
		t.Helper()
		return runScenario(t, "cyclic-narrow-loop", proto, RunOptions{}, nil)
	}
	for _, proto := range []string{"aligned", "unaligned", "uncoordinated", "cic"} {
		if res := run(proto); !res.OK || res.Outcome != OutcomePass {
			t.Errorf("%s: outcome %s: %+v", proto, res.Outcome, res.Checks)
		}
	}
	useless := func(res *Result) Check {
		for _, c := range res.Checks {
			if c.Name == "no-useless-checkpoints" {
				return c
			}
		}
		t.Fatalf("no no-useless-checkpoints check in %+v", res.Checks)
		return Check{}
	}
	if c := useless(run("mutant/cic-skip-forced")); c.OK || !strings.Contains(c.Detail, "is on a Z-cycle") {
		t.Errorf("mutant/cic-skip-forced: %+v", c)
	}
	for _, proto := range []string{"hybrid", "atleastonce"} {
		if _, err := sc.Setup(proto); !errors.Is(err, checkpoint.ErrNoFeedback) {
			t.Errorf("%s: got %v, want a refusal of the feedback edge", proto, err)
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
