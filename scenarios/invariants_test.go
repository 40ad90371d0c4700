package scenarios

import (
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/engine"
)

// TestInvariantsCheckedDuringRun: a run with a crash checks the engine's
// invariants at each checkpoint completion and deployment, not only at the end.
func TestInvariantsCheckedDuringRun(t *testing.T) {
	sc, err := Lookup("crash-during-alignment")
	if err != nil {
		t.Fatal(err)
	}
	setup, err := sc.Setup("aligned")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Execute(setup, setup.Seed, true)
	if err != nil {
		t.Fatal(err)
	}
	l := got.invariants
	if l == nil {
		t.Fatal("the run with faults was not watched")
	}
	completed := 0
	for _, st := range got.Runtime.Coordinator().Stats() {
		if st.Status == engine.StatusCompleted {
			completed++
		}
	}
	// each completion, each restart's deployment (the first is made before the
	// hooks are attached), the end
	restarts := len(got.Runtime.Recoveries())
	if restarts == 0 {
		t.Fatal("the run restarted no task: the crash did not test deployments")
	}
	if want := completed + restarts + 1; l.checks != want {
		t.Errorf("CheckInvariants ran %d times, want %d (%d completions, %d restarts, the end)", l.checks, want, completed, restarts)
	}
	c := l.result()
	if !c.OK || c.Name != "invariants" || l.violations != 0 {
		t.Errorf("check %+v, violations %d: want a passing invariants check", c, l.violations)
	}
}

// TestInvariantsResult: violations fail the check, name the first ones and count
// the rest; an unwatched run's check is skipped.
func TestInvariantsResult(t *testing.T) {
	var none *invariantLog
	if c := none.result(); !c.Skipped || !c.OK {
		t.Errorf("unwatched: %+v, want skipped", c)
	}
	l := &invariantLog{checks: 3, violations: 12}
	for i := 0; i < maxInvariantViolations; i++ {
		l.first = append(l.first, "at 1ms: map[0]: checkpoint id went back from 2 to 1")
	}
	c := l.result()
	if c.OK || !strings.HasPrefix(c.Detail, "12 violations in 3 checks: at 1ms: map[0]: checkpoint id went back") ||
		strings.Count(c.Diff, "\n") != maxInvariantViolations-1 {
		t.Errorf("got %+v", c)
	}
}
