package mutant_test

import (
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/protocol/localcheck"
	"github.com/ckptsim/ckptsim/protocol/mutant"
	"github.com/ckptsim/ckptsim/scenarios"
)

// TestLocalMutantsAreCaught: explore catches each broken recovery of the local
// families (exactly-once state or output), shrinks the failure to a schedule of
// at most three faults and prints a command that replays it. The mutant that
// breaks HMNR's checkpoint decisions is caught by localcheck over abstract
// exchanges, and by explore only on its cyclic cases (no Z-cycle forms in an
// acyclic job) with the narrow loop, where it takes useless checkpoints without
// any fault.
func TestLocalMutantsAreCaught(t *testing.T) {
	for _, m := range mutant.Local {
		t.Run(m.Name(), func(t *testing.T) {
			if m.Family() == checkpoint.CommunicationInduced {
				c, ok := localcheck.FirstUseless(3000, m.NewLocal)
				if !ok {
					t.Fatalf("%s took no useless checkpoint in 3000 random exchanges", m.Name())
				}
				t.Logf("caught: useless checkpoint after %v", c)
				rep := scenarios.Explore(scenarios.ExploreOptions{Runs: 400, Seed: 1, Protocol: m.Name(), Parallel: 2, MaxFailures: 1})
				if rep.Failures == 0 || rep.Failed[0].Check != "no-useless-checkpoints" {
					t.Fatalf("%s: explore: %d of %d cases failed: %+v", m.Name(), rep.Failures, rep.Runs, rep.Failed)
				}
				f := rep.Failed[0]
				t.Logf("caught by %s in %s: %s; replay: %s", f.Check, f.Scenario, f.Detail, f.Replay)
				return
			}
			rep := scenarios.Explore(scenarios.ExploreOptions{Runs: 400, Seed: 1, Protocol: m.Name(), Parallel: 2,
				Shrink: true, MaxFailures: 1})
			if rep.Failures == 0 {
				t.Fatalf("%s survived %d explore cases", m.Name(), rep.Runs)
			}
			f := rep.Failed[0]
			if len(f.Shrunk) == 0 || len(f.Shrunk) > 3 {
				t.Fatalf("%s: shrunk to %d faults: %v", m.Name(), len(f.Shrunk), f.Shrunk)
			}
			t.Logf("caught by %s in %s, shrunk to %v; replay: %s", f.Check, f.Scenario, f.Shrunk, f.Replay)
		})
	}
}
