package faults

import (
	"testing"

	"github.com/ckptsim/ckptsim/sim"
)

// recordRun runs the test job to completion with a recorder attached and returns
// the points and the trace hash.
func recordRun(t *testing.T, sched Schedule) ([]Point, []Point, uint64) {
	t.Helper()
	rt := testRuntime(t)
	if len(sched) > 0 {
		if _, err := Install(rt, sched); err != nil {
			t.Fatal(err)
		}
	}
	rec := Record(rt)
	if !rt.RunToCompletion(sim.Time(sim.Minute)) {
		t.Fatal("job did not finish")
	}
	return rec.Points(), rec.All(), rt.World().TraceHash()
}

// TestRecorderOnlyObserves: a recorded run has the trace hash of the same run
// without the recorder, and reaches every step of a checkpoint's life.
func TestRecorderOnlyObserves(t *testing.T) {
	points, all, hash := recordRun(t, nil)
	rt := testRuntime(t)
	rt.RunToCompletion(sim.Time(sim.Minute))
	if got := rt.World().TraceHash(); got != hash {
		t.Fatalf("trace hash %016x with the recorder, %016x without", hash, got)
	}
	seen := map[Phase]int{}
	for _, p := range all {
		seen[p.Phase]++
	}
	for _, ph := range []Phase{StepTriggered, StepBarrier, PhaseAfterSync, StepUploaded, StepAcknowledged, PhaseAfterComplete, StepNotified} {
		if seen[ph] == 0 {
			t.Errorf("no %s point in %d points", ph, len(all))
		}
	}
	if seen[StepRestored] != 0 || seen[PhaseRecovery] != 0 {
		t.Errorf("a run without faults reached restore points: %v", seen)
	}
	if len(points) == 0 || len(points) > len(all) {
		t.Fatalf("%d distinct points of %d", len(points), len(all))
	}
	for i := 1; i < len(points); i++ {
		a, b := points[i-1], points[i]
		if b.Event < a.Event || b.At < a.At {
			t.Fatalf("points out of order: %v then %v", a, b)
		}
	}
}

// TestStepTriggersFireAtTheirPoint: a crash whose When is a recorded point fires
// at that point's time, for every kind of step; a restore point recorded after a
// crash fires a second crash during the recovery.
func TestStepTriggersFireAtTheirPoint(t *testing.T) {
	points, _, _ := recordRun(t, nil)
	byPhase := map[Phase]Point{}
	for _, p := range points {
		if old, ok := byPhase[p.Phase]; !ok || (p.Nth > old.Nth) {
			byPhase[p.Phase] = p // the one with the highest Nth exercises counting
		}
	}
	for ph, p := range byPhase {
		t.Run(string(ph), func(t *testing.T) {
			rt := testRuntime(t)
			in, err := Install(rt, Schedule{{Kind: CrashWorker, Worker: "worker-0", When: p.When(), RestartAfter: 100 * sim.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			rt.RunToCompletion(sim.Time(sim.Minute))
			log := in.Log()
			if len(log) == 0 || log[0].At != p.At {
				t.Fatalf("crash at %v did not fire at %v (log %v)", p, p.At, log)
			}
		})
	}
	first := Spec{Kind: CrashWorker, Worker: "worker-1", When: &When{Checkpoint: 2, Phase: PhaseAfterComplete}, RestartAfter: 100 * sim.Millisecond}
	_, all, _ := recordRun(t, Schedule{first})
	var restore *Point
	for _, p := range all {
		if p.Phase == StepRestored {
			restore = &p
			break
		}
	}
	if restore == nil {
		t.Fatal("a crash did not lead to a restore point")
	}
	rt := testRuntime(t)
	in, err := Install(rt, Schedule{first, {Kind: CrashStore, When: restore.When(), For: 100 * sim.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	rt.RunToCompletion(sim.Time(sim.Minute))
	var kinds []Kind
	for _, f := range in.Log() {
		if f.Detail != "healed" {
			kinds = append(kinds, f.Kind)
		}
	}
	if len(kinds) != 2 || kinds[1] != CrashStore || in.Log()[1].At != restore.At {
		t.Fatalf("log %v: want a store crash at the restore point %v", in.Log(), restore)
	}
}
