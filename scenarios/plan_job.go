package scenarios

import (
	"fmt"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
)

// planJob resolves the job section (sources, operators in dataflow order, their
// partitioning and type-specific fields) and the rescale section into a jobPlan,
// refusing a job with more network channels than a run can hold.
func (s *Scenario) planJob(conf *confState, fs *fileState, guarantee checkpoint.Guarantee) (*jobPlan, error) {
	jp := &jobPlan{name: s.Name, maxPar: state.DefaultMaxParallelism, byName: map[string]*vertexPlan{}, rescale: map[string]int{}}
	if err := positiveInt(fs, "job.max-parallelism", "max-parallelism", int64(s.Job.MaxParallelism)); err != nil {
		return nil, err
	}
	if s.Job.MaxParallelism > maxMaxParallelism {
		return nil, perr("job.max-parallelism", "max-parallelism must be at most %d, got %d", maxMaxParallelism, s.Job.MaxParallelism)
	}
	if s.Job.MaxParallelism > 0 {
		jp.maxPar = s.Job.MaxParallelism
	}
	if len(s.Job.Sources) == 0 {
		return nil, perr("job.sources", "a job needs at least one source")
	}
	segment := conf.cfg.Net.SegmentSize
	if segment == 0 {
		segment = sim.DefaultSegmentSize
	}
	for i, src := range s.Job.Sources {
		v, err := jp.planSource(conf, fs, i, src, segment)
		if err != nil {
			return nil, err
		}
		jp.vertices = append(jp.vertices, v)
		jp.byName[v.name] = v
	}
	// Rescaled parallelism decides default partitioning (forward only when the
	// parallelism matches before and after a rescale); it is checked below.
	oc := &opContext{fs: fs, guarantee: guarantee, phases: s.parallelismPhases(), opNames: map[string]bool{},
		generated: map[string]string{}}
	for _, op := range s.Job.Operators {
		oc.opNames[op.Name] = true
	}
	for i, op := range s.Job.Operators {
		v, err := jp.planOperator(oc, i, op)
		if err != nil {
			return nil, err
		}
		jp.vertices = append(jp.vertices, v)
		jp.byName[v.name] = v
	}
	if err := jp.planRescale(s.Rescale); err != nil {
		return nil, err
	}
	if err := jp.resolveFeedback(s.Job.Operators); err != nil {
		return nil, err
	}
	if err := jp.checkChannels(); err != nil {
		return nil, err
	}
	return jp, nil
}

// parOK checks the parallelism p of a vertex (what, at path) against the
// simulator's limit and the job's max-parallelism.
func (jp *jobPlan) parOK(path, what string, p int) error {
	if p > MaxParallelism {
		return perr(path, "%s must be at most %d, got %d", what, MaxParallelism, p)
	}
	if p > jp.maxPar {
		return perr(path, "%s %d exceeds max-parallelism %d", what, p, jp.maxPar)
	}
	return nil
}

// planRescale resolves the rescale section: a parallelism per operator, which
// the key-by-split maps generated for an operator's inputs follow.
func (jp *jobPlan) planRescale(rescale map[string]int) error {
	for _, name := range sortedKeys(rescale) {
		p := rescale[name]
		path := "rescale." + name
		if _, ok := jp.byName[name]; !ok {
			known := make([]string, 0, len(jp.vertices))
			for _, x := range jp.vertices {
				known = append(known, x.name)
			}
			return &pathError{path: path, key: true, msg: fmt.Sprintf("rescale: unknown operator %q%s", name, didYouMean(name, known))}
		}
		if p < 1 || p > min(jp.maxPar, MaxParallelism) {
			return perr(path, "rescale: parallelism of %q must be within [1, %d], got %d", name, min(jp.maxPar, MaxParallelism), p)
		}
		jp.rescale[name] = p
	}
	for _, v := range jp.vertices {
		if !v.bySplit {
			continue
		}
		for j, in := range v.inputs {
			if p, ok := jp.rescale[in]; ok {
				jp.rescale[splitMapName(v, j)] = p
			}
		}
	}
	return nil
}

// resolveWindow resolves the window fields of a window, window-join or co-group
// operator.
func resolveWindow(path, what string, op OperatorSpec) (engine.WindowSpec, error) {
	var w engine.WindowSpec
	if op.Size == "" {
		return w, perr(path, "%s: a window needs a size", what)
	}
	d, err := parseDur(op.Size, true)
	if err != nil {
		return w, perr(path+".size", "%s: size: %v", what, err)
	}
	w.Size = d
	if op.Slide != "" {
		d, err := parseDur(op.Slide, true)
		if err != nil {
			return w, perr(path+".slide", "%s: slide: %v", what, err)
		}
		if d > w.Size {
			return w, perr(path+".slide", "%s: slide %v is longer than the window size %v", what, d, w.Size)
		}
		w.Slide = d
	}
	switch op.Window {
	case "":
	case "tumbling":
		if w.Slide != 0 && w.Slide != w.Size {
			return w, perr(path+".slide", "%s: a tumbling window slides by its size; use window: sliding", what)
		}
	case "sliding":
		if op.Slide == "" {
			return w, perr(path+".window", "%s: a sliding window needs a slide", what)
		}
	default:
		return w, perr(path+".window", "%s: unknown window %q (tumbling or sliding)", what, op.Window)
	}
	if op.Lateness != "" {
		d, err := parseDur(op.Lateness, false)
		if err != nil {
			return w, perr(path+".allowed-lateness", "%s: allowed-lateness: %v", what, err)
		}
		w.AllowedLateness = d
	}
	switch op.Aggregate {
	case "", "count", "sum":
		w.Aggregate = op.Aggregate
	default:
		return w, perr(path+".aggregate", "%s: window aggregate must be count or sum, got %q", what, op.Aggregate)
	}
	return w, nil
}
