package scenarios

import (
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
)

// mutantNames lists the mutants of coordinated protocols. Those of the local
// families are caught in protocol/mutant (TestLocalMutantsAreCaught: by explore;
// a forced checkpoint CIC skips also by localcheck, and by explore only on the
// family's narrow cyclic loops).
func mutantNames() []string {
	var out []string
	for _, n := range checkpoint.Names() {
		p, _ := checkpoint.Lookup(n)
		if strings.HasPrefix(n, "mutant/") && checkpoint.FamilyOf(p) == checkpoint.Coordinated {
			out = append(out, n)
		}
	}
	return out
}

// TestExploreCorrectProtocols runs a CI-sized swarm on the correct protocols: no
// failures, no determinism mismatches.
func TestExploreCorrectProtocols(t *testing.T) {
	runs := 80
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
	// "sometimes" assertions: the default budget must reach each situation
	for _, name := range []string{"crash-during-alignment", "crash-between-precommit-and-commit", "restore",
		"restore-with-channel-state", "rescale", "checkpoint-timeout", "subsumed-checkpoint", "coordinator-failover", "store-crash-during-metadata-write"} {
		if rep.Coverage[name] == 0 && !testing.Short() {
			t.Errorf("coverage: %q never reached in %d runs", name, rep.Runs)
		}
	}
}

// TestExploreCatchesMutants: for every mutant, a small swarm finds a failure and
// shrinks its fault schedule.
func TestExploreCatchesMutants(t *testing.T) {
	for _, name := range mutantNames() {
		t.Run(name, func(t *testing.T) {
			rep := Explore(ExploreOptions{Runs: 300, Seed: 1, Protocol: name, Shrink: true, MaxFailures: 1})
			if rep.Failures == 0 {
				t.Fatalf("%s survived %d runs", name, rep.Runs)
			}
			f := rep.Failed[0]
			if f.Replay == "" || (len(f.Faults) > 0 && len(f.Shrunk) == 0) {
				t.Errorf("failure without a replay command or a shrunk schedule: %+v", f)
			}
			t.Logf("%d/%d runs failed; first: case %d %s: %s; shrunk from %d to %d faults: %v; replay: %s",
				rep.Failures, rep.Runs, f.Seed, f.Check, clip(f.Detail, 200), len(f.Faults), len(f.Shrunk), f.Shrunk, f.Replay)
		})
	}
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

// TestExploreRecordsCases: with RecordCases the report lists every case in case
// order with its trace hash, the same at any parallelism, and a case run alone
// (its replay) has the hash listed for it.
func TestExploreRecordsCases(t *testing.T) {
	one := Explore(ExploreOptions{Runs: 4, Seed: 3, Parallel: 1, RecordCases: true})
	two := Explore(ExploreOptions{Runs: 4, Seed: 3, Parallel: 2, RecordCases: true})
	if len(one.Cases) != 4 {
		t.Fatalf("%d cases recorded, want 4", len(one.Cases))
	}
	for i, c := range one.Cases {
		if c.Seed != CaseSeed(3, i) || c.TraceHash == "" || c.Protocol == "" || c.Scenario == "" {
			t.Errorf("case %d recorded as %+v", i, c)
		}
		if two.Cases[i] != c {
			t.Errorf("case %d: %+v at parallelism 1, %+v at 2", i, c, two.Cases[i])
		}
	}
	c := one.Cases[2]
	alone := Explore(ExploreOptions{Cases: []uint64{c.Seed}, Protocol: c.Protocol, RecordCases: true})
	if len(alone.Cases) != 1 || alone.Cases[0] != c {
		t.Errorf("case %d alone: %+v, in the exploration: %+v", c.Seed, alone.Cases, c)
	}
	if none := Explore(ExploreOptions{Runs: 1, Seed: 3}); none.Cases != nil {
		t.Errorf("cases recorded without RecordCases: %+v", none.Cases)
	}
}

// TestExploreDerivesCasesAsTheyStart: a run count far beyond what a budget lets
// run costs nothing up front (cases are derived as they start), stops at the
// first failure, and counts every case not started as skipped.
func TestExploreDerivesCasesAsTheyStart(t *testing.T) {
	const runs = 1 << 40
	rep := Explore(ExploreOptions{Runs: runs, Seed: 1, Protocol: "mutant/sink-early-commit", Parallel: 1, MaxFailures: 1})
	if rep.Failures != 1 || rep.Runs < 1 || rep.Skipped != runs-rep.Runs {
		t.Fatalf("%d runs, %d failures, %d skipped: want 1 failure and the other %d cases skipped", rep.Runs, rep.Failures, rep.Skipped, runs-rep.Runs)
	}
	// shard 2 of 3 of 10 cases runs cases 2, 5 and 8, in that order
	rep = Explore(ExploreOptions{Runs: 10, Seed: 3, Protocol: "aligned", Shard: 2, Shards: 3, Parallel: 2, RecordCases: true})
	if len(rep.Cases) != 3 {
		t.Fatalf("shard 2/3 of 10 ran %d cases, want 3", len(rep.Cases))
	}
	for j, c := range rep.Cases {
		if want := CaseSeed(3, 2+3*j); c.Seed != want {
			t.Errorf("case %d: seed %d, want %d (case %d)", j, c.Seed, want, 2+3*j)
		}
	}
}
