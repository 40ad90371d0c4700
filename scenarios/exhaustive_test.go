package scenarios

import (
	"testing"

	"github.com/ckptsim/ckptsim/faults"
	"github.com/google/go-cmp/cmp"
)

func smallSetup(t *testing.T, protocol string) *Setup {
	t.Helper()
	st, err := SmallCrashScenario().Setup(protocol)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestCrashCasesAreAFunctionOfTheSetup: the enumeration is the same each time,
// covers every step kind and target, and numbers cases from 1.
func TestCrashCasesAreAFunctionOfTheSetup(t *testing.T) {
	st := smallSetup(t, "aligned")
	a, points, recovery, err := CrashCases(st, ExhaustiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _, _, err := CrashCases(st, ExhaustiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a, b, cmp.AllowUnexported(faults.Point{})); d != "" {
		t.Fatalf("two enumerations differ:\n%s", d)
	}
	targets := map[string]bool{}
	phases := map[faults.Phase]bool{}
	for i, c := range a {
		if c.N != i+1 {
			t.Fatalf("case %d numbered %d", i+1, c.N)
		}
		targets[c.Target] = true
		phases[c.Point.Phase] = true
		want := 1 // a crash of the fault-free run's points, then with the setup's own faults
		if i >= points*4 {
			want += len(st.Faults)
		}
		if len(c.Faults) != want {
			t.Fatalf("case %d has %d faults, want %d", c.N, len(c.Faults), want)
		}
	}
	if len(a) != (points+recovery)*len(targets) || recovery == 0 {
		t.Fatalf("%d cases from %d+%d points and %d targets", len(a), points, recovery, len(targets))
	}
	for _, want := range []string{"worker-0", "worker-1", TargetCoordinator, TargetStore} {
		if !targets[want] {
			t.Errorf("no case crashes %s", want)
		}
	}
	for _, ph := range []faults.Phase{faults.StepTriggered, faults.StepBarrier, faults.PhaseAfterSync, faults.StepUploaded,
		faults.StepAcknowledged, faults.PhaseAfterComplete, faults.StepNotified, faults.StepRestored} {
		if !phases[ph] {
			t.Errorf("no %s point", ph)
		}
	}
	t.Logf("%d cases: %d points, %d recovery points, %d targets", len(a), points, recovery, len(targets))
}

// TestExhaustiveFailureReplays: a mutant fails a crash case, and the case number
// of its replay command fails the same check alone.
func TestExhaustiveFailureReplays(t *testing.T) {
	st := smallSetup(t, "mutant/source-offset-off-by-one")
	rep, err := Exhaustive(st, ExhaustiveOptions{MaxFailures: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failures == 0 {
		t.Fatalf("the mutant survived %d crash cases", rep.Tried)
	}
	f := rep.Failed[0]
	again, err := Exhaustive(st, ExhaustiveOptions{Cases: []int{f.Case}})
	if err != nil {
		t.Fatal(err)
	}
	if again.Tried != 1 || again.Failures != 1 || again.Failed[0].Check != f.Check || again.Failed[0].Point != f.Point {
		t.Fatalf("case %d (%s, %s) did not fail again alone: %+v", f.Case, f.Point, f.Check, again)
	}
	if want := ExhaustiveReplay(st.Name, st.Protocol, st.Seed, f.Case); f.Replay != want {
		t.Fatalf("replay %q, want %q", f.Replay, want)
	}
	if _, err := Exhaustive(st, ExhaustiveOptions{Cases: []int{rep.Cases + 1}}); err == nil {
		t.Fatal("a case number past the end was accepted")
	}
}
