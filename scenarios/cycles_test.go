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
// deadlocked two heads (aligned, fault-free reference). They were chained loops
// (the family had no narrow one then) and run as such.
func TestCyclicExploreRegressions(t *testing.T) {
	for _, tc := range []struct {
		seed     uint64
		protocol string
	}{{6538983674404691665, "aligned"}, {11363983123082546991, "cic"}, {6582969738712858166, "aligned"}} {
		c, err := newRandomCase(tc.seed, tc.protocol, chainedLoop)
		if err != nil {
			t.Fatal(err)
		}
		if c.Shape != cycleShape {
			t.Fatalf("case %d is %s, not cyclic", tc.seed, c.Shape)
		}
		// as explore runs it: a drawn fault may come after the job's end
		res, err := RunRecovered(c.Setup, RunOptions{Seed: c.Seed, FaultsMayNotFire: true})
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

// TestRandomNarrowLoop: explore's random family draws the narrow loop (one select
// task for two or more join subtasks, rebalanced) in some cyclic cases, and the
// protocols that checkpoint cycles pass the first of them from root seed 1, where
// mutant/cic-skip-forced takes useless checkpoints in some.
func TestRandomNarrowLoop(t *testing.T) {
	var seeds []uint64
	for i := 0; len(seeds) < 6 && i < 1000; i++ {
		if c := drawCycle(CaseSeed(1, i), anyLoop); c != nil && c.narrow {
			seeds = append(seeds, CaseSeed(1, i))
		}
	}
	if len(seeds) < 6 {
		t.Fatalf("%d narrow loops in 1000 cases", len(seeds))
	}
	for _, proto := range []string{"aligned", "unaligned", "uncoordinated", "cic", "mutant/cic-skip-forced"} {
		rep := Explore(ExploreOptions{Cases: seeds, Protocol: proto, Parallel: 1})
		mutant := strings.HasPrefix(proto, "mutant/")
		for _, f := range rep.Failed {
			if !mutant || f.Check != "no-useless-checkpoints" || f.Scenario != "random/"+cycleShape {
				t.Errorf("%s: case %d (%s) failed %s: %s; replay: %s", proto, f.Seed, f.Scenario, f.Check, clip(f.Detail, 300), f.Replay)
			}
		}
		if mutant && rep.Failures == 0 {
			t.Errorf("%s passed all %d narrow loops", proto, rep.Runs)
		}
		t.Logf("%s: %d of %d narrow loops failed", proto, rep.Failures, rep.Runs)
	}
	for _, seed := range seeds {
		c, err := NewRandomCase(seed, "cic")
		if err != nil {
			t.Fatal(err)
		}
		job := c.Setup.NewJob()
		var join, sel int
		for _, v := range job.Vertices {
			switch v.Name {
			case "join":
				join = v.Parallelism
			case "select":
				sel = v.Parallelism
			}
		}
		if c.Shape != cycleShape || join < 2 || sel != 1 {
			t.Errorf("case %d: %s, join at parallelism %d, select at %d", seed, c.Shape, join, sel)
		}
	}
}
