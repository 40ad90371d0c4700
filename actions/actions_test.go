package actions

import (
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	_ "github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/sim"
)

func TestValidate(t *testing.T) {
	sp := Spec{Kind: Savepoint}
	stop := Spec{Kind: StopWithSavepoint}
	cancel := Spec{Kind: Cancel}
	restore := Spec{Kind: Restore}
	fromCkpt := Spec{Kind: Restore, From: FromCheckpoint}
	for _, c := range []struct {
		sched Schedule
		err   string
	}{
		{Schedule{sp, stop, restore, stop, restore}, ""},
		{Schedule{cancel, fromCkpt, sp, cancel, restore}, ""},
		{Schedule{restore}, "action 1 (restore): the job is still running"},
		{Schedule{cancel, restore}, "action 2 (restore): no savepoint was taken before"},
		{Schedule{stop, fromCkpt}, "a stopped job keeps no checkpoint"},
		{Schedule{stop, sp}, "action 2 (savepoint): the job is not running (it ended with action 1, stop-with-savepoint)"},
		{Schedule{{Kind: "pause"}}, `unknown action kind "pause"`},
		{Schedule{{Kind: Savepoint, Drain: true}}, "only stop-with-savepoint drains"},
		{Schedule{{Kind: Cancel, Parallelism: map[string]int{"a": 2}}}, "belong to a restore"},
		{Schedule{stop, {Kind: Restore, From: "yesterday"}}, `from must be savepoint or checkpoint, got "yesterday"`},
		{Schedule{stop, {Kind: Restore, Parallelism: map[string]int{"a": 0}}}, `parallelism of "a" must be at least 1`},
		{Schedule{stop, {Kind: Restore, StateBackend: "rocksdb"}}, `unknown state backend "rocksdb"`},
		{Schedule{{Kind: Savepoint, After: -1}}, "must not be negative"},
	} {
		err := c.sched.Validate()
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%v: %v", c.sched, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%v: %v, want %q", c.sched, err, c.err)
		}
	}
}

func testRuntime(t *testing.T, cfg engine.Config) *engine.Runtime {
	j := engine.NewJob("t")
	j.Source("src", engine.SourceSpec{Splits: 4, Records: 2000, Rate: 1000, Keys: engine.KeySpec{Count: 100}}).Parallelism(2).
		KeyBy().Sum("sum").Parallelism(2).Rebalance().Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit})
	p, _ := checkpoint.Lookup("aligned")
	cfg.Protocol = p
	cfg.Workers = 2
	cfg.Checkpoint.Interval = 200 * sim.Millisecond
	cfg.Checkpoint.TolerableFailures = 100
	rt, err := engine.NewRuntime(sim.NewWorld(3), j, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// run drives the job the way the scenario runner does: on while a restore is due.
func run(rt *engine.Runtime, d *Driver, limit sim.Time) {
	rt.Start()
	w := rt.World()
	for {
		rt.RunUntil(limit)
		for rt.Ended() && d.Pending() && w.NextAt() <= limit {
			w.Step()
		}
		if rt.Ended() || w.NextAt() > limit {
			return
		}
	}
}

// TestDriverStopRestoreStopRestore: savepoint, stop, restore at 3, stop after
// two checkpoints, restore at 1; the job finishes and every record is committed
// once.
func TestDriverStopRestoreStopRestore(t *testing.T) {
	rt := testRuntime(t, engine.Config{})
	d, err := Install(rt, Schedule{
		{Kind: Savepoint, At: 300 * sim.Millisecond},
		{Kind: StopWithSavepoint, At: 600 * sim.Millisecond},
		{Kind: Restore, After: 500 * sim.Millisecond, Parallelism: map[string]int{"sum": 3}},
		{Kind: StopWithSavepoint, AfterCheckpoints: 2},
		{Kind: Restore, After: 200 * sim.Millisecond, Parallelism: map[string]int{"sum": 1, "src": 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	run(rt, d, sim.Time(sim.Minute))
	if !rt.Finished() {
		t.Fatalf("status %s; actions %v", rt.Status(), d.Log())
	}
	log := d.Log()
	if len(log) != 5 {
		t.Fatalf("log %v", log)
	}
	for _, l := range log {
		if !l.OK || l.End < l.Start {
			t.Errorf("action %d: %+v", l.Index, l)
		}
	}
	if log[2].Restored != log[1].Savepoint || log[4].Restored != log[3].Savepoint || log[1].Start < sim.Time(600*sim.Millisecond) ||
		log[2].End.Sub(log[1].End) != 500*sim.Millisecond {
		t.Errorf("log %+v", log)
	}
	if n := len(rt.Resubmissions()); n != 2 {
		t.Errorf("%d resubmissions", n)
	}
	v := rt.Sink("out").Verifier()
	if v.Duplicates != 0 || v.Lost([]int32{0, 1, 2, 3}, 2000) != 0 {
		t.Errorf("sink: %d duplicates, %d lost", v.Duplicates, v.Lost([]int32{0, 1, 2, 3}, 2000))
	}
}

// TestDriverRetriesAFailedStop: the store is down while the stop's savepoint
// uploads; the stop is asked again and succeeds once the store is back.
func TestDriverRetriesAFailedStop(t *testing.T) {
	rt := testRuntime(t, engine.Config{})
	d, err := Install(rt, Schedule{{Kind: StopWithSavepoint, At: 500 * sim.Millisecond}, {Kind: Restore, After: 100 * sim.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	rt.Start()
	rt.RunUntil(sim.Time(450 * sim.Millisecond))
	rt.Store().SetOutage(true)
	rt.RunUntil(sim.Time(1200 * sim.Millisecond))
	rt.Store().SetOutage(false)
	run(rt, d, sim.Time(sim.Minute))
	log := d.Log()
	if !rt.Finished() || len(log) != 2 || !log[0].OK || log[0].Tries < 2 || !strings.Contains(log[0].Detail, "tries") {
		t.Fatalf("status %s; log %+v", rt.Status(), log)
	}
}

// TestDriverSkipsWhenTheJobFinished: a stop due after the bounded job finished
// is skipped, and so is the restore after it.
func TestDriverSkipsWhenTheJobFinished(t *testing.T) {
	rt := testRuntime(t, engine.Config{})
	d, err := Install(rt, Schedule{{Kind: StopWithSavepoint, At: 30 * sim.Second}, {Kind: Restore}})
	if err != nil {
		t.Fatal(err)
	}
	run(rt, d, sim.Time(sim.Minute))
	if !rt.Finished() || d.Pending() {
		t.Fatalf("status %s, pending %v", rt.Status(), d.Pending())
	}
}

// TestDriverRestoreFromRetainedCheckpoint: cancel under RETAIN_ON_CANCELLATION,
// then a new job from the latest checkpoint; without it the restore fails and
// says why.
func TestDriverRestoreFromRetainedCheckpoint(t *testing.T) {
	for _, ret := range []engine.Retention{engine.RetainOnCancellation, engine.DeleteOnCancellation} {
		t.Run(string(ret), func(t *testing.T) {
			rt := testRuntime(t, engine.Config{Checkpoint: engine.CheckpointConfig{Retention: ret}})
			d, err := Install(rt, Schedule{{Kind: Cancel, At: 900 * sim.Millisecond}, {Kind: Restore, From: FromCheckpoint, After: sim.Second}})
			if err != nil {
				t.Fatal(err)
			}
			run(rt, d, sim.Time(sim.Minute))
			log := d.Log()
			if ret == engine.RetainOnCancellation {
				if !rt.Finished() || !log[1].OK || log[1].Restored == 0 {
					t.Fatalf("status %s; log %+v", rt.Status(), log)
				}
				return
			}
			if rt.Status() != engine.JobCancelled || log[1].OK || !strings.Contains(log[1].Detail, "RETAIN_ON_CANCELLATION") || d.Pending() {
				t.Fatalf("status %s; log %+v", rt.Status(), log)
			}
		})
	}
}
