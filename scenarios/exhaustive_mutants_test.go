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

// cyclicFirstFailures is the same for the two mutants only a cycle can catch, on
// cyclic-narrow-loop.
var cyclicFirstFailures = map[string]struct{ point, target string }{
	"mutant/aligned-no-backedge-log": {"checkpoint 7 uploaded at select->project[0]", "worker-1"},
	"mutant/cic-skip-forced":         {"checkpoint 1000001 after-sync at join[1]", "worker-0"},
}

// TestExhaustiveCatchesMutants: every built-in mutant but the two only a cycle
// can catch fails the crash case of crash-during-alignment that its exhaustive
// search names first. The whole enumerations take minutes (docs/exploration.md);
// this runs the one case of each.
func TestExhaustiveCatchesMutants(t *testing.T) {
	firstFailures(t, "crash-during-alignment", false, exhaustiveFirstFailures)
}

// TestExhaustiveCatchesCyclicMutants: the two mutants only a cycle can catch fail
// the crash case of cyclic-narrow-loop that their exhaustive search names first.
func TestExhaustiveCatchesCyclicMutants(t *testing.T) {
	firstFailures(t, "cyclic-narrow-loop", true, cyclicFirstFailures)
}

// firstFailures runs, for each built-in mutant that is (cyclic) or is not only
// catchable on a cycle, the recorded first failing case of scenario, and asserts
// it fails.
func firstFailures(t *testing.T, scenario string, cyclic bool, table map[string]struct{ point, target string }) {
	sc, err := Lookup(scenario)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range mutant.All {
		if m.Cyclic == cyclic {
			names = append(names, m.Name())
		}
	}
	for _, m := range mutant.Local {
		if m.Cyclic == cyclic {
			names = append(names, m.Name())
		}
	}
	if len(names) != len(table) {
		t.Fatalf("%d mutants (cyclic only: %v), %d in the table: add the new one's first failing point", len(names), cyclic, len(table))
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, ok := table[name]
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
				t.Fatalf("no case crashes %s at %q among %d: rerun scripts/exhaustive-mutants.sh %s", want.target, want.point, len(cases), scenario)
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
