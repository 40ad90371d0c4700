package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strings"

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
	parOK := func(path, what string, p int) error {
		if p > MaxParallelism {
			return perr(path, "%s must be at most %d, got %d", what, MaxParallelism, p)
		}
		if p > jp.maxPar {
			return perr(path, "%s %d exceeds max-parallelism %d", what, p, jp.maxPar)
		}
		return nil
	}
	for i, src := range s.Job.Sources {
		path := fmt.Sprintf("job.sources[%d]", i)
		if err := checkName(path+".name", src.Name, "a source"); err != nil {
			return nil, err
		}
		if _, dup := jp.byName[src.Name]; dup {
			return nil, perr(path+".name", "duplicate name %q", src.Name)
		}
		spec := engine.SourceSpec{Splits: 1, Records: src.Records, Seed: src.Seed, WatermarkInterval: conf.watermark}
		if err := positiveInt(fs, path+".splits", "splits", int64(src.Splits)); err != nil {
			return nil, err
		}
		if src.Splits > maxSplits {
			return nil, perr(path+".splits", "splits must be at most %d, got %d", maxSplits, src.Splits)
		}
		if src.Splits > 0 {
			spec.Splits = src.Splits
		}
		par := spec.Splits
		if err := positiveInt(fs, path+".parallelism", "parallelism", int64(src.Parallelism)); err != nil {
			return nil, err
		}
		if src.Parallelism > 0 {
			par = src.Parallelism
		}
		if err := parOK(path+".parallelism", "parallelism", par); err != nil {
			return nil, err
		}
		if src.Rate != "" {
			r, err := ParseRate(src.Rate)
			if err != nil {
				return nil, perr(path+".rate", "%v", err)
			}
			if r <= 0 && !strings.EqualFold(strings.TrimSpace(src.Rate), "unlimited") {
				return nil, perr(path+".rate", "rate %q must be positive (leave it out, or write unlimited, for as fast as possible)", src.Rate)
			}
			spec.Rate = r
		}
		if src.Records < 0 || src.Records == 0 && fs.explicitZero(path+".records") {
			return nil, perr(path+".records", "records must be at least 1, got %d (leave it out for an unbounded source)", src.Records)
		}
		if src.Keys != nil {
			k := src.Keys
			kp := path + ".keys"
			switch k.Distribution {
			case "", "uniform":
				spec.Keys.Dist = engine.Uniform
			case "zipf":
				spec.Keys.Dist = engine.Zipf
			case "hot":
				spec.Keys.Dist = engine.Hot
			default:
				return nil, perr(kp+".distribution", "unknown key distribution %q (uniform, zipf or hot)", k.Distribution)
			}
			if err := positiveInt(fs, kp+".count", "key count", int64(k.Count)); err != nil {
				return nil, err
			}
			if k.Count > 1<<24 {
				return nil, perr(kp+".count", "key count must be at most %d, got %d", 1<<24, k.Count)
			}
			spec.Keys.Count = k.Count
			if k.Exponent != 0 {
				if spec.Keys.Dist != engine.Zipf {
					return nil, &pathError{path: kp + ".exponent", key: true, msg: "exponent applies to zipf keys only"}
				}
				if !(k.Exponent > 0) || math.IsInf(k.Exponent, 0) || k.Exponent > 100 {
					return nil, perr(kp+".exponent", "zipf exponent must be within (0, 100], got %v", k.Exponent)
				}
				spec.Keys.Exponent = k.Exponent
			}
			if k.Ratio != 0 {
				if spec.Keys.Dist != engine.Hot {
					return nil, &pathError{path: kp + ".ratio", key: true, msg: "ratio applies to hot keys only"}
				}
				if !(k.Ratio > 0 && k.Ratio <= 1) {
					return nil, perr(kp+".ratio", "hot key ratio must be within (0, 1], got %v", k.Ratio)
				}
				spec.Keys.HotRatio = k.Ratio
			}
		}
		if src.Disorder != "" {
			d, err := parseDur(src.Disorder, false)
			if err != nil {
				return nil, perr(path+".disorder", "disorder: %v", err)
			}
			spec.Disorder = d
		}
		if src.RecordSize != "" {
			n, err := ParseSize(src.RecordSize)
			if err != nil {
				return nil, perr(path+".record-size", "%v", err)
			}
			if n < 1 || n > int64(segment) {
				return nil, perr(path+".record-size", "record size must be within [1 B, the segment size %d B], got %d B", segment, n)
			}
			spec.RecordSize = int32(n)
		} else if segment < 64 {
			return nil, perr(path, "the default record size of 64 B exceeds the segment size %d B", segment)
		}
		v := &vertexPlan{name: src.Name, path: path, source: &spec, par: par}
		jp.vertices = append(jp.vertices, v)
		jp.byName[v.name] = v
	}
	// Rescaled parallelism decides default partitioning (forward only when the
	// parallelism matches before and after a rescale); it is checked below.
	phases := s.parallelismPhases()
	opNames := map[string]bool{}
	for _, op := range s.Job.Operators {
		opNames[op.Name] = true
	}
	generated := map[string]string{} // generated vertex name -> the operator it serves
	for i, op := range s.Job.Operators {
		path := fmt.Sprintf("job.operators[%d]", i)
		if err := checkName(path+".name", op.Name, "an operator"); err != nil {
			return nil, err
		}
		if _, dup := jp.byName[op.Name]; dup {
			return nil, perr(path+".name", "duplicate name %q", op.Name)
		}
		if by, dup := generated[op.Name]; dup {
			return nil, perr(path+".name", "name %q is taken by the key-by-split map of %q", op.Name, by)
		}
		what := fmt.Sprintf("operator %q", op.Name)
		if !slices.Contains(operatorTypes, op.Type) {
			if op.Type == "" {
				return nil, perr(path, "%s needs a type (%s)", what, strings.Join(operatorTypes, ", "))
			}
			return nil, perr(path+".type", "%s: unknown type %q (%s)%s", what, op.Type, strings.Join(operatorTypes, ", "), didYouMean(op.Type, operatorTypes))
		}
		allowed := append([]string{"name", "type", "input", "inputs", "parallelism", "cost"}, operatorFields[op.Type]...)
		if err := checkFields(path, op, allowed, fmt.Sprintf("%s (%s)", what, op.Type)); err != nil {
			return nil, err
		}
		v := &vertexPlan{name: op.Name, path: path, typ: op.Type}
		// Inputs.
		inPaths := []string{}
		switch {
		case op.Input != "" && len(op.Inputs) > 0:
			return nil, perr(path+".inputs", "%s: write input or inputs, not both", what)
		case op.Input != "":
			v.inputs = []string{op.Input}
			inPaths = []string{path + ".input"}
		default:
			v.inputs = op.Inputs
			for j := range op.Inputs {
				inPaths = append(inPaths, fmt.Sprintf("%s.inputs[%d]", path, j))
			}
		}
		switch {
		case twoInputType(op.Type) && len(v.inputs) != 2:
			return nil, perr(path, "%s: a %s takes two inputs (inputs: [left, right]), got %d", what, op.Type, len(v.inputs))
		case op.Type == "union" && len(v.inputs) == 0:
			return nil, perr(path, "%s needs inputs", what)
		case !twoInputType(op.Type) && op.Type != "union" && len(v.inputs) != 1:
			if len(v.inputs) == 0 {
				return nil, perr(path, "%s needs an input", what)
			}
			return nil, perr(path+".inputs", "%s (%s) takes one input, got %d", what, op.Type, len(v.inputs))
		}
		var ins []*vertexPlan
		for j, in := range v.inputs {
			iv, ok := jp.byName[in]
			switch {
			case ok && slices.Contains(v.inputs[:j], in):
				return nil, perr(inPaths[j], "%s: input %q is listed twice", what, in)
			case ok:
				ins = append(ins, iv)
			case in == op.Name:
				return nil, perr(inPaths[j], "%s reads its own output", what)
			case opNames[in]:
				return nil, perr(inPaths[j], "%s: input %q is declared after it; list operators in dataflow order", what, in)
			default:
				known := slices.Collect(func(yield func(string) bool) {
					for _, x := range jp.vertices {
						if !yield(x.name) {
							return
						}
					}
				})
				return nil, perr(inPaths[j], "%s: unknown input %q%s", what, in, didYouMean(in, known))
			}
		}
		// Parallelism and cost.
		if err := positiveInt(fs, path+".parallelism", "parallelism", int64(op.Parallelism)); err != nil {
			return nil, err
		}
		v.par = ins[0].par
		if op.Parallelism > 0 {
			v.par = op.Parallelism
		}
		if err := parOK(path+".parallelism", what+": parallelism", v.par); err != nil {
			return nil, err
		}
		if op.Cost != "" {
			d, err := parseDur(op.Cost, false)
			if err != nil {
				return nil, perr(path+".cost", "%s: cost: %v", what, err)
			}
			v.cost = d
		}
		// Partitioning.
		if keyedType(op.Type) {
			switch op.KeyBy {
			case "", "key":
			case "split":
				v.bySplit = true
				for j := range v.inputs {
					g := splitMapName(v, j)
					if opNames[g] || jp.byName[g] != nil {
						return nil, perr(path+".key-by", "%s: the key-by-split map would be named %q, which is taken", what, g)
					}
					generated[g] = op.Name
				}
			default:
				return nil, perr(path+".key-by", "%s: key-by must be key or split, got %q", what, op.KeyBy)
			}
			v.parts = make([]engine.Partitioning, len(ins))
			for j := range v.parts {
				v.parts[j] = engine.Hash
			}
		} else {
			v.parts = make([]engine.Partitioning, len(ins))
			for j, in := range ins {
				switch op.Partitioning {
				case "":
					if samePhases(phases, in.name, in.par, v.name, v.par) {
						v.parts[j] = engine.Forward
					} else {
						v.parts[j] = engine.Rebalance
					}
				case "forward":
					if in.par != v.par {
						return nil, perr(path+".partitioning", "%s: a forward edge needs equal parallelism, but %q has %d and %q %d; use rebalance",
							what, in.name, in.par, op.Name, v.par)
					}
					v.parts[j] = engine.Forward
				case "rebalance":
					v.parts[j] = engine.Rebalance
				case "broadcast":
					v.parts[j] = engine.Broadcast
				case "key-by":
					return nil, perr(path+".partitioning", "%s: key-by partitioning needs a keyed operator (sum, count, min, max, window, join, window-join, co-group)", what)
				default:
					return nil, perr(path+".partitioning", "%s: unknown partitioning %q (forward, rebalance or broadcast)", what, op.Partitioning)
				}
			}
		}
		// Type-specific fields.
		switch op.Type {
		case "filter":
			if err := positiveInt(fs, path+".modulo", "modulo", int64(op.Modulo)); err != nil {
				return nil, err
			}
			v.modulo = 2
			if op.Modulo > 0 {
				v.modulo = int64(op.Modulo)
			}
		case "flat-map":
			if err := positiveInt(fs, path+".fanout", "fanout", int64(op.Fanout)); err != nil {
				return nil, err
			}
			if op.Fanout > maxFanout {
				return nil, perr(path+".fanout", "fanout must be at most %d, got %d", maxFanout, op.Fanout)
			}
			v.fanout = 2
			if op.Fanout > 0 {
				v.fanout = op.Fanout
			}
		case "sink":
			switch op.Sink {
			case "":
				if guarantee == checkpoint.AtLeastOnce {
					v.sink.Kind = engine.SinkCollect
				} else {
					v.sink.Kind = engine.SinkTwoPhaseCommit
				}
			case "two-phase-commit":
				v.sink.Kind = engine.SinkTwoPhaseCommit
			case "at-least-once":
				v.sink.Kind = engine.SinkCollect
			default:
				return nil, perr(path+".sink", "%s: unknown sink %q (two-phase-commit or at-least-once)", what, op.Sink)
			}
		case "window":
			w, err := resolveWindow(path, what, op)
			if err != nil {
				return nil, err
			}
			v.window = w
		case "window-join", "co-group":
			w, err := resolveWindow(path, what, op)
			if err != nil {
				return nil, err
			}
			v.wjoin = engine.WindowJoinSpec{Size: w.Size, Slide: w.Slide, AllowedLateness: w.AllowedLateness,
				CoGroup: op.Type == "co-group", Aggregate: w.Aggregate}
		case "join":
			for _, b := range []struct {
				field, val string
				dst        *sim.Duration
			}{{"lower", op.Lower, &v.join.Lower}, {"upper", op.Upper, &v.join.Upper}} {
				if b.val == "" {
					continue
				}
				d, err := parseSignedDuration(b.val)
				if err != nil {
					return nil, perr(path+"."+b.field, "%s: %s: %v", what, b.field, err)
				}
				*b.dst = d
			}
			if v.join.Lower > v.join.Upper {
				return nil, perr(path+".lower", "%s: lower bound %v is above upper bound %v", what, v.join.Lower, v.join.Upper)
			}
		}
		jp.vertices = append(jp.vertices, v)
		jp.byName[v.name] = v
	}
	// Rescale.
	for _, name := range sortedKeys(s.Rescale) {
		p := s.Rescale[name]
		path := "rescale." + name
		v, ok := jp.byName[name]
		if !ok {
			known := make([]string, 0, len(jp.vertices))
			for _, x := range jp.vertices {
				known = append(known, x.name)
			}
			return nil, &pathError{path: path, key: true, msg: fmt.Sprintf("rescale: unknown operator %q%s", name, didYouMean(name, known))}
		}
		if p < 1 || p > min(jp.maxPar, MaxParallelism) {
			return nil, perr(path, "rescale: parallelism of %q must be within [1, %d], got %d", name, min(jp.maxPar, MaxParallelism), p)
		}
		jp.rescale[name] = p
		_ = v
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
	if err := jp.resolveFeedback(s.Job.Operators); err != nil {
		return nil, err
	}
	if err := jp.checkChannels(); err != nil {
		return nil, err
	}
	return jp, nil
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
