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
		path := fmt.Sprintf("faults[%d]", i)
		kind := faults.Kind(f.Kind)
		fields, known := faultFields[kind]
		if !known {
			if f.Kind == "" {
				return nil, perr(path, "a fault needs a kind (%s)", strings.Join(kinds, ", "))
			}
			return nil, perr(path+".kind", "unknown fault kind %q (%s)%s", f.Kind, strings.Join(kinds, ", "), didYouMean(f.Kind, kinds))
		}
		if err := checkFields(path, f, append([]string{"at", "when", "kind"}, fields...), "a "+f.Kind+" fault"); err != nil {
			return nil, err
		}
		spec := faults.Spec{Kind: kind}
		if f.At != "" && f.When != nil {
			return nil, perr(path+".when", "a fault happens at a time or when an event happens, not both")
		}
		if f.At != "" {
			d, err := parseDur(f.At, false)
			if err != nil {
				return nil, perr(path+".at", "at: %v", err)
			}
			spec.At = d
		}
		if w := f.When; w != nil {
			wp := path + ".when"
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
			spec.When = &faults.When{Checkpoint: w.Checkpoint, Savepoint: w.Savepoint, Phase: faults.Phase(w.Phase), Task: w.Task,
				Attempt: w.Attempt, Nth: w.Nth}
		}
		if f.Task != "" {
			if err := jp.checkTask(path+".task", f.Task); err != nil {
				return nil, err
			}
			spec.Task = f.Task
		}
		if f.Worker != "" {
			if !strings.HasPrefix(f.Worker, "worker-") {
				return nil, perr(path+".worker", "worker %q: write worker-N", f.Worker)
			}
			if err := checkNode(path+".worker", f.Worker, workers); err != nil {
				return nil, err
			}
			spec.Worker = f.Worker
		}
		if len(f.Between) > 0 {
			if len(f.Between) != 2 {
				return nil, perr(path+".between", "between names two nodes, got %d", len(f.Between))
			}
			for j, n := range f.Between {
				if err := checkNode(fmt.Sprintf("%s.between[%d]", path, j), n, workers); err != nil {
					return nil, err
				}
			}
			if f.Between[0] == f.Between[1] {
				return nil, perr(path+".between", "between names two different nodes, got %q twice", f.Between[0])
			}
			spec.Between = [2]string{f.Between[0], f.Between[1]}
		}
		for _, d := range []struct {
			field, val string
			dst        *sim.Duration
		}{{"for", f.For, &spec.For}, {"restart-after", f.RestartAfter, &spec.RestartAfter}, {"extra", f.Extra, &spec.Extra}} {
			if d.val == "" {
				continue
			}
			v, err := parseDur(d.val, true)
			if err != nil {
				return nil, perr(path+"."+d.field, "%s: %v", d.field, err)
			}
			*d.dst = v
		}
		if math.IsNaN(f.Factor) || math.IsInf(f.Factor, 0) || f.Factor != 0 && f.Factor < 1 || f.Factor > 1e6 {
			return nil, perr(path+".factor", "factor must be within [1, 1e6], got %v", f.Factor)
		}
		spec.Factor = f.Factor
		if f.Count < 0 || f.Count == 0 && fs.explicitZero(path+".count") {
			return nil, perr(path+".count", "count must be at least 1, got %d", f.Count)
		}
		spec.Count = f.Count
		if math.IsNaN(f.Probability) || f.Probability < 0 || f.Probability > 1 {
			return nil, perr(path+".probability", "probability must be within [0, 1], got %v", f.Probability)
		}
		spec.Probability = f.Probability
		switch {
		case kind == faults.CrashWorker && spec.Worker == "" && spec.Task == "" && (spec.When == nil || spec.When.Task == ""):
			return nil, perr(path, "crash-worker needs a worker, or a task (or when.task) whose worker crashes")
		case kind == faults.DiskErrors && spec.Worker == "":
			return nil, perr(path, "disk-errors needs a worker")
		}
		if err := spec.Validate(); err != nil {
			return nil, perr(path, "%v", err)
		}
		sched = append(sched, spec)
	}
	return sched, nil
}
