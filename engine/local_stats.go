package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/checkpoint/recoveryline"
)

// LocalStats are the counters of a local protocol over a run.
type LocalStats struct {
	// Basic and Forced count the checkpoints tasks took on their timer (and at
	// the end) and those a communication-induced protocol forced.
	Basic, Forced int
	// LoggedBytes is every byte written to the message logs.
	LoggedBytes int64
	// ProtocolBytes is the information piggybacked on messages.
	ProtocolBytes int64
	// StaleDropped counts messages of an older recovery epoch that receivers
	// dropped.
	StaleDropped int
}

// LocalStats returns the run's local-protocol counters.
func (rt *Runtime) LocalStats() LocalStats { return rt.localStats }

// LogBytes is the size of the message logs of the current tasks now.
func (rt *Runtime) LogBytes() int64 {
	var n int64
	for _, t := range rt.tasks {
		n += t.LogBytes()
	}
	return n
}

// localTrace records every checkpoint the tasks took (durable or not) along the
// live computation, for the check that a communication-induced protocol never
// takes a useless checkpoint: at each recovery the checkpoints after the restored
// ones leave the record, as the execution they belonged to.
type localTrace struct {
	points  [][]recoveryline.Point
	chans   []recoveryline.Channel
	useless []string
	checks  int
}

func (lt *localTrace) ensure(rt *Runtime) {
	if lt.points != nil {
		return
	}
	lc := rt.coord.local
	lt.chans = lc.chans
	lt.points = make([][]recoveryline.Point, len(rt.tasks))
	for i := range lt.points {
		lt.points[i] = []recoveryline.Point{lc.initial(i).Point}
	}
}

// taken records a checkpoint of task i.
func (lt *localTrace) taken(i int, p recoveryline.Point) {
	if lt.points != nil {
		lt.points[i] = append(lt.points[i], p)
	}
}

// check looks for useless checkpoints in the record, with every task's current
// counters as the end of its history.
func (lt *localTrace) check(rt *Runtime, when string) {
	if lt.points == nil {
		return
	}
	h := &recoveryline.History{Channels: lt.chans, Points: lt.points, Current: make([]*recoveryline.Point, len(lt.points))}
	for i, t := range rt.tasks {
		if t.ls == nil {
			return
		}
		p := t.ls.point(-1)
		h.Current[i] = &p
	}
	lt.checks++
	ns, err := recoveryline.Useless(h)
	if err != nil {
		lt.useless = append(lt.useless, fmt.Sprintf("%s: %v", when, err))
		return
	}
	for _, n := range ns {
		lt.useless = append(lt.useless, fmt.Sprintf("%s: checkpoint %d of %s is on a Z-cycle", when,
			lt.points[n.Task][n.X].ID, rt.tasks[n.Task].name))
	}
}

// rollBack drops the checkpoints after each restarted task's restored one.
func (lt *localTrace) rollBack(plan *localPlan) {
	if lt.points == nil {
		return
	}
	for i, rs := range plan.tasks {
		if rs == nil {
			continue
		}
		ps := lt.points[i]
		k := 0
		for k < len(ps) && ps[k].ID <= rs.id {
			k++
		}
		lt.points[i] = ps[:k]
	}
}

// UselessCheckpoints checks the record of taken checkpoints now (at the end of a
// run) and returns every useless checkpoint found, at this check or at a recovery,
// and the number of checks made.
func (rt *Runtime) UselessCheckpoints() ([]string, int) {
	rt.localTrace.check(rt, fmt.Sprintf("at %v", rt.w.Now()))
	return rt.localTrace.useless, rt.localTrace.checks
}
