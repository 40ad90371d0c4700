package scenarios

import (
	"fmt"
	"sort"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// defaultRestorePoints is how many completed checkpoints the restore-points
// oracle forks from when the caller sets no bound.
const defaultRestorePoints = 3

// restorePointsCheck: every completed checkpoint and savepoint (but a drained
// one: restoreCandidates) is a valid restore point — a
// fault-free run started from it reaches the reference's keyed state. Each fork
// costs about a reference run, so a bounded sample of the completed checkpoints
// is forked from (at most max, chosen from the seed), not every one.
func restorePointsCheck(setup *Setup, seed uint64, got, ref *Observation, max int) Check {
	c := Check{Name: "restore-points", OK: true}
	cps := restoreCandidates(got.Runtime)
	if max <= 0 {
		max = defaultRestorePoints
	}
	chosen := chooseRestorePoints(cps, max, sim.NewRand(seed, "oracle/restore-points"))
	for _, cp := range chosen {
		cp = got.Runtime.DurableCheckpoint(cp)
		// at the parallelism it was taken at: a checkpoint of a rescaled job
		o, err := execute(forkWith(setup, cp, parallelismOf(setup, cp)), seed, false, nil, observe{state: true})
		if err != nil {
			c.OK, c.Detail = false, fmt.Sprintf("restore from checkpoint %d: %v", cp.ID, err)
			return c
		}
		if !o.Finished {
			c.OK, c.Detail = false, fmt.Sprintf("the run forked from checkpoint %d did not finish", cp.ID)
			return c
		}
		if d, full := stateDiff(ref.State, o.State); d != "" {
			c.OK, c.Diff = false, full
			c.Detail = fmt.Sprintf("the run forked from checkpoint %d ends with keyed state that differs from the reference: %s", cp.ID, d)
			return c
		}
	}
	c.Detail = fmt.Sprintf("%d of %d completed checkpoints and savepoints restored and reached the reference", len(chosen), len(cps))
	return c
}

// chooseRestorePoints picks at most max of the restore candidates, uniformly
// from r (a stream of the run's seed that no simulation draws from, so the choice
// never touches a trace), latest first.
func chooseRestorePoints(cps []*engine.CompletedCheckpoint, max int, r *sim.Rand) []*engine.CompletedCheckpoint {
	idx := make([]int, len(cps))
	for i := range idx {
		idx[i] = i
	}
	n := min(max, len(idx))
	for i := 0; i < n; i++ { // a partial Fisher–Yates shuffle
		j := i + r.IntN(len(idx)-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	idx = idx[:n]
	sort.Sort(sort.Reverse(sort.IntSlice(idx)))
	out := make([]*engine.CompletedCheckpoint, n)
	for i, k := range idx {
		out[i] = cps[k]
	}
	return out
}
