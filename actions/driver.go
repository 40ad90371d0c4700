package actions

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// Done is one action as it happened.
type Done struct {
	Index      int
	Spec       Spec
	Start, End sim.Time // first try and finish (End 0: not finished)
	OK         bool
	// Savepoint is the savepoint a savepoint or stop action took; Restored the
	// checkpoint or savepoint a restore started from.
	Savepoint, Restored int64
	Tries               int
	Detail              string // why it failed or was skipped, what it did
}

func (d Done) String() string {
	out := fmt.Sprintf("%v %s", d.Start, d.Spec.Kind)
	if d.Spec.Drain {
		out += " --drain"
	}
	switch {
	case d.End == 0 && d.Detail == "":
		out += ": not finished"
	case d.Detail != "":
		out += ": " + d.Detail
	}
	return out
}

// Driver carries out a schedule of actions on a runtime. Every decision is a
// simulator event, so a seed reproduces the run.
type Driver struct {
	rt    *engine.Runtime
	w     *sim.World
	sched Schedule
	log   []Done
	next  int   // the action armed or in progress
	spID  int64 // the savepoint the current action waits for
	// checkpoints counts completed checkpoints since the previous action
	// finished; waiting is set while the armed action waits for them.
	checkpoints int
	waiting     bool
	stopped     bool // the remaining actions are skipped
}

// Event kinds of the driver.
const (
	evFire uint32 = iota + 1 // carry out action A now
)

// Install validates the schedule against the job and arms its first action.
func Install(rt *engine.Runtime, sched Schedule) (*Driver, error) {
	if err := sched.Validate(); err != nil {
		return nil, err
	}
	for i, s := range sched {
		for _, name := range slices.Sorted(maps.Keys(s.Parallelism)) {
			found := false
			for _, v := range rt.Job().Vertices {
				found = found || v.Name == name
			}
			if !found {
				return nil, fmt.Errorf("action %d (restore): no operator %q", i+1, name)
			}
		}
	}
	d := &Driver{rt: rt, w: rt.World(), sched: sched}
	rt.Hooks.OnSavepoint(d.onSavepoint)
	rt.Hooks.OnCheckpointCompleted(func(cp *engine.CompletedCheckpoint) bool {
		if cp.Savepoint == engine.NoSavepoint {
			d.onCheckpoint()
		}
		return false
	})
	if len(sched) > 0 {
		d.arm()
	}
	return d, nil
}

// Log lists the actions carried out (or skipped) so far, in order.
func (d *Driver) Log() []Done { return d.log }

// Pending reports whether an action is still to come: the run goes on while the
// job is stopped or cancelled and a restore is due.
func (d *Driver) Pending() bool {
	return !d.stopped && d.next < len(d.sched) && !d.rt.Finished() && !d.jobFailed()
}

func (d *Driver) jobFailed() bool { failed, _ := d.rt.Failed(); return failed }

// arm schedules the next action once its conditions hold.
func (d *Driver) arm() {
	s := d.sched[d.next]
	d.log = append(d.log, Done{Index: d.next, Spec: s})
	if s.AfterCheckpoints > d.checkpoints {
		d.waiting = true
		return
	}
	d.fireAt(s)
}

func (d *Driver) fireAt(s Spec) {
	at := d.w.Now().Add(s.After)
	if t := sim.Time(s.At); t > at {
		at = t
	}
	d.w.Schedule(at, d, evFire, int64(d.next), 0)
}

func (d *Driver) onCheckpoint() {
	d.checkpoints++
	if d.waiting && d.next < len(d.sched) && d.checkpoints >= d.sched[d.next].AfterCheckpoints {
		d.waiting = false
		d.fireAt(d.sched[d.next])
	}
}

// Handle implements sim.Handler.
func (d *Driver) Handle(ev sim.Event) {
	if ev.Kind == evFire && int(ev.A) == d.next && !d.stopped {
		d.fire()
	}
}

func (d *Driver) cur() *Done { return &d.log[len(d.log)-1] }

// fire carries out the current action.
func (d *Driver) fire() {
	cur := d.cur()
	now := d.w.Now()
	if cur.Tries == 0 {
		cur.Start = now
	}
	cur.Tries++
	if d.rt.Finished() || d.jobFailed() {
		d.skipRest()
		return
	}
	s := cur.Spec
	switch s.Kind {
	case Savepoint, StopWithSavepoint:
		kind := engine.IntermediateSavepoint
		if s.Kind == StopWithSavepoint {
			kind = engine.StopSavepoint
			if s.Drain {
				kind = engine.DrainSavepoint
			}
		}
		id, err := d.rt.TriggerSavepoint(kind)
		if err != nil {
			d.retry(err.Error())
			return
		}
		d.spID, cur.Savepoint = id, id
	case Cancel:
		if err := d.rt.Cancel(); err != nil {
			d.fail(err.Error())
			return
		}
		d.finish("cancelled")
	case Restore:
		d.restore(s)
	}
}

func (d *Driver) restore(s Spec) {
	var cp *engine.CompletedCheckpoint
	if s.from() == FromSavepoint {
		cp = d.rt.Coordinator().LatestSavepoint()
		if cp == nil {
			d.fail("no savepoint to restore from")
			return
		}
	} else {
		var err error
		if cp, err = d.rt.RetainedCheckpoint(); err != nil {
			d.fail(err.Error())
			return
		}
	}
	cp = d.rt.DurableCheckpoint(cp)
	d.cur().Restored = cp.ID
	err := d.rt.Resubmit(cp, engine.ResubmitOptions{Parallelism: s.Parallelism, MaxParallelism: s.MaxParallelism, StateBackend: s.StateBackend})
	if errors.Is(err, engine.ErrNoWorkers) {
		d.w.Schedule(d.w.Now().Add(RetryDelay), d, evFire, int64(d.next), 0)
		return
	}
	if err != nil {
		d.fail(fmt.Sprintf("restore from %s %d: %v", s.from(), cp.ID, err))
		return
	}
	d.finish(fmt.Sprintf("restored %s %d", s.from(), cp.ID))
}

func (d *Driver) onSavepoint(r engine.SavepointResult) {
	if d.stopped || d.spID == 0 || r.ID != d.spID {
		return
	}
	d.spID = 0
	if !r.OK {
		d.retry(fmt.Sprintf("%v %d failed: %s", r.Kind, r.ID, r.Reason))
		return
	}
	what := fmt.Sprintf("savepoint %d", r.ID)
	if r.Kind != engine.IntermediateSavepoint {
		what = fmt.Sprintf("stopped with savepoint %d", r.ID)
	}
	d.finish(what)
}

// retry asks again after RetryDelay, unless the job is over.
func (d *Driver) retry(why string) {
	cur := d.cur()
	cur.Detail = why
	if d.rt.Ended() {
		d.skipRest()
		return
	}
	if cur.Tries >= MaxTries {
		cur.End, cur.Detail = d.w.Now(), fmt.Sprintf("%s: given up after %d tries", GaveUp, cur.Tries)
		for i := d.next + 1; i < len(d.sched); i++ {
			d.log = append(d.log, Done{Index: i, Spec: d.sched[i], Start: d.w.Now(), End: d.w.Now(), Detail: "skipped: an earlier action was given up"})
		}
		d.stopped = true
		return
	}
	d.w.Schedule(d.w.Now().Add(RetryDelay), d, evFire, int64(d.next), 0)
}

func (d *Driver) finish(what string) {
	cur := d.cur()
	cur.End, cur.OK = d.w.Now(), true
	cur.Detail = what
	if cur.Tries > 1 {
		cur.Detail = fmt.Sprintf("%s after %d tries", what, cur.Tries)
	}
	d.w.TraceNote(0x61637464, uint64(d.next), uint64(cur.Tries))
	d.next++
	d.checkpoints = 0
	if d.next < len(d.sched) {
		d.arm()
	}
}

// fail gives up the current action and the rest.
func (d *Driver) fail(why string) {
	cur := d.cur()
	cur.End, cur.Detail = d.w.Now(), why
	d.stopped = true
}

// skipRest marks the remaining actions skipped: the job is over.
func (d *Driver) skipRest() {
	why := "skipped: the job finished"
	if d.jobFailed() {
		why = "skipped: the job failed"
	}
	cur := d.cur()
	cur.End, cur.Detail = d.w.Now(), why
	for i := d.next + 1; i < len(d.sched); i++ {
		d.log = append(d.log, Done{Index: i, Spec: d.sched[i], Start: d.w.Now(), End: d.w.Now(), Detail: why})
	}
	d.stopped = true
}
