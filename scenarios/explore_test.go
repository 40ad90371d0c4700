package scenarios

import (
	"testing"
)

// TestExploreCorrectProtocols runs a CI-sized swarm on the correct protocols: no
// failures, no determinism mismatches.
func TestExploreCorrectProtocols(t *testing.T) {
	runs := 40
	if testing.Short() {
		runs = 10
	}
	rep := Explore(ExploreOptions{Runs: runs, Seed: 1, CheckDeterminism: true})
	for _, f := range rep.Failed {
		t.Errorf("case %d (%s, %s) failed %s: %s\n  swarm: %s\n  faults: %v\n  replay: %s",
			f.Seed, f.Scenario, f.Protocol, f.Check, f.Detail, f.Swarm, f.Faults, f.Replay)
	}
	if rep.DeterminismMismatches != 0 {
		t.Errorf("%d determinism mismatches", rep.DeterminismMismatches)
	}
	t.Logf("%d runs, coverage %v", rep.Runs, rep.Coverage)
}

// TestExploreShardsUnion: the shards of an exploration together run exactly the
// cases of the unsharded one.
func TestExploreShardsUnion(t *testing.T) {
	var all []uint64
	for i := 0; i < 10; i++ {
		all = append(all, CaseSeed(7, i))
	}
	seen := map[uint64]int{}
	for shard := 0; shard < 3; shard++ {
		for i := 0; i < 10; i++ {
			if i%3 == shard {
				seen[CaseSeed(7, i)]++
			}
		}
	}
	for _, s := range all {
		if seen[s] != 1 {
			t.Fatalf("case %d is run %d times across shards", s, seen[s])
		}
	}
}
