package engine_test

import (
	"testing"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/google/go-cmp/cmp"
)

// TestFaultDuringSavepointKeepsThePreviousUsable: a fault while a savepoint is
// taken (a crash during its alignment, the store down or crashing while it
// uploads, the store crashing while its metadata is written) fails that savepoint
// and nothing else: the previous savepoint stays the latest, its files in the
// store are intact (a new job restored from what the store holds reaches the
// uninterrupted run's state), a failed stop lets the job run on, and the job
// still ends with the uninterrupted run's state and output.
func TestFaultDuringSavepointKeepsThePreviousUsable(t *testing.T) {
	type fault struct {
		name string
		spec faults.Spec
	}
	during := func(phase faults.Phase, task string) *faults.When {
		return &faults.When{Savepoint: 2, Phase: phase, Task: task}
	}
	cases := []fault{
		{"crash-worker/alignment", faults.Spec{Kind: faults.CrashWorker, When: during(faults.PhaseAlignment, "sum[1]"), RestartAfter: 300 * sim.Millisecond}},
		{"crash-task/alignment", faults.Spec{Kind: faults.CrashTask, When: during(faults.PhaseAlignment, "pairs[2]")}},
		{"storage-outage/upload", faults.Spec{Kind: faults.StorageOutage, When: during(faults.PhaseAfterSync, "sum[0]"), For: 300 * sim.Millisecond}},
		{"crash-store/upload", faults.Spec{Kind: faults.CrashStore, When: during(faults.PhaseAfterSync, "pairs[0]"), For: 200 * sim.Millisecond}},
		{"crash-store/metadata", faults.Spec{Kind: faults.CrashStore, When: during(faults.PhaseMetadata, ""), For: 200 * sim.Millisecond}},
	}
	for _, kind := range []engine.SavepointKind{engine.IntermediateSavepoint, engine.StopSavepoint} {
		for _, c := range cases {
			t.Run(kind.String()+"/"+c.name, func(t *testing.T) {
				cfg := savepointConfig(t, "aligned", "heap")
				cfg.Checkpoint.TolerableFailures = 100 // checkpoints the store fault fails do not fail the job
				want := uninterrupted(t, cfg)
				rt := newSavepointRuntime(t, cfg)
				in, err := faults.Install(rt, faults.Schedule{c.spec})
				if err != nil {
					t.Fatal(err)
				}
				var results []engine.SavepointResult
				rt.Hooks.OnSavepoint(func(r engine.SavepointResult) { results = append(results, r) })
				rt.Start()
				rt.RunUntil(sim.Time(300 * sim.Millisecond))
				first, err := rt.TriggerSavepoint(engine.IntermediateSavepoint)
				if err != nil {
					t.Fatal(err)
				}
				rt.RunUntil(sim.Time(600 * sim.Millisecond))
				second, err := rt.TriggerSavepoint(kind)
				if err != nil {
					t.Fatal(err)
				}
				rt.RunUntil(sim.Time(1500 * sim.Millisecond))
				if len(in.Log()) == 0 {
					t.Fatalf("the fault never fired; savepoint results %+v", results)
				}
				if len(results) != 2 || !results[0].OK || results[0].ID != first || results[1].ID != second || results[1].OK {
					t.Fatalf("savepoint results %+v (fault %v)", results, in.Log())
				}
				if sp := rt.Coordinator().LatestSavepoint(); sp == nil || sp.ID != first {
					t.Fatalf("latest savepoint %v, want %d", sp, first)
				}
				if rt.Ended() {
					t.Fatalf("the job is over (%s) after a failed savepoint: %v", rt.Status(), rt.Failures())
				}
				previous := rt.DurableCheckpoint(rt.Coordinator().LatestSavepoint())
				if !rt.RunUntil(sim.Time(sim.Minute)) {
					t.Fatalf("did not finish: %s %v", rt.Status(), rt.Failures())
				}
				if d := cmp.Diff(want, observe(rt), cmp.AllowUnexported(outcome{})); d != "" {
					t.Errorf("the run with the failed savepoint differs from the uninterrupted one (-want +got):\n%s", d)
				}
				// the previous savepoint, as the store holds it, is a restore point
				fork := cfg
				fork.RestoreFrom = previous
				forked, err := engine.NewRuntime(sim.NewWorld(5), savepointJob(), fork)
				if err != nil {
					t.Fatal(err)
				}
				forked.KeepCommitted() // the tests compare committed records
				if !forked.RunToCompletion(sim.Time(sim.Minute)) {
					t.Fatalf("the job restored from savepoint %d did not finish: %v", first, forked.Failures())
				}
				if d := cmp.Diff(want.state, observe(forked).state); d != "" {
					t.Errorf("the job restored from savepoint %d ends with other state (-want +got):\n%s", first, d)
				}
			})
		}
	}
}

// TestFailureAfterADrainedSavepointEndsTheJob: a failure after a drained stop's
// savepoint completed, before the sinks committed it and the job ended (a worker
// crash, a coordinator crash, a task failure), ends the job stopped with that
// savepoint: its transactions are committed and the output and state are those
// of a run whose input ends at its offsets. Restoring the drained savepoint and
// running on would emit the flushed windows again and lose their late records.
func TestFailureAfterADrainedSavepointEndsTheJob(t *testing.T) {
	after := &faults.When{Savepoint: 1, Phase: faults.PhaseAfterComplete}
	cases := []struct {
		name string
		spec faults.Spec
	}{
		{"crash-worker", faults.Spec{Kind: faults.CrashWorker, Worker: "worker-0", When: after, RestartAfter: 500 * sim.Millisecond}},
		{"crash-coordinator", faults.Spec{Kind: faults.CrashCoordinator, When: after, RestartAfter: 500 * sim.Millisecond}},
		{"crash-task", faults.Spec{Kind: faults.CrashTask, Task: "out[1]", When: after}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := savepointConfig(t, "aligned", "heap")
			rt := newSavepointRuntime(t, cfg)
			in, err := faults.Install(rt, faults.Schedule{c.spec})
			if err != nil {
				t.Fatal(err)
			}
			rt.Start()
			rt.RunUntil(sim.Time(500 * sim.Millisecond))
			id, err := rt.TriggerSavepoint(engine.DrainSavepoint)
			if err != nil {
				t.Fatal(err)
			}
			rt.RunUntil(sim.Time(20 * sim.Second))
			if len(in.Log()) == 0 {
				t.Fatal("the fault never fired")
			}
			sp := rt.StoppedWith()
			if sp == nil || sp.ID != id || rt.Status() != engine.JobFinished {
				t.Fatalf("status %s, stopped with %v (want savepoint %d); recoveries %+v", rt.Status(), sp, id, rt.Recoveries())
			}
			ref := cfg
			ref.SourceEnds = rt.DurableCheckpoint(sp).SourceOffsets()
			want := uninterrupted(t, ref)
			if d := cmp.Diff(want.output, observe(rt).output); d != "" {
				t.Errorf("output (-want +got):\n%s", d)
			}
			if d := cmp.Diff(want.state, finalState(t, rt)); d != "" {
				t.Errorf("state (-want +got):\n%s", d)
			}
		})
	}
}
