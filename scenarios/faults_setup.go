package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"
)

// faultFields lists the fields each fault kind takes besides at, when and kind.
var faultFields = map[faults.Kind][]string{
	faults.CrashTask:         {"task"},
	faults.CrashWorker:       {"worker", "task", "restart-after"},
	faults.CrashCoordinator:  {"restart-after"},
	faults.Partition:         {"between", "for"},
	faults.LatencySpike:      {"between", "for", "extra"},
	faults.Straggler:         {"task", "factor", "for"},
	faults.StorageOutage:     {"for"},
	faults.StorageSlow:       {"factor", "for"},
	faults.DiskErrors:        {"worker", "probability", "for"},
	faults.SinkCommitFailure: {"count"},
	faults.FIFOViolation:     {"task", "for"},
	faults.CrashStore:        {"for"},
}

// resolveFaults resolves the faults section into a fault schedule, checking each
// fault's fields against its kind and its task and node references against the
// job and the cluster.
func (s *Scenario) resolveFaults(jp *jobPlan, workers int, fs *fileState) (faults.Schedule, error) {
	var sched faults.Schedule
	kinds, phases := strs(faults.Kinds), strs(faults.AllPhases())
	for i, f := range s.Faults {
		spec, err := jp.resolveFault(workers, fs, i, f, kinds, phases)
		if err != nil {
			return nil, err
		}
		sched = append(sched, spec)
	}
	return sched, nil
}

// resolveFault resolves fault i: its kind and fields, when it happens (at a
// time or on an event), what it hits, its durations and values, and what its
// kind requires.
func (jp *jobPlan) resolveFault(workers int, fs *fileState, i int, f FaultSpec, kinds, phases []string) (faults.Spec, error) {
	path := fmt.Sprintf("faults[%d]", i)
	kind := faults.Kind(f.Kind)
	fields, known := faultFields[kind]
	if !known {
		return faults.Spec{}, unknownKind(path, f.Kind, kinds, "a fault", "fault kind")
	}
	if err := checkFields(path, f, append([]string{"at", "when", "kind"}, fields...), "a "+f.Kind+" fault"); err != nil {
		return faults.Spec{}, err
	}
	spec := faults.Spec{Kind: kind}
	if f.At != "" && f.When != nil {
		return faults.Spec{}, perr(path+".when", "a fault happens at a time or when an event happens, not both")
	}
	if f.At != "" {
		d, err := parseDur(f.At, false)
		if err != nil {
			return faults.Spec{}, perr(path+".at", "at: %v", err)
		}
		spec.At = d
	}
	if w := f.When; w != nil {
		when, err := jp.resolveWhen(path+".when", w, phases)
		if err != nil {
			return faults.Spec{}, err
		}
		spec.When = when
	}
	if err := jp.resolveTargets(path, f, workers, &spec); err != nil {
		return faults.Spec{}, err
	}
	if err := resolveFaultValues(path, f, fs, &spec); err != nil {
		return faults.Spec{}, err
	}
	switch {
	case kind == faults.CrashWorker && spec.Worker == "" && spec.Task == "" && (spec.When == nil || spec.When.Task == ""):
		return faults.Spec{}, perr(path, "crash-worker needs a worker, or a task (or when.task) whose worker crashes")
	case kind == faults.DiskErrors && spec.Worker == "":
		return faults.Spec{}, perr(path, "disk-errors needs a worker")
	}
	if err := spec.Validate(); err != nil {
		return faults.Spec{}, perr(path, "%v", err)
	}
	return spec, nil
}

// resolveWhen resolves the event a fault happens on (at path wp): a phase of a
// checkpoint or savepoint, at a task, in an attempt, the nth time.
func (jp *jobPlan) resolveWhen(wp string, w *WhenSpec, phases []string) (*faults.When, error) {
	if w.Phase == "" {
		return nil, perr(wp, "when needs a phase (%s)", strings.Join(phases, ", "))
	}
	if !slices.Contains(phases, w.Phase) {
		return nil, perr(wp+".phase", "unknown phase %q (%s)%s", w.Phase, strings.Join(phases, ", "), didYouMean(w.Phase, phases))
	}
	if w.Checkpoint < 0 {
		return nil, perr(wp+".checkpoint", "checkpoint must not be negative, got %d", w.Checkpoint)
	}
	if w.Savepoint < 0 {
		return nil, perr(wp+".savepoint", "savepoint must not be negative, got %d", w.Savepoint)
	}
	if w.Savepoint != 0 && w.Checkpoint != 0 {
		return nil, perr(wp+".savepoint", "when names a checkpoint or a savepoint, not both")
	}
	if w.Attempt < 0 {
		return nil, perr(wp+".attempt", "attempt must not be negative, got %d", w.Attempt)
	}
	if w.Task != "" {
		if err := jp.checkTask(wp+".task", w.Task); err != nil {
			return nil, err
		}
	}
	if w.Nth < 0 {
		return nil, perr(wp+".nth", "nth must not be negative, got %d", w.Nth)
	}
	return &faults.When{Checkpoint: w.Checkpoint, Savepoint: w.Savepoint, Phase: faults.Phase(w.Phase), Task: w.Task,
		Attempt: w.Attempt, Nth: w.Nth}, nil
}

// resolveTargets resolves what a fault hits: a task, a worker, the two nodes of
// a link.
func (jp *jobPlan) resolveTargets(path string, f FaultSpec, workers int, spec *faults.Spec) error {
	if f.Task != "" {
		if err := jp.checkTask(path+".task", f.Task); err != nil {
			return err
		}
		spec.Task = f.Task
	}
	if f.Worker != "" {
		if !strings.HasPrefix(f.Worker, "worker-") {
			return perr(path+".worker", "worker %q: write worker-N", f.Worker)
		}
		if err := checkNode(path+".worker", f.Worker, workers); err != nil {
			return err
		}
		spec.Worker = f.Worker
	}
	if len(f.Between) > 0 {
		if len(f.Between) != 2 {
			return perr(path+".between", "between names two nodes, got %d", len(f.Between))
		}
		for j, n := range f.Between {
			if err := checkNode(fmt.Sprintf("%s.between[%d]", path, j), n, workers); err != nil {
				return err
			}
		}
		if f.Between[0] == f.Between[1] {
			return perr(path+".between", "between names two different nodes, got %q twice", f.Between[0])
		}
		spec.Between = [2]string{f.Between[0], f.Between[1]}
	}
	return nil
}

// resolveFaultValues resolves a fault's durations (for, restart-after, extra),
// factor, count and probability.
func resolveFaultValues(path string, f FaultSpec, fs *fileState, spec *faults.Spec) error {
	for _, d := range []struct {
		field, val string
		dst        *sim.Duration
	}{{"for", f.For, &spec.For}, {"restart-after", f.RestartAfter, &spec.RestartAfter}, {"extra", f.Extra, &spec.Extra}} {
		if d.val == "" {
			continue
		}
		v, err := parseDur(d.val, true)
		if err != nil {
			return perr(path+"."+d.field, "%s: %v", d.field, err)
		}
		*d.dst = v
	}
	if math.IsNaN(f.Factor) || math.IsInf(f.Factor, 0) || f.Factor != 0 && f.Factor < 1 || f.Factor > 1e6 {
		return perr(path+".factor", "factor must be within [1, 1e6], got %v", f.Factor)
	}
	spec.Factor = f.Factor
	if f.Count < 0 || f.Count == 0 && fs.explicitZero(path+".count") {
		return perr(path+".count", "count must be at least 1, got %d", f.Count)
	}
	spec.Count = f.Count
	if math.IsNaN(f.Probability) || f.Probability < 0 || f.Probability > 1 {
		return perr(path+".probability", "probability must be within [0, 1], got %v", f.Probability)
	}
	spec.Probability = f.Probability
	return nil
}
