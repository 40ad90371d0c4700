package scenarios

import (
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/state"
)

// runScenario runs a named scenario, changed by edit, under protocol.
func runScenario(t *testing.T, name, protocol string, opts RunOptions, edit func(*Scenario)) *Result {
	t.Helper()
	sc, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	sc = sc.Clone()
	if edit != nil {
		edit(sc)
	}
	st, err := sc.Setup(protocol)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func check(t *testing.T, res *Result, name string) Check {
	t.Helper()
	for _, c := range res.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("%s under %s has no %s check: %+v", res.Scenario, res.Protocol, name, res.Checks)
	return Check{}
}

// TestAtLeastOnceSinkChecksAtLeastOnce: an exactly-once protocol with an
// at-least-once sink is checked at least once (it used to fail exactly-once-output
// with every replayed record a duplicate), keyed state still exactly once, and the
// result says why.
func TestAtLeastOnceSinkChecksAtLeastOnce(t *testing.T) {
	res := runScenario(t, "crash-during-alignment", "aligned", RunOptions{}, func(sc *Scenario) {
		sc.Job.Operators[len(sc.Job.Operators)-1].Sink = "at-least-once"
	})
	if !res.OK || res.Guarantee != "at-least-once" || !strings.Contains(res.GuaranteeNote, "sink out is an at-least-once sink") {
		t.Fatalf("ok %v, guarantee %q (%s): %+v", res.OK, res.Guarantee, res.GuaranteeNote, res.Checks)
	}
	check(t, res, "exactly-once-state")
	if c := check(t, res, "at-least-once-output"); !c.OK || !strings.Contains(c.Detail, "duplicates (allowed at least once)") {
		t.Errorf("at-least-once-output: %+v", c)
	}
	plain := runScenario(t, "crash-during-alignment", "aligned", RunOptions{}, nil)
	if plain.Guarantee != "exactly-once" || plain.GuaranteeNote != "" {
		t.Errorf("a two-phase-commit sink: guarantee %q (%s)", plain.Guarantee, plain.GuaranteeNote)
	}
}

// TestCheckpointingOffChecksNothing: without checkpoints the exactly-once oracles
// say they checked nothing instead of passing.
func TestCheckpointingOffChecksNothing(t *testing.T) {
	res := runScenario(t, "steady", "aligned", RunOptions{}, func(sc *Scenario) {
		sc.Config["execution.checkpointing.interval"] = "0 s"
	})
	for _, name := range []string{"exactly-once-state", "exactly-once-output", "verifying-sink"} {
		if c := check(t, res, name); !c.OK || !c.Skipped || !strings.HasPrefix(c.Detail, "not checked: checkpointing is off") {
			t.Errorf("%s: %+v", name, c)
		}
	}
	if c := check(t, res, "liveness"); c.Skipped {
		t.Errorf("liveness is checked without checkpoints too: %+v", c)
	}
}

// TestFaultsFired: a scheduled fault that never fires fails a named scenario (or
// file), is counted and not failed in explore, is not counted once the job failed
// for good, and makes a scenario whose fault waits for a coordinated checkpoint's
// phase not applicable to a protocol without barriers.
func TestFaultsFired(t *testing.T) {
	late := func(sc *Scenario) { sc.Faults[0] = FaultSpec{At: "90 s", Kind: "crash-task", Task: "totals[1]"} }
	res := runScenario(t, "crash-during-alignment", "aligned", RunOptions{}, late)
	c := check(t, res, "faults-fired")
	if res.OK || res.Outcome != "check-failed" || c.OK || !strings.Contains(c.Detail, "fault 1 (at 90 s: crash-task task=totals[1]) never fired: the job finished at") {
		t.Fatalf("ok %v, outcome %s, %+v", res.OK, res.Outcome, c)
	}
	// the same with a detected outcome expected: a fault that never fired detected nothing
	res = runScenario(t, "crash-during-alignment", "aligned", RunOptions{}, func(sc *Scenario) {
		late(sc)
		sc.Expect.Outcome = OutcomeDetected
	})
	if res.OK || res.Outcome != "check-failed" {
		t.Errorf("expected detected, a fault that never fired: ok %v, outcome %s", res.OK, res.Outcome)
	}
	res = runScenario(t, "crash-during-alignment", "aligned", RunOptions{FaultsMayNotFire: true}, late)
	if !res.OK || !strings.Contains(strings.Join(res.Coverage, " "), "fault-not-fired") {
		t.Errorf("explore's options: ok %v, coverage %v, checks %+v", res.OK, res.Coverage, res.Checks)
	}
	res = runScenario(t, "repeated-crashes", "aligned", RunOptions{}, nil)
	if c := check(t, res, "faults-fired"); !res.OK || !c.OK || !strings.Contains(c.Detail, "3 of 4 scheduled faults fired; the rest were due after the job failed for good") {
		t.Errorf("repeated-crashes: ok %v, %+v", res.OK, c)
	}
	res = runScenario(t, "crash-during-alignment", "uncoordinated", RunOptions{}, nil)
	if c := check(t, res, "faults-fired"); !res.OK || res.Outcome != OutcomeNotApplicable || !c.Skipped || !strings.HasPrefix(c.Detail, "not applicable") {
		t.Errorf("uncoordinated: ok %v, outcome %s, %+v", res.OK, res.Outcome, c)
	}
}

// TestStateDiff: a state difference reads in a line (counts per vertex, the first
// keys) and the full list is kept beside it.
func TestStateDiff(t *testing.T) {
	entry := func(kg int, key uint64, v int64) state.Entry {
		return state.Entry{KeyGroup: kg, Cell: state.Cell{Key: key}, Value: v}
	}
	var want, got []state.Entry
	for k := range uint64(1000) {
		want = append(want, entry(int(k/10), k, int64(k)))
		if k%100 != 7 { // ten keys missing
			v := int64(k)
			if k%250 == 3 { // four keys different
				v++
			}
			got = append(got, entry(int(k/10), k, v))
		}
	}
	got = append(got, entry(200, 5000, 1)) // one extra
	detail, full := stateDiff(map[string][]state.Entry{"totals": want}, map[string][]state.Entry{"totals": got})
	wantDetail := "15 of 1000 entries differ (totals: 4 different, 10 missing, 1 extra); first: " +
		"totals: key 3 (key group 0, namespace 0, sub 0): want 3, got 4; " +
		"totals: key 7 (key group 0, namespace 0, sub 0): want 7, missing; " +
		"totals: key 107 (key group 10, namespace 0, sub 0): want 107, missing"
	if detail != wantDetail {
		t.Errorf("detail\n%s\nwant\n%s", detail, wantDetail)
	}
	if lines := strings.Split(full, "\n"); len(lines) != 15 || lines[14] != "totals: key 5000 (key group 200, namespace 0, sub 0): not in the reference, got 1" {
		t.Errorf("full diff of %d lines:\n%s", len(lines), full)
	}
	if d, f := stateDiff(map[string][]state.Entry{"totals": want}, map[string][]state.Entry{"totals": want}); d != "" || f != "" {
		t.Errorf("equal states differ: %q", d)
	}
}
