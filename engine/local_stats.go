package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/checkpoint/recoveryline"
	"github.com/ckptsim/ckptsim/sim"
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
	// seen holds each useless checkpoint found once (task index, checkpoint ID),
	// to count them however many checks find them.
	seen map[[2]int64]bool
	// endedAt is when the end-of-run check was made (checked: made).
	endedAt sim.Time
	checked bool
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
		key := [2]int64{int64(n.Task), lt.points[n.Task][n.X].ID}
		if lt.seen == nil {
			lt.seen = map[[2]int64]bool{}
		}
		lt.seen[key] = true
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
// and the number of checks made. Calling it again at the same time checks nothing
// more.
func (rt *Runtime) UselessCheckpoints() ([]string, int) {
	lt := &rt.localTrace
	if now := rt.w.Now(); !lt.checked || lt.endedAt != now {
		lt.check(rt, fmt.Sprintf("at %v", now))
		lt.checked, lt.endedAt = true, now
	}
	return lt.useless, lt.checks
}

// UselessCount is the number of distinct checkpoints UselessCheckpoints found on
// a Z-cycle (in no consistent global checkpoint): 0 for coordinated protocols,
// whose checkpoints are consistent by construction.
func (rt *Runtime) UselessCount() int {
	rt.UselessCheckpoints()
	return len(rt.localTrace.seen)
}
