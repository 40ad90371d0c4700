package engine

import "github.com/ckptsim/ckptsim/sim"

// catchUpPeriod is how often a recovering job checks whether its sources are back
// where they were when it failed.
const catchUpPeriod = 10 * sim.Millisecond

// sourcePositions is the next offset to read of every split of the current source
// tasks (a crashed task keeps the position it reached).
func (rt *Runtime) sourcePositions() map[int32]int64 {
	pos := map[int32]int64{}
	for _, t := range rt.tasks {
		if t.src == nil {
			continue
		}
		for i, s := range t.src.splits {
			pos[s] = t.src.next[i]
		}
	}
	return pos
}

// noteFailure remembers where the sources were when the last recovery began.
func (rt *Runtime) noteFailure() {
	r := &rt.recoveries[len(rt.recoveries)-1]
	r.before = rt.sourcePositions()
}

// noteRestarted counts the records the restored sources will read again and starts
// watching for the moment they are back where they were at the failure.
func (rt *Runtime) noteRestarted() {
	idx := len(rt.recoveries) - 1
	r := &rt.recoveries[idx]
	r.Reprocessed = 0
	for s, p := range rt.sourcePositions() {
		if b, ok := r.before[s]; ok && b > p {
			r.Reprocessed += b - p
		}
	}
	rt.w.After(0, catchUp{rt, idx}, 0, 0, 0)
}

// catchUp checks, every catchUpPeriod, whether recovery idx has caught up (see
// caughtUp). A later failure ends the watch (that recovery has its own).
type catchUp struct {
	rt  *Runtime
	idx int
}

// Handle implements sim.Handler.
func (c catchUp) Handle(sim.Event) {
	rt := c.rt
	if c.idx != len(rt.recoveries)-1 || rt.jobFailed {
		return
	}
	r := &rt.recoveries[c.idx]
	if !rt.jobDone && !rt.caughtUp(r.before) {
		rt.w.After(catchUpPeriod, c, 0, 0, 0)
		return
	}
	r.CaughtUpAt = rt.w.Now()
}

// caughtUp reports whether the job is back where it was at a failure: every split
// read again up to its position then, and the sinks' output (committed, for a
// two-phase-commit sink) holding a record of each split at or past the last one
// read before the failure. Splits no sink has output a record of (all filtered,
// or aggregated into windows) count by their source position only.
func (rt *Runtime) caughtUp(before map[int32]int64) bool {
	pos := rt.sourcePositions()
	for s, b := range before {
		if pos[s] < b {
			return false
		}
		if b == 0 {
			continue
		}
		last, seen := int64(-1), false
		for _, sink := range rt.sinks {
			if sp := sink.verify.splits[s]; sp != nil {
				seen = true
				last = max(last, sp.max)
			}
		}
		if seen && last < b-1 {
			return false
		}
	}
	return true
}
