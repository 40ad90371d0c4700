package scenarios

import (
	"fmt"

	"github.com/ckptsim/ckptsim/actions"
	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// actionFields lists the fields each action kind takes besides at, after,
// after-checkpoints and kind.
var actionFields = map[actions.Kind][]string{
	actions.Savepoint:         nil,
	actions.StopWithSavepoint: {"drain"},
	actions.Cancel:            nil,
	actions.Restore:           {"from", "parallelism", "max-parallelism", "state-backend"},
}

// parallelismPhases lists the parallelism overrides a run goes through, each
// including the ones before it: the rescale on the first failover, then every
// restore action's. A default edge is forward only where both ends keep equal
// parallelism in every phase.
func (s *Scenario) parallelismPhases() []map[string]int {
	var phases []map[string]int
	if len(s.Rescale) > 0 {
		phases = append(phases, s.Rescale)
	}
	cur := map[string]int{}
	for _, a := range s.Actions {
		if a.Kind != string(actions.Restore) || len(a.Parallelism) == 0 {
			continue
		}
		next := make(map[string]int, len(cur)+len(a.Parallelism))
		for k, v := range cur {
			next[k] = v
		}
		for k, v := range a.Parallelism {
			if v > 0 {
				next[k] = v
			}
		}
		cur = next
		phases = append(phases, cur)
	}
	return phases
}

// samePhases reports whether vertices a and b (of parallelism ap and bp) have
// equal parallelism before and in every phase.
func samePhases(phases []map[string]int, a string, ap int, b string, bp int) bool {
	if ap != bp {
		return false
	}
	for _, ph := range phases {
		pa, pb := ap, bp
		if p, ok := ph[a]; ok {
			pa = p
		}
		if p, ok := ph[b]; ok {
			pb = p
		}
		if pa != pb {
			return false
		}
	}
	return true
}

// resolveActions turns the written actions into a schedule: durations parsed,
// kinds and fields checked, the sequence checked (a restore only after a stop or
// a cancel, ...), restore parallelism checked against the job in every phase
// (generated key-by-split maps follow their input), and a restore from a
// checkpoint only under RETAIN_ON_CANCELLATION.
func (s *Scenario) resolveActions(jp *jobPlan, cfg engine.Config, fs *fileState) (actions.Schedule, error) {
	jp.peak = map[string]int{}
	if len(s.Actions) > 0 && checkpoint.FamilyOf(cfg.Protocol) != checkpoint.Coordinated {
		e := perr("actions", "protocol %s: %v", cfg.Protocol.Name(), engine.ErrLocalSavepoint)
		e.err = engine.ErrLocalSavepoint
		return nil, e
	}
	var sched actions.Schedule
	kinds := strs(actions.Kinds)
	for i, a := range s.Actions {
		path := fmt.Sprintf("actions[%d]", i)
		kind := actions.Kind(a.Kind)
		fields, known := actionFields[kind]
		if !known {
			return nil, unknownKind(path, a.Kind, kinds, "an action", "action")
		}
		if err := checkFields(path, a, append([]string{"at", "after", "after-checkpoints", "kind"}, fields...), "a "+a.Kind+" action"); err != nil {
			return nil, err
		}
		spec := actions.Spec{Kind: kind, Drain: a.Drain, From: a.From, MaxParallelism: a.MaxParallelism, StateBackend: a.StateBackend}
		for _, d := range []struct {
			field, val string
			dst        *sim.Duration
		}{{"at", a.At, &spec.At}, {"after", a.After, &spec.After}} {
			if d.val == "" {
				continue
			}
			v, err := parseDur(d.val, false)
			if err != nil {
				return nil, perr(path+"."+d.field, "%s: %v", d.field, err)
			}
			*d.dst = v
		}
		if a.AfterCheckpoints < 0 || a.AfterCheckpoints == 0 && fs.explicitZero(path+".after-checkpoints") {
			return nil, perr(path+".after-checkpoints", "after-checkpoints must be at least 1, got %d", a.AfterCheckpoints)
		}
		spec.AfterCheckpoints = a.AfterCheckpoints
		if err := resolveRestore(path, a, &spec, jp, cfg, fs); err != nil {
			return nil, err
		}
		sched = append(sched, spec)
		if err := sched.Validate(); err != nil {
			return nil, perr(path, "%v", err)
		}
	}
	if err := checkPhases(jp, sched); err != nil {
		return nil, err
	}
	return sched, nil
}

// resolveRestore checks a restore's fields.
func resolveRestore(path string, a ActionSpec, spec *actions.Spec, jp *jobPlan, cfg engine.Config, fs *fileState) error {
	switch a.From {
	case "", actions.FromSavepoint:
	case actions.FromCheckpoint:
		if cfg.Checkpoint.Retention != engine.RetainOnCancellation {
			return perr(path+".from", "a restore from the retained checkpoint of a cancelled job needs "+
				"execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION")
		}
	default:
		return perr(path+".from", "from must be savepoint or checkpoint, got %q", a.From)
	}
	switch a.StateBackend {
	case "", "heap", "pebble":
	default:
		return perr(path+".state-backend", "unknown state backend %q (heap or pebble)", a.StateBackend)
	}
	if err := positiveInt(fs, path+".max-parallelism", "max-parallelism", int64(a.MaxParallelism)); err != nil {
		return err
	}
	if a.MaxParallelism > maxMaxParallelism {
		return perr(path+".max-parallelism", "max-parallelism must be at most %d, got %d", maxMaxParallelism, a.MaxParallelism)
	}
	if len(a.Parallelism) == 0 {
		return nil
	}
	spec.Parallelism = map[string]int{}
	for _, name := range sortedKeys(a.Parallelism) {
		p := a.Parallelism[name]
		pp := path + ".parallelism." + name
		if _, ok := jp.byName[name]; !ok {
			known := make([]string, 0, len(jp.vertices))
			for _, x := range jp.vertices {
				known = append(known, x.name)
			}
			return &pathError{path: pp, key: true, msg: fmt.Sprintf("restore: unknown operator %q%s", name, didYouMean(name, known))}
		}
		if p < 1 || p > jp.maxPar {
			return perr(pp, "restore: parallelism of %q must be within [1, %d], got %d", name, jp.maxPar, p)
		}
		spec.Parallelism[name] = p
		jp.peak[name] = max(jp.peak[name], p)
	}
	// the generated key-by-split maps run at their input's parallelism
	for _, v := range jp.vertices {
		if !v.bySplit {
			continue
		}
		for j, in := range v.inputs {
			if p, ok := spec.Parallelism[in]; ok {
				g := splitMapName(v, j)
				spec.Parallelism[g] = p
				jp.peak[g] = max(jp.peak[g], p)
			}
		}
	}
	return nil
}

// checkPhases validates the job graph at the parallelism of every restore.
func checkPhases(jp *jobPlan, sched actions.Schedule) error {
	cur := map[string]int{}
	for i, a := range sched {
		if a.Kind != actions.Restore || len(a.Parallelism) == 0 {
			continue
		}
		for k, v := range a.Parallelism {
			cur[k] = v
		}
		j := jp.build()
		for _, v := range j.Vertices {
			if p, ok := cur[v.Name]; ok {
				v.Parallelism = p
			}
		}
		if err := j.Validate(); err != nil {
			return perr(fmt.Sprintf("actions[%d].parallelism", i), "after the restore: %v", err)
		}
	}
	return nil
}
