package scenarios

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// operatorTypes lists the operator types a scenario can name.
var operatorTypes = []string{"map", "filter", "flat-map", "sum", "count", "min", "max", "window", "join", "window-join", "co-group", "path-join", "union", "sink"}

// twoInputType reports whether operators of type t take exactly two inputs.
func twoInputType(t string) bool {
	return t == "join" || t == "window-join" || t == "co-group" || t == "path-join"
}

// keyedType reports whether operators of type t are keyed.
func keyedType(t string) bool {
	switch t {
	case "sum", "count", "min", "max", "window", "join", "window-join", "co-group", "path-join":
		return true
	}
	return false
}

// operatorFields lists the fields each operator type takes besides name, type,
// input(s), parallelism and cost.
var operatorFields = map[string][]string{
	"map":      {"partitioning", "feedback"},
	"filter":   {"partitioning", "modulo", "feedback"},
	"flat-map": {"partitioning", "fanout", "feedback"},
	"sum":      {"key-by", "feedback"},
	"count":    {"key-by", "feedback"},
	"min":      {"key-by", "feedback"},
	"max":      {"key-by", "feedback"},
	"window":   {"key-by", "window", "size", "slide", "allowed-lateness", "aggregate"},
	"join":     {"key-by", "lower", "upper"},
	// window joins and coGroups: Flink's a.join(b) / a.coGroup(b) .window(...)
	"window-join": {"key-by", "window", "size", "slide", "allowed-lateness"},
	"co-group":    {"key-by", "window", "size", "slide", "allowed-lateness", "aggregate"},
	"path-join":   {"key-by", "nodes", "feedback"},
	"union":       {"partitioning", "feedback"},
	"sink":        {"partitioning", "sink"},
}

// vertexPlan is one resolved source or operator.
type vertexPlan struct {
	name    string
	path    string
	source  *engine.SourceSpec
	typ     string
	inputs  []string
	bySplit bool
	parts   []engine.Partitioning
	par     int
	cost    sim.Duration
	sink    engine.SinkSpec
	window  engine.WindowSpec
	join    engine.JoinSpec
	wjoin   engine.WindowJoinSpec
	modulo  int64
	fanout  int
	// nodes is a path join's node count; feedback names the operator whose
	// output comes back as the last input (scenarios/cycles.go).
	nodes    int64
	feedback string
}

// jobPlan is a resolved job: enough to build a fresh engine.Job at any time.
type jobPlan struct {
	name     string
	maxPar   int
	vertices []*vertexPlan
	byName   map[string]*vertexPlan
	rescale  map[string]int // by vertex name, including generated key-by-split maps
	peak     map[string]int // the largest parallelism a restore action sets, by vertex name
}

// splitMapName names the chained map that keys input i of v by split.
func splitMapName(v *vertexPlan, i int) string {
	if len(v.inputs) == 1 {
		return v.name + "-by-split"
	}
	return v.name + "-by-split-" + strconv.Itoa(i+1)
}

// keyBySplit keys a record by its source split (the key-by-split map).
func keyBySplit(r *engine.Record) {
	if r.Split >= 0 {
		r.Key = uint64(r.Split)
	}
}

// build creates a fresh job graph.
func (jp *jobPlan) build() *engine.Job {
	j := engine.NewJob(jp.name)
	j.MaxParallelism = jp.maxPar
	streams := map[string]*engine.Stream{}
	for _, v := range jp.vertices {
		if v.source != nil {
			streams[v.name] = j.Source(v.name, *v.source).Parallelism(v.par)
			continue
		}
		ins := make([]*engine.Stream, len(v.inputs))
		for i, in := range v.inputs {
			st := streams[in]
			if v.bySplit {
				st = st.Map(splitMapName(v, i), keyBySplit)
			}
			switch v.parts[i] {
			case engine.Forward:
				st = st.Forward()
			case engine.Rebalance:
				st = st.Rebalance()
			case engine.Broadcast:
				st = st.Broadcast()
			}
			ins[i] = st
		}
		var out *engine.Stream
		switch v.typ {
		case "map":
			out = ins[0].Map(v.name, nil)
		case "filter":
			m := v.modulo
			out = ins[0].Filter(v.name, func(r *engine.Record) bool { return r.Value%m != 0 })
		case "flat-map":
			n := v.fanout
			out = ins[0].FlatMap(v.name, func(r engine.Record, emit func(engine.Record)) {
				emit(r)
				r.Split = -1 // the copies are derived records
				for i := 1; i < n; i++ {
					emit(r)
				}
			})
		case "sum":
			out = ins[0].KeyBy().Sum(v.name)
		case "count":
			out = ins[0].KeyBy().Count(v.name)
		case "min", "max":
			out = ins[0].KeyBy().Sum(v.name)
			out.Vertex().Aggregate = engine.AggregateSpec{Name: v.typ}
		case "window":
			out = ins[0].KeyBy().Window(v.name, v.window)
		case "join":
			out = ins[0].KeyBy().Join(v.name, ins[1].KeyBy(), v.join)
		case "window-join":
			out = ins[0].KeyBy().WindowJoin(v.name, ins[1].KeyBy(), v.wjoin)
		case "co-group":
			out = ins[0].KeyBy().CoGroup(v.name, ins[1].KeyBy(), v.wjoin)
		case "path-join":
			out = ins[0].KeyBy().PathJoin(v.name, ins[1].KeyBy(), engine.PathJoinSpec{Nodes: v.nodes})
		case "union":
			out = ins[0].Union(v.name, ins[1:]...)
		case "sink":
			out = ins[0].Sink(v.name, v.sink)
		}
		out.Parallelism(v.par)
		if v.cost > 0 {
			out.Cost(v.cost)
		}
		streams[v.name] = out
	}
	jp.buildFeedback(streams)
	return j
}

// effPar is the largest parallelism a vertex runs at (before or after rescale).
func (jp *jobPlan) effPar(v *vertexPlan) int {
	p := v.par
	if r, ok := jp.rescale[v.name]; ok && r > p {
		p = r
	}
	if r, ok := jp.peak[v.name]; ok && r > p {
		p = r
	}
	return p
}

// checkChannels refuses a job with more than MaxChannels network channels (at the
// larger of each vertex's parallelism before and after a rescale), naming the
// largest exchange.
func (jp *jobPlan) checkChannels() error {
	total, largest, what, path := 0, 0, "", "job"
	for _, v := range jp.vertices {
		for i, in := range v.inputs {
			up, down := jp.effPar(jp.byName[in]), jp.effPar(v)
			n := down
			if v.parts[i] != engine.Forward {
				n = up * down
			}
			total += n
			if n > largest {
				largest, what, path = n, fmt.Sprintf("%s → %s: %d × %d", in, v.name, up, down), v.path
			}
		}
	}
	if total > MaxChannels {
		return perr(path, "the job has %d network channels (the largest exchange %s), more than the %d a run can hold; lower the parallelism",
			total, what, MaxChannels)
	}
	return nil
}

// sortedKeys is the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
