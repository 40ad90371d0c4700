package engine_test

import (
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	_ "github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
	"github.com/google/go-cmp/cmp"
)

// savepointJob is source (4 splits) → sum by key and a window join of the source
// with itself rebalanced → sinks: keyed aggregate state and window state.
func savepointJob() *engine.Job {
	j := engine.NewJob("sp")
	src := j.Source("src", engine.SourceSpec{Splits: 4, Records: 3000, Rate: 2000, Keys: engine.KeySpec{Count: 400},
		Disorder: 5 * sim.Millisecond}).Parallelism(4)
	src.KeyBy().Sum("sum").Parallelism(4).Rebalance().Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit}).Parallelism(2)
	other := src.Rebalance().Map("shift", func(r *engine.Record) { r.Value++ }).Parallelism(2)
	src.KeyBy().WindowJoin("pairs", other.KeyBy(), engine.WindowJoinSpec{Size: 100 * sim.Millisecond}).Parallelism(4).
		Rebalance().Sink("joined", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit}).Parallelism(2)
	return j
}

// newSavepointRuntime builds savepointJob under cfg on a fresh world (seed 5),
// keeping its sinks' committed records for the tests that compare them.
func newSavepointRuntime(t testing.TB, cfg engine.Config) *engine.Runtime {
	t.Helper()
	rt, err := engine.NewRuntime(sim.NewWorld(5), savepointJob(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rt.KeepCommitted()
	return rt
}

func savepointConfig(t testing.TB, protocol, backend string) engine.Config {
	p, err := checkpoint.Lookup(protocol)
	if err != nil {
		t.Fatal(err)
	}
	return engine.Config{Workers: 3, Protocol: p, StateBackend: backend,
		Net:        sim.NetConfig{Remote: sim.LinkConfig{Latency: 500 * sim.Microsecond}},
		Checkpoint: engine.CheckpointConfig{Interval: 200 * sim.Millisecond, AlignedTimeout: 5 * sim.Millisecond}}
}

// outcome is what a run leaves: keyed state per vertex and committed output per
// sink (as multisets).
type outcome struct {
	state  map[string][]state.Entry
	output map[string]map[engine.Record]int
}

func observe(rt *engine.Runtime) outcome {
	o := outcome{state: map[string][]state.Entry{}, output: map[string]map[engine.Record]int{}}
	for _, v := range rt.Job().Vertices {
		var es []state.Entry
		for _, t := range rt.TasksOf(v.Name) {
			if t.State() != nil && t.Chain[0] == v {
				es = append(es, t.State().Entries()...)
			}
		}
		if es != nil {
			state.SortEntries(es)
			o.state[v.Name] = es
		}
	}
	for _, name := range rt.Sinks() {
		m := map[engine.Record]int{}
		for _, r := range rt.Sink(name).Committed() {
			if r.Split >= 0 {
				r.Value = 0 // a running sum's value depends on how channels interleave
			}
			m[r]++
		}
		o.output[name] = m
	}
	return o
}

func uninterrupted(t *testing.T, cfg engine.Config) outcome {
	rt := newSavepointRuntime(t, cfg)
	if !rt.RunToCompletion(sim.Time(sim.Minute)) {
		t.Fatalf("the uninterrupted run did not finish: %v", rt.Failures())
	}
	return observe(rt)
}

// stopAndRestore runs the job, stops it with a savepoint of kind at stopAt,
// restores it after a pause with opts, and runs it to completion.
func stopAndRestore(t *testing.T, cfg engine.Config, kind engine.SavepointKind, stopAt sim.Time, opts engine.ResubmitOptions) (*engine.Runtime, *engine.CompletedCheckpoint) {
	t.Helper()
	w := sim.NewWorld(5)
	rt, err := engine.NewRuntime(w, savepointJob(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rt.KeepCommitted() // the tests compare committed records
	var results []engine.SavepointResult
	rt.Hooks.OnSavepoint(func(r engine.SavepointResult) { results = append(results, r) })
	rt.Start()
	rt.RunUntil(stopAt)
	id, err := rt.TriggerSavepoint(kind)
	if err != nil {
		t.Fatal(err)
	}
	rt.RunUntil(stopAt.Add(10 * sim.Second))
	sp := rt.StoppedWith()
	if sp == nil || sp.ID != id || rt.Status() != engine.JobFinished || rt.Finished() {
		t.Fatalf("after stop-with-savepoint %d: status %s, stopped with %v, results %+v", id, rt.Status(), sp, results)
	}
	if len(results) != 1 || !results[0].OK || results[0].ID != id {
		t.Fatalf("savepoint results %+v", results)
	}
	for _, s := range sp.Tasks {
		if s.HasChannelState() || (s.State != nil && s.State.Backend != engine.CanonicalBackend) {
			t.Fatalf("savepoint task %s: channel state %v, state format %q", s.Task, s.HasChannelState(), s.State.Backend)
		}
	}
	w.Run(w.Now().Add(500 * sim.Millisecond)) // the job stays stopped
	if err := rt.Resubmit(sp, opts); err != nil {
		t.Fatal(err)
	}
	if !rt.RunUntil(sim.Time(2 * sim.Minute)) {
		t.Fatalf("the restored job did not finish: %v", rt.Failures())
	}
	return rt, sp
}

// TestSavepointRestoresAcrossBackends: a heap savepoint restores into pebble and
// a pebble savepoint into heap, at a new parallelism, and the job ends with the
// state and output of the uninterrupted run.
func TestSavepointRestoresAcrossBackends(t *testing.T) {
	for _, c := range []struct{ from, into string }{{"heap", "pebble"}, {"pebble", "heap"}} {
		t.Run(c.from+"->"+c.into, func(t *testing.T) {
			cfg := savepointConfig(t, "aligned", c.from)
			want := uninterrupted(t, cfg)
			rt, sp := stopAndRestore(t, cfg, engine.StopSavepoint, sim.Time(700*sim.Millisecond),
				engine.ResubmitOptions{StateBackend: c.into, Parallelism: map[string]int{"sum": 3, "pairs": 2}})
			if got := rt.Config().StateBackend; got != c.into {
				t.Fatalf("restored into %s", got)
			}
			if len(rt.Resubmissions()) != 1 || !rt.Resubmissions()[0].Rescaled || rt.Resubmissions()[0].From != sp.ID {
				t.Errorf("resubmissions %+v", rt.Resubmissions())
			}
			got := observe(rt)
			if d := cmp.Diff(want.state, got.state); d != "" {
				t.Errorf("state differs from the uninterrupted run (-want +got):\n%s", d)
			}
			if d := cmp.Diff(want.output, got.output); d != "" {
				t.Errorf("output differs from the uninterrupted run (-want +got):\n%s", d)
			}
		})
	}
}

// TestSavepointUnderEveryProtocol: stop-with-savepoint and restore at a new
// parallelism gives the uninterrupted run's state and output under every
// exactly-once protocol (savepoints are aligned whatever checkpoints are).
func TestSavepointUnderEveryProtocol(t *testing.T) {
	for _, proto := range []string{"aligned", "unaligned", "hybrid"} {
		t.Run(proto, func(t *testing.T) {
			cfg := savepointConfig(t, proto, "heap")
			want := uninterrupted(t, cfg)
			rt, _ := stopAndRestore(t, cfg, engine.StopSavepoint, sim.Time(900*sim.Millisecond),
				engine.ResubmitOptions{Parallelism: map[string]int{"sum": 2, "src": 3, "shift": 3}})
			got := observe(rt)
			if d := cmp.Diff(want.state, got.state); d != "" {
				t.Errorf("state (-want +got):\n%s", d)
			}
			if d := cmp.Diff(want.output, got.output); d != "" {
				t.Errorf("output (-want +got):\n%s", d)
			}
		})
	}
}

// TestResubmitRefusesChangedMaxParallelism: Flink refuses to restore state into a
// job whose max parallelism changed; the job fails with its message.
func TestResubmitRefusesChangedMaxParallelism(t *testing.T) {
	cfg := savepointConfig(t, "aligned", "heap")
	w := sim.NewWorld(5)
	rt, err := engine.NewRuntime(w, savepointJob(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rt.KeepCommitted() // the tests compare committed records
	rt.Start()
	rt.RunUntil(sim.Time(500 * sim.Millisecond))
	if _, err := rt.TriggerSavepoint(engine.StopSavepoint); err != nil {
		t.Fatal(err)
	}
	rt.RunUntil(sim.Time(5 * sim.Second))
	sp := rt.StoppedWith()
	if sp == nil || sp.MaxParallelism != state.DefaultMaxParallelism {
		t.Fatalf("stopped with %+v", sp)
	}
	err = rt.Resubmit(sp, engine.ResubmitOptions{MaxParallelism: 256})
	if err == nil || !strings.Contains(err.Error(), "maximum parallelism (128)") || !strings.Contains(err.Error(), "(256) changed") {
		t.Fatalf("resubmit with max parallelism 256: %v", err)
	}
	if failed, reason := rt.Failed(); !failed || !strings.Contains(reason, "not supported") {
		t.Errorf("job failed %v: %s", failed, reason)
	}
}

// finalState is the keyed state a run ended with: its tasks' state, or that of
// the savepoint it stopped with.
func finalState(t *testing.T, rt *engine.Runtime) map[string][]state.Entry {
	if sp := rt.StoppedWith(); sp != nil {
		st, err := sp.KeyedState()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	return observe(rt).state
}

// TestDrainedStopEqualsInputEndingThere: stop --drain fires every window before
// the savepoint; the job ends with the output and state of a run whose sources
// end where the savepoint's offsets are.
func TestDrainedStopEqualsInputEndingThere(t *testing.T) {
	for _, proto := range []string{"aligned", "unaligned", "atleastonce"} {
		t.Run(proto, func(t *testing.T) {
			cfg := savepointConfig(t, proto, "heap")
			rt := newSavepointRuntime(t, cfg)
			rt.Start()
			rt.RunUntil(sim.Time(800 * sim.Millisecond))
			if _, err := rt.TriggerSavepoint(engine.DrainSavepoint); err != nil {
				t.Fatal(err)
			}
			rt.RunUntil(sim.Time(20 * sim.Second))
			sp := rt.StoppedWith()
			if sp == nil || sp.Savepoint != engine.DrainSavepoint {
				t.Fatalf("not stopped: %s %v", rt.Status(), rt.Failures())
			}
			ends := sp.SourceOffsets()
			var read int64
			for _, off := range ends {
				read += off
			}
			if read == 0 || read >= 4*3000 {
				t.Fatalf("the savepoint's sources read %d records: stop in the middle", read)
			}
			ref := cfg
			ref.SourceEnds = ends
			want := uninterrupted(t, ref)
			got := observe(rt)
			// under at-least-once too: the sources stop at the barrier, nothing
			// follows it, so what the savepoint holds is exact
			if d := cmp.Diff(want.output, got.output); d != "" {
				t.Errorf("output (-want +got):\n%s", d)
			}
			if d := cmp.Diff(want.state, finalState(t, rt)); d != "" {
				t.Errorf("state (-want +got):\n%s", d)
			}
		})
	}
}

// TestIntermediateSavepoint: a savepoint taken while the job runs on commits no
// side effects, is no restore point for failover, and restores (in a new job) to
// the uninterrupted run's state.
func TestIntermediateSavepoint(t *testing.T) {
	cfg := savepointConfig(t, "unaligned", "pebble")
	cfg.Checkpoint.Interval = 10 * sim.Second // no checkpoint but the final one: only the savepoint
	want := uninterrupted(t, cfg)
	rt := newSavepointRuntime(t, cfg)
	var results []engine.SavepointResult
	rt.Hooks.OnSavepoint(func(r engine.SavepointResult) { results = append(results, r) })
	rt.Start()
	rt.RunUntil(sim.Time(600 * sim.Millisecond))
	id, err := rt.TriggerSavepoint(engine.IntermediateSavepoint)
	if err != nil {
		t.Fatal(err)
	}
	rt.RunUntil(sim.Time(1200 * sim.Millisecond))
	if len(results) != 1 || !results[0].OK || results[0].ID != id {
		t.Fatalf("results %+v", results)
	}
	committed := len(rt.Sink("out").Committed())
	if committed != 0 {
		t.Errorf("an intermediate savepoint committed %d records", committed)
	}
	if rt.Coordinator().Latest() != nil || len(rt.Coordinator().Savepoints()) != 1 {
		t.Errorf("restore points: latest checkpoint %v, savepoints %d", rt.Coordinator().Latest(), len(rt.Coordinator().Savepoints()))
	}
	if !rt.RunUntil(sim.Time(sim.Minute)) {
		t.Fatalf("did not finish: %v", rt.Failures())
	}
	if d := cmp.Diff(want, observe(rt), cmp.AllowUnexported(outcome{})); d != "" {
		t.Errorf("the run with a savepoint differs from the uninterrupted one (-want +got):\n%s", d)
	}
	// A new job from the savepoint reaches the same state.
	fork := cfg
	fork.RestoreFrom = rt.DurableCheckpoint(rt.Coordinator().LatestSavepoint())
	forked, err := engine.NewRuntime(sim.NewWorld(5), savepointJob(), fork)
	if err != nil {
		t.Fatal(err)
	}
	forked.KeepCommitted() // the tests compare committed records
	if !forked.RunToCompletion(sim.Time(sim.Minute)) {
		t.Fatalf("the fork did not finish: %v", forked.Failures())
	}
	if d := cmp.Diff(want.state, observe(forked).state); d != "" {
		t.Errorf("the job restored from the savepoint ends with other state (-want +got):\n%s", d)
	}
}

// TestFailedSavepointKeepsThePrevious: a savepoint whose upload fails (the store
// is down) fails without failing the job or counting against the tolerable
// failures; the previous savepoint stays the latest, and a stop that fails lets
// the job run on.
func TestFailedSavepointKeepsThePrevious(t *testing.T) {
	cfg := savepointConfig(t, "aligned", "heap")
	cfg.Checkpoint.TolerableFailures = 100 // the checkpoints the outage fails do not fail the job
	want := uninterrupted(t, cfg)
	rt := newSavepointRuntime(t, cfg)
	var results []engine.SavepointResult
	rt.Hooks.OnSavepoint(func(r engine.SavepointResult) { results = append(results, r) })
	rt.Start()
	rt.RunUntil(sim.Time(300 * sim.Millisecond))
	first, _ := rt.TriggerSavepoint(engine.IntermediateSavepoint)
	rt.RunUntil(sim.Time(600 * sim.Millisecond))
	rt.Store().SetOutage(true)
	second, _ := rt.TriggerSavepoint(engine.IntermediateSavepoint)
	rt.RunUntil(sim.Time(900 * sim.Millisecond))
	stop, err := rt.TriggerSavepoint(engine.StopSavepoint)
	if err != nil {
		t.Fatal(err)
	}
	rt.RunUntil(sim.Time(1100 * sim.Millisecond))
	rt.Store().SetOutage(false)
	if len(results) != 3 || !results[0].OK || results[1].OK || results[2].OK ||
		results[0].ID != first || results[1].ID != second || results[2].ID != stop {
		t.Fatalf("results %+v", results)
	}
	if sp := rt.Coordinator().LatestSavepoint(); sp == nil || sp.ID != first {
		t.Errorf("latest savepoint %v, want %d", sp, first)
	}
	if rt.Status() != engine.JobRunning || rt.Restarts() != 0 {
		t.Errorf("status %s after %d restarts", rt.Status(), rt.Restarts())
	}
	if !rt.RunUntil(sim.Time(sim.Minute)) {
		t.Fatalf("did not finish: %v", rt.Failures())
	}
	if d := cmp.Diff(want, observe(rt), cmp.AllowUnexported(outcome{})); d != "" {
		t.Errorf("output or state (-want +got):\n%s", d)
	}
}

// TestCancelAndRestoreRetainedCheckpoint: a job cancelled under
// RETAIN_ON_CANCELLATION restarts from its latest checkpoint to the
// uninterrupted run's result; without it there is no checkpoint to restart from.
func TestCancelAndRestoreRetainedCheckpoint(t *testing.T) {
	for _, ret := range []engine.Retention{engine.RetainOnCancellation, engine.DeleteOnCancellation, ""} {
		t.Run(string(ret), func(t *testing.T) {
			cfg := savepointConfig(t, "hybrid", "heap")
			cfg.Checkpoint.Retention = ret
			rt := newSavepointRuntime(t, cfg)
			rt.Start()
			rt.RunUntil(sim.Time(1100 * sim.Millisecond))
			if err := rt.Cancel(); err != nil {
				t.Fatal(err)
			}
			if rt.Status() != engine.JobCancelled || rt.Finished() || !rt.Ended() {
				t.Fatalf("status %s", rt.Status())
			}
			cp, err := rt.RetainedCheckpoint()
			if ret != engine.RetainOnCancellation {
				if err == nil || !strings.Contains(err.Error(), "RETAIN_ON_CANCELLATION") {
					t.Fatalf("retained %v, %v", cp, err)
				}
				return
			}
			if err != nil || cp == nil {
				t.Fatalf("retained %v, %v", cp, err)
			}
			if err := rt.Resubmit(cp, engine.ResubmitOptions{Parallelism: map[string]int{"pairs": 3}}); err != nil {
				t.Fatal(err)
			}
			if !rt.RunUntil(sim.Time(sim.Minute)) {
				t.Fatalf("did not finish: %v", rt.Failures())
			}
			want := uninterrupted(t, cfg)
			if d := cmp.Diff(want, observe(rt), cmp.AllowUnexported(outcome{})); d != "" {
				t.Errorf("output or state (-want +got):\n%s", d)
			}
		})
	}
}
