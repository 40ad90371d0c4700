package engine

import "fmt"

// invariantState remembers what CheckInvariants saw last time.
type invariantState struct {
	latest    map[*Task]int64
	completed int64
	stats     int
}

// TriggerCheckpoint asks the coordinator to start a checkpoint now (if the
// configuration allows one), as a user's manual trigger.
func (rt *Runtime) TriggerCheckpoint() { rt.coord.trigger() }

// CheckInvariants checks the protocol invariants that must hold after every step
// of any run, and returns the violations found (none: nil):
//   - checkpoint ids taken by a task never go back;
//   - a task collecting the barriers of checkpoint n has taken no later one (no
//     snapshot of n+1 while n is pending);
//   - completed checkpoint ids increase;
//   - a subtask's checkpoint that stayed aligned persisted no in-flight data
//     but the log of its back edges;
//   - a blocked input channel belongs to a checkpoint being aligned.
func (rt *Runtime) CheckInvariants() []string {
	if rt.inv.latest == nil {
		rt.inv.latest = map[*Task]int64{}
	}
	var bad []string
	for _, t := range rt.tasks {
		if t.ck == nil || t.dead {
			continue
		}
		if prev, ok := rt.inv.latest[t]; ok && t.ck.latest < prev {
			bad = append(bad, fmt.Sprintf("%s: checkpoint id went back from %d to %d", t.name, prev, t.ck.latest))
		}
		rt.inv.latest[t] = t.ck.latest
		id, pending := t.ck.handler.Pending()
		if pending && id < t.ck.latest {
			bad = append(bad, fmt.Sprintf("%s: collecting barriers of checkpoint %d after taking %d", t.name, id, t.ck.latest))
		}
		held := false
		for _, h := range t.ck.held {
			held = held || h
		}
		if held && !pending {
			bad = append(bad, fmt.Sprintf("%s: a channel is blocked but no checkpoint is being aligned", t.name))
		}
	}
	stats := rt.coord.Stats()
	for _, st := range stats[rt.inv.stats:] {
		if st.Status != StatusCompleted {
			continue
		}
		if st.ID <= rt.inv.completed {
			bad = append(bad, fmt.Sprintf("checkpoint %d completed after checkpoint %d", st.ID, rt.inv.completed))
		}
		rt.inv.completed = st.ID
		for _, sub := range st.Subtasks {
			if !sub.Unaligned && sub.PersistedBytes > sub.BackEdgeBytes {
				bad = append(bad, fmt.Sprintf("%s: aligned checkpoint %d persisted %d bytes of in-flight data", sub.Task, st.ID, sub.PersistedBytes))
			}
		}
	}
	rt.inv.stats = len(stats)
	return bad
}
