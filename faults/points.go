package faults

import (
	"fmt"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// Point is one step of a run at which a crash can be injected: the Nth event of
// a phase for a checkpoint at a task. A fault whose When is the point's fires right
// after the event that reached it, in a run that reached it the same way.
type Point struct {
	Phase      Phase
	Checkpoint int64
	Task       string // empty for the coordinator's steps
	Nth        int    // the Nth event of (Phase, Checkpoint, Task); 1 is the first
	Attempt    int    // the deployment, for PhaseRecovery
	At         sim.Time
	// Event is the index of the event that reached the point (sim.World.Fired).
	Event uint64
	sched uint64 // events scheduled when it was reached (sim.World.Scheduled)
}

// When is the trigger that fires a fault at the point.
func (p Point) When() *When {
	w := &When{Checkpoint: p.Checkpoint, Phase: p.Phase, Task: p.Task, Attempt: p.Attempt}
	if p.Nth > 1 {
		w.Nth = p.Nth
	}
	return w
}

func (p Point) String() string {
	var s string
	switch p.Phase {
	case PhaseRecovery:
		s = fmt.Sprintf("recovery: attempt %d deployed", p.Attempt)
	default:
		s = fmt.Sprintf("checkpoint %d %s", p.Checkpoint, p.Phase)
		if p.Task != "" {
			s += " at " + p.Task
		}
		if p.Nth > 1 {
			s += fmt.Sprintf(" (%s time)", ordinal(p.Nth))
		}
	}
	return fmt.Sprintf("%s, at %v (event %d)", s, p.At, p.Event)
}

// Recorder lists the points a run reaches: every barrier a task takes, every
// snapshot, durable upload, acknowledgement the coordinator accepts, trigger,
// completion, notification and, after a failure, every deployment and restore.
// It only observes: the run's trace hash is that of the run without it.
type Recorder struct {
	w      *sim.World
	points []Point
	counts map[pointKey]int
}

type pointKey struct {
	phase Phase
	id    int64
	task  string
}

// Record attaches a recorder to a runtime before it starts, beside whatever else
// subscribed to its hooks (a fault injector, a trace).
func Record(rt *engine.Runtime) *Recorder {
	r := &Recorder{w: rt.World(), counts: map[pointKey]int{}}
	h := &rt.Hooks
	h.OnCheckpointTriggered(func(id int64) {
		r.add(StepTriggered, id, nil, 0)
	})
	h.OnBarrierReceived(func(t *engine.Task, ch *sim.Channel, id int64) {
		r.add(StepBarrier, id, t, 0)
	})
	h.OnSnapshotTaken(func(t *engine.Task, id int64) {
		r.add(PhaseAfterSync, id, t, 0)
	})
	h.OnPhaseEnded(func(p engine.PhaseSpan) {
		if p.Phase == engine.PhaseAsync && p.Outcome == "" {
			r.add(StepUploaded, p.Checkpoint, p.Task, 0)
		}
	})
	h.OnAckReceived(func(t *engine.Task, id int64) {
		r.add(StepAcknowledged, id, t, 0)
	})
	h.OnCheckpointCompleted(func(cp *engine.CompletedCheckpoint) bool {
		r.add(PhaseAfterComplete, cp.ID, nil, 0)
		return false
	})
	h.OnNotified(func(t *engine.Task, id int64) {
		r.add(StepNotified, id, t, 0)
	})
	h.OnRestored(func(t *engine.Task, id int64, records int) {
		r.add(StepRestored, id, t, 0)
	})
	h.OnDeployed(func(attempt int) {
		if attempt > 1 {
			r.add(PhaseRecovery, 0, nil, attempt)
		}
	})
	return r
}

// add records a point, counted as the injector counts matching events.
func (r *Recorder) add(ph Phase, id int64, t *engine.Task, attempt int) {
	p := Point{Phase: ph, Checkpoint: id, Attempt: attempt, At: r.w.Now(), Event: r.w.Fired(), sched: r.w.Scheduled()}
	if t != nil {
		p.Task = t.Name()
	}
	k := pointKey{ph, id, p.Task}
	if ph == PhaseRecovery {
		k = pointKey{phase: ph, id: int64(attempt)}
	}
	r.counts[k]++
	p.Nth = r.counts[k]
	r.points = append(r.points, p)
}

// Points lists the points reached, in order, each moment once: points reached
// with nothing scheduled between them are one (a crash at either is the same
// crash), and the first of them stands for both.
func (r *Recorder) Points() []Point {
	var out []Point
	for i, p := range r.points {
		if i > 0 && p.Event == r.points[i-1].Event && p.sched == r.points[i-1].sched {
			continue
		}
		out = append(out, p)
	}
	return out
}

// All lists every point reached, in order, without merging moments.
func (r *Recorder) All() []Point { return append([]Point(nil), r.points...) }
