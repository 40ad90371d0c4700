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
// one) is a valid restore point — a fault-free run started from it reaches the
// reference's keyed state. Each fork costs about a reference run, so a bounded
// sample of them is forked from (restoreSample), not every one.
func restorePointsCheck(setup *Setup, seed uint64, got, ref *Observation) Check {
	c := Check{Name: "restore-points", OK: true}
	chosen, total := got.restore.chosen(got.Runtime)
	for _, cp := range chosen {
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
	c.Detail = fmt.Sprintf("%d of %d completed checkpoints and savepoints restored and reached the reference", len(chosen), total)
	return c
}

// restoreSample chooses the restore points the oracle forks from while the run
// goes on, in memory independent of the run's length: the coordinator retains
// only its latest checkpoints (and the store their snapshots), so each completed
// checkpoint is offered here as it completes, and the sample keeps the max of
// them with the smallest rank, a hash of the checkpoint id salted from the seed
// (a bottom-k sample: uniform, and the same whatever the order of the offers).
// A kept checkpoint is kept as the checkpoint store holds it at its completion,
// when it claims to be durable. Savepoints are retained by the coordinator
// anyway and join at the end (chosen).
type restoreSample struct {
	max     int
	salt    uint64
	offered int
	kept    []rankedCheckpoint // by rank, smallest first
}

type rankedCheckpoint struct {
	rank uint64
	cp   *engine.CompletedCheckpoint
}

// newRestoreSample samples at most max restore points (defaultRestorePoints when
// max <= 0), salted by a stream of seed that no simulation draws from, so the
// choice never touches a trace.
func newRestoreSample(seed uint64, max int) *restoreSample {
	if max <= 0 {
		max = defaultRestorePoints
	}
	return &restoreSample{max: max, salt: sim.NewRand(seed, "oracle/restore-points").Uint64()}
}

// attach offers every checkpoint rt completes (savepoints join in chosen). It
// only observes: it reads the store, schedules nothing and traces nothing.
func (s *restoreSample) attach(rt *engine.Runtime) {
	rt.Hooks.OnCheckpointCompleted(func(cp *engine.CompletedCheckpoint) bool {
		if cp.Savepoint == engine.NoSavepoint {
			s.offer(cp, func() *engine.CompletedCheckpoint { return rt.DurableCheckpoint(cp) })
		}
		return false
	})
}

// offer ranks one candidate; durable, called only when it is kept, returns it
// as the store holds it.
func (s *restoreSample) offer(cp *engine.CompletedCheckpoint, durable func() *engine.CompletedCheckpoint) {
	s.offered++
	r := sim.Mix64(s.salt ^ uint64(cp.ID))
	i := sort.Search(len(s.kept), func(i int) bool { return s.kept[i].rank > r })
	if i >= s.max {
		return
	}
	s.kept = append(s.kept, rankedCheckpoint{})
	copy(s.kept[i+1:], s.kept[i:])
	s.kept[i] = rankedCheckpoint{rank: r, cp: durable()}
	if len(s.kept) > s.max {
		s.kept = s.kept[:s.max]
	}
}

// chosen returns the sampled restore points, latest first, with the savepoints
// of rt (all but drained ones: a drained pipeline fired its windows early, it is
// not meant to be resumed) offered too, and how many candidates there were.
func (s *restoreSample) chosen(rt *engine.Runtime) ([]*engine.CompletedCheckpoint, int) {
	all := &restoreSample{max: s.max, salt: s.salt, offered: s.offered, kept: append([]rankedCheckpoint(nil), s.kept...)}
	for _, sp := range rt.Coordinator().Savepoints() {
		if sp.Savepoint != engine.DrainSavepoint {
			all.offer(sp, func() *engine.CompletedCheckpoint { return rt.DurableCheckpoint(sp) })
		}
	}
	out := make([]*engine.CompletedCheckpoint, len(all.kept))
	for i, k := range all.kept {
		out[i] = k.cp
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, all.offered
}
