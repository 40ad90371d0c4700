package scenarios

import "testing"

// TestExploreLocalProtocolsCoverage: explore's swarm under uncoordinated and cic
// passes and reaches the fault situations issue #12 asks for: runs with two
// and with three or more failures, a crash during recovery, a coordinator
// crash, a crash between a sink's pre-commit and its commit (rescaling is
// refused for them with exit 2: cmd/simrun's TestBadInput).
func TestExploreLocalProtocolsCoverage(t *testing.T) {
	for _, proto := range []string{"uncoordinated", "cic"} {
		t.Run(proto, func(t *testing.T) {
			rep := Explore(ExploreOptions{Runs: 150, Seed: 1, Protocol: proto, Parallel: 2})
			if rep.Failures > 0 {
				f := rep.Failed[0]
				t.Fatalf("%d of %d runs failed; first: %s: %s; replay: %s", rep.Failures, rep.Runs, f.Check, clip(f.Detail, 300), f.Replay)
			}
			for _, name := range []string{"two-failures", "three-failures", "crash-during-recovery",
				"coordinator-failover", "crash-between-precommit-and-commit"} {
				if rep.Coverage[name] == 0 {
					t.Errorf("coverage: %q never reached in %d runs: %v", name, rep.Runs, rep.Coverage)
				}
			}
			t.Logf("%d runs, coverage %v", rep.Runs, rep.Coverage)
		})
	}
}
