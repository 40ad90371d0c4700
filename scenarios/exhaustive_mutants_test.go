package scenarios

import (
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/protocol/mutant"
)

// exhaustiveFirstFailures is, for each built-in mutant an acyclic job can catch,
// the first failing case of `simrun explore --exhaustive crash-during-alignment
// --protocol M --max-failures 1` (docs/exploration.md, scripts/exhaustive-mutants.sh):
// the point, without its time and event, and the crashed target.
var exhaustiveFirstFailures = map[string]struct{ point, target string }{
	"mutant/ack-before-upload":             {"checkpoint 1 barrier at out[0] (2nd time)", "worker-2"},
	"mutant/aligned-early-release":         {"checkpoint 3 uploaded at out[1]", "worker-0"},
	"mutant/aligned-no-block":              {"checkpoint 1 uploaded at out[0]", "worker-0"},
	"mutant/complete-without-all-acks":     {"checkpoint 1 uploaded at out[0]", "worker-0"},
	"mutant/non-fifo-channels":             {"checkpoint 1 uploaded at out[1]", "worker-0"},
	"mutant/notify-before-metadata":        {"checkpoint 1 uploaded at out[1]", "checkpoint-store"},
	"mutant/restore-stale-checkpoint":      {"checkpoint 2 after-complete", "worker-0"},
	"mutant/sink-early-commit":             {"checkpoint 1 triggered", "jobmanager"},
	"mutant/snapshot-by-reference":         {"checkpoint 1 uploaded at out[0]", "worker-0"},
	"mutant/source-offset-off-by-one":      {"checkpoint 1 uploaded at out[0]", "worker-0"},
	"mutant/unaligned-drop-input-state":    {"checkpoint 1 uploaded at out[1]", "worker-1"},
	"mutant/unaligned-drop-output-state":   {"checkpoint 1 uploaded at totals[2]", "worker-2"},
	"mutant/unaligned-overtaken-drop-last": {"checkpoint 1 uploaded at totals[2]", "worker-2"},
	"mutant/unc-line-ignores-orphans":      {"checkpoint 1000001 after-sync at out[1]", "jobmanager"},
	"mutant/unc-replay-active-only":        {"checkpoint 1000006 after-sync at out[1]", "jobmanager"},
	"mutant/unc-replay-off-by-one":         {"checkpoint 1000001 after-sync at orders->enrich[1]", "jobmanager"},
	"mutant/unc-replay-single-lost":        {"checkpoint 15 after-complete", "jobmanager"},
	"mutant/unc-same-worker-edges":         {"checkpoint 3 after-complete", "worker-2"},
	"mutant/unc-seq-not-rewound":           {"checkpoint 1000012 restored at orders->enrich[0]", "jobmanager"},
}

// TestExhaustiveCatchesMutants: every built-in mutant but the two only a cycle
// can catch fails the crash case of crash-during-alignment that its exhaustive
// search names first. The whole enumerations take minutes (docs/exploration.md);
// this runs the one case of each.
func TestExhaustiveCatchesMutants(t *testing.T) {
	sc, err := Lookup("crash-during-alignment")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range mutant.All {
		if !m.Cyclic {
			names = append(names, m.Name())
		}
	}
	for _, m := range mutant.Local {
		if !m.Cyclic {
			names = append(names, m.Name())
		}
	}
	if len(names) != len(exhaustiveFirstFailures) {
		t.Fatalf("%d mutants without a cycle, %d in the table: add the new one's first failing point", len(names), len(exhaustiveFirstFailures))
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, ok := exhaustiveFirstFailures[name]
			if !ok {
				t.Fatalf("no first failing point for %s", name)
			}
			setup, err := sc.Setup(name)
			if err != nil {
				t.Fatal(err)
			}
			cases, _, _, err := CrashCases(setup, ExhaustiveOptions{})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, c := range cases {
				if c.Target == want.target && strings.HasPrefix(c.Point.String(), want.point+", at ") {
					n = c.N
					break
				}
			}
			if n == 0 {
				t.Fatalf("no case crashes %s at %q among %d: rerun scripts/exhaustive-mutants.sh", want.target, want.point, len(cases))
			}
			rep, err := Exhaustive(setup, ExhaustiveOptions{Cases: []int{n}, Parallel: 1})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Failures != 1 {
				t.Fatalf("case %d (%s, crash of %s) passed", n, want.point, want.target)
			}
			t.Logf("case %d of %d: %s: %s", n, rep.Cases, rep.Failed[0].Check, clip(rep.Failed[0].Detail, 120))
		})
	}
}

// TestExhaustiveCatchesCyclicMutants: the two mutants only a cycle can catch fail
// the exhaustive crash points of cyclic-narrow-loop (at its first case, so the
// search stops at once).
func TestExhaustiveCatchesCyclicMutants(t *testing.T) {
	sc, err := Lookup("cyclic-narrow-loop")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range mutant.All {
		if m.Cyclic {
			names = append(names, m.Name())
		}
	}
	for _, m := range mutant.Local {
		if m.Cyclic {
			names = append(names, m.Name())
		}
	}
	if len(names) != 2 {
		t.Fatalf("cyclic mutants %v, want aligned-no-backedge-log and cic-skip-forced", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			setup, err := sc.Setup(name)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Exhaustive(setup, ExhaustiveOptions{MaxFailures: 1, Parallel: 1})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Failures == 0 {
				t.Fatalf("%s survived all %d cases", name, rep.Tried)
			}
			f := rep.Failed[0]
			t.Logf("case %d of %d (%s, crash of %s): %s: %s", f.Case, rep.Cases, f.Point, f.Target, f.Check, clip(f.Detail, 120))
		})
	}
}
