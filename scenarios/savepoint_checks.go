package scenarios

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ckptsim/ckptsim/actions"
	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
)

// runJob starts the job and runs the world until the job is over and no action
// is due (a restore after a stop or a cancel keeps the run going), or limit.
func runJob(rt *engine.Runtime, d *actions.Driver, limit sim.Time) {
	rt.Start()
	w := rt.World()
	for {
		rt.RunUntil(limit)
		for d != nil && rt.Ended() && d.Pending() && w.NextAt() <= limit && !w.Stopped() {
			w.Step()
		}
		if rt.Ended() || w.NextAt() > limit || w.Stopped() {
			return
		}
	}
}

// stoppedState is the keyed state of a job that stopped with a savepoint: the
// savepoint's (its tasks are gone).
func stoppedState(rt *engine.Runtime) (map[string][]state.Entry, error) {
	sp := rt.StoppedWith()
	if sp == nil {
		return nil, nil
	}
	return rt.DurableCheckpoint(sp).KeyedState()
}

// stopKind is how a run with actions ended: stopped with a savepoint (drained or
// not), cancelled, or not by an action ("").
func stopKind(got *Observation) string {
	rt := got.Runtime
	switch {
	case got.Actions == nil:
		return ""
	case rt.StoppedWith() != nil && rt.StoppedWith().Savepoint == engine.DrainSavepoint:
		return "drained"
	case rt.StoppedWith() != nil:
		return "stopped"
	case rt.Status() == engine.JobCancelled:
		return "cancelled"
	}
	return ""
}

// referenceSetup is the setup whose fault-free run the oracles compare a run with
// (faults and actions left out): setup itself, or for a run that ended with a
// drained stop, setup with its sources ending where the savepoint's offsets are
// (the drain flushed the windows as the end of input does).
func referenceSetup(setup *Setup, got *Observation) *Setup {
	if stopKind(got) != "drained" {
		return setup
	}
	ref := *setup
	ref.Config.SourceEnds = got.Runtime.DurableCheckpoint(got.Runtime.StoppedWith()).SourceOffsets()
	return &ref
}

// endsEarly reports whether actions may end a job before its input does: a stop
// with a savepoint that does not drain, or a cancel.
func endsEarly(s actions.Schedule) bool {
	for _, a := range s {
		if a.Kind == actions.Cancel || a.Kind == actions.StopWithSavepoint && !a.Drain {
			return true
		}
	}
	return false
}

// actionsCheck reports the actions: each finished, was given up after its tries,
// or was skipped because the job finished first.
func actionsCheck(got *Observation) Check {
	c := Check{Name: "actions", OK: true}
	var parts []string
	for _, d := range got.Actions.Log() {
		parts = append(parts, actionLine(d))
		// an action the bounded job outran (it finished first), or one given up
		// after its tries (the job ran on), breaks no promise; a restore that
		// could not be carried out leaves the job ended and does
		if !d.OK && !got.Finished && !strings.HasPrefix(d.Detail, actions.GaveUp) && !strings.HasPrefix(d.Detail, "skipped") {
			c.OK = false
		}
	}
	if n := len(got.Actions.Log()); n == 0 {
		parts = append(parts, "none carried out")
	}
	c.Detail = strings.Join(parts, "; ")
	return c
}

// stoppedChecks are the oracles of a run that ended stopped or cancelled, not
// drained: what the sinks committed is the reference's output so far (nothing
// twice, nothing the reference lacks), and a new job from the stop's savepoint
// goes on to exactly the reference: its state, and with what was committed
// before, the reference's output. A prefix of a multiset is not a digest's to
// tell, so these compare records: the run kept its own (endsEarly), the
// reference is replayed keeping them.
func (o *oracles) stoppedChecks() []Check {
	got, ref, err := o.replayKeepingRecords()
	if err != nil {
		return []Check{{Name: "exactly-once-output-so-far", Detail: err.Error()}}
	}
	ref.State = o.ref.State
	var cs []Check
	if o.g.output == checkpoint.ExactlyOnce {
		cs = append(cs, prefixCheck(ref, got))
	}
	if sp := got.Runtime.StoppedWith(); sp != nil {
		cs = append(cs, resumeCheck(o.setup, o.seed, o.g, got, ref, sp))
	}
	return cs
}

// prefixCheck: every committed record is one the reference commits, at most as
// often.
func prefixCheck(ref, got *Observation) Check {
	c := Check{Name: "exactly-once-output-so-far", OK: true}
	var extra []string
	n := 0
	for _, sink := range sortedMapKeys(got.Output) {
		for _, r := range sortedRecords(got.Output[sink]) {
			n += got.Output[sink][r]
			if k := got.Output[sink][r] - ref.Output[sink][r]; k > 0 {
				extra = append(extra, fmt.Sprintf("%s: %s ×%d", sink, describeRecord(r), k))
			}
		}
	}
	if len(extra) > 0 {
		c.OK = false
		c.Detail = fmt.Sprintf("%d records duplicated or unexpected, e.g. %s", len(extra), strings.Join(first(extra, 5), "; "))
	} else {
		c.Detail = fmt.Sprintf("%d records committed before the stop, each once", n)
	}
	return c
}

// resumeCheck forks a fault-free job from the savepoint the run stopped with (at
// the stopped job's parallelism, with empty sinks) and checks that it ends with
// the reference's state and, with the output committed before the stop, its
// output.
func resumeCheck(setup *Setup, seed uint64, g guarantees, got, ref *Observation, sp *engine.CompletedCheckpoint) Check {
	c := Check{Name: "savepoint-resumes", OK: true}
	fork := forkAt(setup, got.Runtime, got.Runtime.DurableCheckpoint(sp))
	o, err := execute(fork, seed, false, nil, observe{state: true, keep: true})
	switch {
	case err != nil:
		c.OK, c.Detail = false, fmt.Sprintf("restore from savepoint %d: %v", sp.ID, err)
		return c
	case !o.Finished:
		c.OK, c.Detail = false, fmt.Sprintf("the job restored from savepoint %d did not finish", sp.ID)
		return c
	}
	if g.state == checkpoint.ExactlyOnce {
		if d, full := stateDiff(ref.State, o.State); d != "" {
			c.OK, c.Diff = false, full
			c.Detail = fmt.Sprintf("the job restored from savepoint %d ends with other keyed state than the reference: %s", sp.ID, d)
			return c
		}
	}
	both := &Observation{Output: map[string]map[engine.Record]int{}}
	for _, src := range []*Observation{got, o} {
		for sink, m := range src.Output {
			if both.Output[sink] == nil {
				both.Output[sink] = map[engine.Record]int{}
			}
			for r, n := range m {
				both.Output[sink][r] += n
			}
		}
	}
	oc := recordOutputCheck(ref, both, g.output != checkpoint.ExactlyOnce)
	if !oc.OK {
		c.OK = false
		c.Detail = fmt.Sprintf("the output before the stop and after a restore from savepoint %d: %s", sp.ID, oc.Detail)
		return c
	}
	c.Detail = fmt.Sprintf("a job restored from savepoint %d ends as the reference", sp.ID)
	return c
}

// forkAt is setup without faults or actions, started from cp at the parallelism
// rt's job has now.
func forkAt(setup *Setup, rt *engine.Runtime, cp *engine.CompletedCheckpoint) *Setup {
	par := map[string]int{}
	for _, v := range rt.Job().Vertices {
		par[v.Name] = v.Parallelism
	}
	return forkWith(setup, cp, par)
}

// forkWith is setup without faults or actions, started from cp with the given
// parallelism per vertex.
func forkWith(setup *Setup, cp *engine.CompletedCheckpoint, par map[string]int) *Setup {
	fork := *setup
	fork.Faults, fork.Actions, fork.Rescale = nil, nil, nil
	fork.Config.RestoreFrom = cp
	newJob := setup.NewJob
	fork.NewJob = func() *engine.Job {
		j := newJob()
		for _, v := range j.Vertices {
			if p, ok := par[v.Name]; ok {
				v.Parallelism = p
			}
		}
		return j
	}
	return &fork
}

// parallelismOf is the parallelism of every vertex when cp was taken, from the
// parallelism its snapshots record per chain (vertices it does not mention keep
// the setup's).
func parallelismOf(setup *Setup, cp *engine.CompletedCheckpoint) map[string]int {
	par := map[string]int{}
	for _, v := range setup.NewJob().Vertices {
		par[v.Name] = v.Parallelism
	}
	for _, s := range cp.Tasks {
		for _, name := range strings.Split(s.Chain, "->") {
			par[name] = s.Parallelism
		}
	}
	return par
}

// actionCoverage names what the actions of a run reached.
func actionCoverage(got *Observation) []string {
	if got.Actions == nil {
		return nil
	}
	var out []string
	for _, d := range got.Actions.Log() {
		if !d.OK {
			continue
		}
		switch d.Spec.Kind {
		case actions.Savepoint:
			out = append(out, "savepoint")
		case actions.StopWithSavepoint:
			out = append(out, "stop-with-savepoint")
			if d.Spec.Drain {
				out = append(out, "stop-with-savepoint-drain")
			}
		case actions.Cancel:
			out = append(out, "cancel")
		case actions.Restore:
			out = append(out, "restore-from-"+d.Spec.From)
			if d.Spec.From == "" {
				out[len(out)-1] += actions.FromSavepoint
			}
		}
		if d.Tries > 1 {
			out = append(out, "savepoint-retried")
		}
	}
	for _, r := range got.Runtime.Resubmissions() {
		if r.Rescaled {
			out = append(out, "rescale-by-restore")
		}
	}
	sort.Strings(out)
	return out
}

// fillSavepoints adds the run's savepoints and actions to its result.
func fillSavepoints(res *Result, o *Observation) {
	if o.Actions == nil {
		return
	}
	sp := &SavepointSummary{Restores: len(o.Runtime.Resubmissions())}
	var dur, align []float64
	for _, st := range o.Runtime.Coordinator().Stats() {
		if st.Savepoint == engine.NoSavepoint {
			continue
		}
		sp.Triggered++
		if st.Status != engine.StatusCompleted {
			sp.Failed++
			continue
		}
		sp.Completed++
		dur = append(dur, st.Duration.Milliseconds())
		for _, sub := range st.Subtasks {
			align = append(align, sub.Alignment.Milliseconds())
		}
	}
	sp.DurationMS, sp.AlignmentMS = summarize(dur), summarize(align)
	res.Savepoints = sp
	for _, d := range o.Actions.Log() {
		res.Actions = append(res.Actions, actionLine(d))
	}
	res.Coverage = append(res.Coverage, actionCoverage(o)...)
}

// actionLine is one action as results list it: what was asked, when it started
// and finished, and what came of it.
func actionLine(d actions.Done) string {
	line := d.Spec.String()
	switch {
	case d.Tries == 0 && d.Detail == "":
		return line + ": not started"
	case d.Tries == 0:
		return line + ": " + d.Detail
	}
	line += ", started " + d.Start.Short()
	if d.End != 0 {
		line += ", done " + d.End.Short()
	}
	if d.Detail != "" {
		line += ": " + d.Detail
	}
	return line
}
