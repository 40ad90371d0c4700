package scenarios

import (
	"fmt"

	"github.com/ckptsim/ckptsim/engine"
)

// Cycles in scenario files: an operator's feedback field names an operator at
// or after it whose output comes back as its last input (a path join's paths),
// as engine.Stream.FeedbackTo; the job's records must stop circulating for it to
// end (engine/cycle.go states the rules).

// resolveFeedback checks and records the operators' feedback fields and path
// join node counts, once every operator is planned.
func (jp *jobPlan) resolveFeedback(ops []OperatorSpec) error {
	for i, op := range ops {
		path := fmt.Sprintf("job.operators[%d]", i)
		what := fmt.Sprintf("operator %q", op.Name)
		v := jp.byName[op.Name]
		if v == nil {
			continue
		}
		if op.Nodes < 0 {
			return perr(path+".nodes", "%s: nodes must not be negative, got %d", what, op.Nodes)
		}
		v.nodes = op.Nodes
		if op.Feedback == "" {
			continue
		}
		fb, ok := jp.byName[op.Feedback]
		switch {
		case !ok:
			return perr(path+".feedback", "%s: unknown feedback operator %q%s", what, op.Feedback, didYouMean(op.Feedback, jp.names()))
		case fb.source != nil:
			return perr(path+".feedback", "%s: feedback %q is a source; a back edge comes from an operator after this one", what, op.Feedback)
		case fb.typ == "sink":
			return perr(path+".feedback", "%s: feedback %q is a sink, which has no output", what, op.Feedback)
		case jp.index(fb) < jp.index(v):
			return perr(path+".feedback", "%s: feedback %q comes before it; a back edge comes from an operator listed at or after this one (use input for a forward edge)", what, op.Feedback)
		case v.bySplit:
			return perr(path+".feedback", "%s: a back edge cannot be keyed by split; use key-by: key", what)
		case op.Type == "union" && len(v.inputs) > 0 && v.parts[0] == engine.Broadcast:
			return perr(path+".feedback", "%s: a back edge cannot broadcast", what)
		}
		v.feedback = op.Feedback
	}
	return nil
}

// index is the position of v among the plan's vertices.
func (jp *jobPlan) index(v *vertexPlan) int {
	for i, x := range jp.vertices {
		if x == v {
			return i
		}
	}
	return -1
}

// names lists the plan's vertex names in order.
func (jp *jobPlan) names() []string {
	out := make([]string, 0, len(jp.vertices))
	for _, x := range jp.vertices {
		out = append(out, x.name)
	}
	return out
}

// buildFeedback adds the back edges once every stream exists.
func (jp *jobPlan) buildFeedback(streams map[string]*engine.Stream) {
	for _, v := range jp.vertices {
		if v.feedback == "" {
			continue
		}
		head, tail := streams[v.name], streams[v.feedback]
		input := 0
		if twoInputType(v.typ) {
			input = 1
		}
		switch {
		case keyedType(v.typ):
			tail.KeyBy().FeedbackTo(head, input)
		case jp.byName[v.feedback].par == v.par && v.parts[0] == engine.Forward:
			tail.Forward().FeedbackTo(head, input)
		default:
			tail.Rebalance().FeedbackTo(head, input)
		}
	}
}
