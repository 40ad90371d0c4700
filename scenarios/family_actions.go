package scenarios

import (
	"sort"

	"github.com/ckptsim/ckptsim/actions"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"
)

// drawActions gives about a third of explore's cases operator actions, drawn
// from a stream of their own (the other cases keep every draw): a stop with a
// savepoint and a restore at new parallelism, a savepoint and then that stop, a
// drained stop that ends the job, or a cancel and a restore from the retained
// checkpoint (the case's configuration then retains it). Restore parallelism is
// drawn per group of vertices joined by forward edges, so every edge stays valid;
// a restore from a retained checkpoint keeps the groups of several vertices at
// their parallelism (keepForwardGroups).
func drawActions(seed uint64, newJob func() *engine.Job, cfg *engine.Config) actions.Schedule {
	r := sim.NewRand(seed, "explore/actions")
	if !r.Chance(0.35) {
		return nil
	}
	at := func(lo, hi int) sim.Duration { return sim.Duration(lo+r.IntN(hi-lo)) * sim.Millisecond }
	stop := actions.Spec{Kind: actions.StopWithSavepoint, At: at(100, 1200)}
	restore := actions.Spec{Kind: actions.Restore, After: at(20, 500), Parallelism: drawParallelism(r, newJob())}
	if r.Chance(0.3) {
		restore.StateBackend = []string{"heap", "pebble"}[r.IntN(2)]
	}
	switch r.IntN(4) {
	case 0:
		return actions.Schedule{stop, restore}
	case 1:
		return actions.Schedule{{Kind: actions.Savepoint, At: at(50, 600)}, {Kind: actions.StopWithSavepoint, After: at(50, 600)}, restore}
	case 2:
		stop.Drain = true
		return actions.Schedule{stop}
	}
	cfg.Checkpoint.Retention = engine.RetainOnCancellation
	restore.From = actions.FromCheckpoint
	keepForwardGroups(restore.Parallelism, newJob())
	return actions.Schedule{{Kind: actions.Cancel, AfterCheckpoints: 1 + r.IntN(3)}, restore}
}

// drawSavepointFaults aims a fault at one of the savepoints of about half the
// cases with actions, from a stream of its own (the other cases keep every
// draw): a worker crash during the savepoint's alignment, the checkpoint store
// down or crashing while it uploads, or the store crashing while its metadata is
// written. The savepoint fails; the previous one (or the latest checkpoint) must
// stay a valid restore point and the action is asked again.
func drawSavepointFaults(seed uint64, acts actions.Schedule, newJob func() *engine.Job, cfg engine.Config) faults.Schedule {
	savepoints := 0
	for _, a := range acts {
		if a.Kind == actions.Savepoint || a.Kind == actions.StopWithSavepoint {
			savepoints++
		}
	}
	r := sim.NewRand(seed, "explore/savepoint-faults")
	if savepoints == 0 || !r.Chance(0.5) {
		return nil
	}
	n := 1 + r.IntN(savepoints)
	lasting := sim.Duration(100+r.IntN(400)) * sim.Millisecond
	switch r.IntN(4) {
	case 0:
		if tasks := aligningTasks(newJob, cfg); len(tasks) > 0 {
			task := tasks[r.IntN(len(tasks))]
			return faults.Schedule{{Kind: faults.CrashWorker, When: &faults.When{Savepoint: n, Phase: faults.PhaseAlignment, Task: task}, RestartAfter: lasting}}
		}
		return nil
	case 1:
		return faults.Schedule{{Kind: faults.StorageOutage, When: &faults.When{Savepoint: n, Phase: faults.PhaseAfterSync}, For: lasting}}
	case 2:
		return faults.Schedule{{Kind: faults.CrashStore, When: &faults.When{Savepoint: n, Phase: faults.PhaseAfterSync}, For: lasting}}
	}
	return faults.Schedule{{Kind: faults.CrashStore, When: &faults.When{Savepoint: n, Phase: faults.PhaseMetadata}, For: lasting}}
}

// aligningTasks lists the tasks of a job's first deployment that take barriers
// from input channels (whose chain does not start at a source), in deployment
// order.
func aligningTasks(newJob func() *engine.Job, cfg engine.Config) []string {
	rt, err := engine.NewRuntime(sim.NewWorld(1), newJob(), cfg)
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range rt.Tasks() {
		if len(t.Chain[0].Inputs) > 0 {
			out = append(out, t.Name())
		}
	}
	return out
}

// drawParallelism draws a new parallelism (1–4) for about two thirds of the groups
// of vertices that forward edges join (a group must keep one parallelism).
func drawParallelism(r *sim.Rand, j *engine.Job) map[string]int {
	members, roots := forwardGroups(j)
	out := map[string]int{}
	for _, root := range roots {
		if !r.Chance(0.65) {
			continue
		}
		p := 1 + r.IntN(4)
		for _, name := range members[root] {
			out[name] = p
		}
	}
	return out
}

// keepForwardGroups drops from a drawn parallelism the groups of vertices that
// forward edges join: a retained checkpoint may be unaligned, and its in-flight
// data on a forward edge cannot be redistributed at a new parallelism (the
// engine refuses the restore, as Flink refuses to rescale a pointwise
// partitioner). Savepoints hold no in-flight data and rescale every group.
func keepForwardGroups(par map[string]int, j *engine.Job) {
	members, _ := forwardGroups(j)
	for _, names := range members {
		if len(names) > 1 {
			for _, name := range names {
				delete(par, name)
			}
		}
	}
}

// forwardGroups groups the vertices of j that forward edges join: the members of
// each group by its representative, and the representatives in order.
func forwardGroups(j *engine.Job) (map[int][]string, []int) {
	group := map[int]int{} // vertex id -> representative
	var find func(int) int
	find = func(v int) int {
		if p, ok := group[v]; ok && p != v {
			root := find(p)
			group[v] = root
			return root
		}
		return v
	}
	for _, v := range j.Vertices {
		for _, e := range v.Inputs {
			if e.Part == engine.Forward {
				group[find(v.ID)] = find(e.From.ID)
			}
		}
	}
	members := map[int][]string{}
	var roots []int
	for _, v := range j.Vertices {
		root := find(v.ID)
		if _, ok := members[root]; !ok {
			roots = append(roots, root)
		}
		members[root] = append(members[root], v.Name)
	}
	sort.Ints(roots)
	return members, roots
}
