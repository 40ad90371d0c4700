package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// opContext is what resolving one operator needs besides the operators before
// it: the file's explicit zeros, the guarantee (a sink's default kind), the
// parallelism of each vertex in every phase of the run (forward or rebalance by
// default), the names of all operators and the generated key-by-split maps.
type opContext struct {
	fs        *fileState
	guarantee checkpoint.Guarantee
	phases    []map[string]int
	opNames   map[string]bool
	generated map[string]string // generated vertex name -> the operator it serves
}

// planOperator resolves operator i of the job section: name, type and fields,
// inputs, parallelism and cost, partitioning and type-specific fields.
func (jp *jobPlan) planOperator(oc *opContext, i int, op OperatorSpec) (*vertexPlan, error) {
	fs := oc.fs
	path := fmt.Sprintf("job.operators[%d]", i)
	if err := checkName(path+".name", op.Name, "an operator"); err != nil {
		return nil, err
	}
	if _, dup := jp.byName[op.Name]; dup {
		return nil, perr(path+".name", "duplicate name %q", op.Name)
	}
	if by, dup := oc.generated[op.Name]; dup {
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
	ins, err := jp.planInputs(oc, path, what, op, v)
	if err != nil {
		return nil, err
	}
	if err := positiveInt(fs, path+".parallelism", "parallelism", int64(op.Parallelism)); err != nil {
		return nil, err
	}
	v.par = ins[0].par
	if op.Parallelism > 0 {
		v.par = op.Parallelism
	}
	if err := jp.parOK(path+".parallelism", what+": parallelism", v.par); err != nil {
		return nil, err
	}
	if op.Cost != "" {
		d, err := parseDur(op.Cost, false)
		if err != nil {
			return nil, perr(path+".cost", "%s: cost: %v", what, err)
		}
		v.cost = d
	}
	if err := jp.planPartitioning(oc, path, what, op, v, ins); err != nil {
		return nil, err
	}
	if err := planTypeFields(oc, path, what, op, v); err != nil {
		return nil, err
	}
	return v, nil
}

// planInputs resolves an operator's input or inputs: as many as its type takes,
// each declared before it, none twice.
func (jp *jobPlan) planInputs(oc *opContext, path, what string, op OperatorSpec, v *vertexPlan) ([]*vertexPlan, error) {
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
		case oc.opNames[in]:
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
	return ins, nil
}

// planPartitioning resolves how each input reaches the operator: by key (or by
// split) for keyed types, else forward, rebalance or broadcast.
func (jp *jobPlan) planPartitioning(oc *opContext, path, what string, op OperatorSpec, v *vertexPlan, ins []*vertexPlan) error {
	if keyedType(op.Type) {
		switch op.KeyBy {
		case "", "key":
		case "split":
			v.bySplit = true
			for j := range v.inputs {
				g := splitMapName(v, j)
				if oc.opNames[g] || jp.byName[g] != nil {
					return perr(path+".key-by", "%s: the key-by-split map would be named %q, which is taken", what, g)
				}
				oc.generated[g] = op.Name
			}
		default:
			return perr(path+".key-by", "%s: key-by must be key or split, got %q", what, op.KeyBy)
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
				if samePhases(oc.phases, in.name, in.par, v.name, v.par) {
					v.parts[j] = engine.Forward
				} else {
					v.parts[j] = engine.Rebalance
				}
			case "forward":
				if in.par != v.par {
					return perr(path+".partitioning", "%s: a forward edge needs equal parallelism, but %q has %d and %q %d; use rebalance",
						what, in.name, in.par, op.Name, v.par)
				}
				v.parts[j] = engine.Forward
			case "rebalance":
				v.parts[j] = engine.Rebalance
			case "broadcast":
				v.parts[j] = engine.Broadcast
			case "key-by":
				return perr(path+".partitioning", "%s: key-by partitioning needs a keyed operator (sum, count, min, max, window, join, window-join, co-group)", what)
			default:
				return perr(path+".partitioning", "%s: unknown partitioning %q (forward, rebalance or broadcast)", what, op.Partitioning)
			}
		}
	}
	return nil
}

// planTypeFields resolves the fields of the operator's type: a filter's modulo,
// a flat map's fanout, a sink's kind, windows and join bounds.
func planTypeFields(oc *opContext, path, what string, op OperatorSpec, v *vertexPlan) error {
	fs, guarantee := oc.fs, oc.guarantee
	switch op.Type {
	case "filter":
		if err := positiveInt(fs, path+".modulo", "modulo", int64(op.Modulo)); err != nil {
			return err
		}
		v.modulo = 2
		if op.Modulo > 0 {
			v.modulo = int64(op.Modulo)
		}
	case "flat-map":
		if err := positiveInt(fs, path+".fanout", "fanout", int64(op.Fanout)); err != nil {
			return err
		}
		if op.Fanout > maxFanout {
			return perr(path+".fanout", "fanout must be at most %d, got %d", maxFanout, op.Fanout)
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
			return perr(path+".sink", "%s: unknown sink %q (two-phase-commit or at-least-once)", what, op.Sink)
		}
	case "window":
		w, err := resolveWindow(path, what, op)
		if err != nil {
			return err
		}
		v.window = w
	case "window-join", "co-group":
		w, err := resolveWindow(path, what, op)
		if err != nil {
			return err
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
				return perr(path+"."+b.field, "%s: %s: %v", what, b.field, err)
			}
			*b.dst = d
		}
		if v.join.Lower > v.join.Upper {
			return perr(path+".lower", "%s: lower bound %v is above upper bound %v", what, v.join.Lower, v.join.Upper)
		}
	}
	return nil
}
