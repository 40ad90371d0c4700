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
// breaks HMNR's checkpoint decisions is caught by localcheck instead: no
// Z-cycle can form in the acyclic jobs explore runs, so it cannot take a useless
// checkpoint there.
func TestLocalMutantsAreCaught(t *testing.T) {
	for _, m := range mutant.Local {
		t.Run(m.Name(), func(t *testing.T) {
			if m.Family() == checkpoint.CommunicationInduced {
				c, ok := localcheck.FirstUseless(3000, m.NewLocal)
				if !ok {
					t.Fatalf("%s took no useless checkpoint in 3000 random exchanges", m.Name())
				}
				t.Logf("caught: useless checkpoint after %v", c)
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
