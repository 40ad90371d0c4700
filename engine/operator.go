package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim"
)

// Collector receives the records an operator emits.
type Collector interface {
	Collect(r *Record)
}

// Operator is the logic of one vertex inside a task. Calls happen inside simulator
// events of the task's node; an operator never touches the simulator itself.
type Operator interface {
	// Open prepares the operator; ctx stays valid for the operator's life.
	Open(ctx *OpContext) error
	// Process handles one record of input number input (0, or 1 for a join's
	// second input).
	Process(input int, r *Record, out Collector)
	// Watermark tells the operator event time advanced to wm: due timers fire.
	Watermark(wm sim.Time, out Collector)
	// Finish is called at the end of bounded input, after the final watermark.
	Finish(out Collector)
}

// Restorer is implemented by operators that rebuild in-memory structures (timer
// queues) from keyed state after a restore.
type Restorer interface {
	Restored()
}

// OpContext is what an operator may use: its identity and its keyed state.
type OpContext struct {
	Task           *Task
	Vertex         *Vertex
	Subtask        int
	Parallelism    int
	MaxParallelism int
	// State is the operator's keyed state (nil for operators that are not keyed).
	State KeyedState
	// NS is the operator's first state namespace; an operator may use NS..NS+15.
	NS uint32
	// Sink is the external store of a sink operator.
	Sink *SinkStore
}

// KeyGroup is the key group of key in this job.
func (c *OpContext) KeyGroup(key uint64) int { return KeyGroup(key, c.MaxParallelism) }

// newOperator instantiates the operator of a vertex.
func newOperator(v *Vertex) (Operator, error) {
	switch v.Kind {
	case KindSource, KindUnion:
		return passOp{}, nil
	case KindMap:
		return &mapOp{fn: v.MapFn}, nil
	case KindFilter:
		return &filterOp{fn: v.FilterFn}, nil
	case KindFlatMap:
		return &flatMapOp{fn: v.FlatMapFn}, nil
	case KindAggregate:
		return newAggregate(v.Aggregate)
	case KindWindow:
		return newWindowOp(*v.Window), nil
	case KindJoin:
		return newJoinOp(*v.Join), nil
	case KindSink:
		return &sinkOp{}, nil
	}
	return nil, fmt.Errorf("engine: no operator for kind %v", v.Kind)
}

// passOp forwards records unchanged (sources emit through it; union merges inputs).
type passOp struct{}

func (passOp) Open(*OpContext) error                   { return nil }
func (passOp) Process(_ int, r *Record, out Collector) { out.Collect(r) }
func (passOp) Watermark(sim.Time, Collector)           {}
func (passOp) Finish(Collector)                        {}

// Operators emit through scratch records they own, so the per-record path does not
// allocate: a Collector copies what it keeps before returning.
type mapOp struct {
	passOp
	fn  func(Record) Record
	tmp Record
}

func (m *mapOp) Process(_ int, r *Record, out Collector) {
	if m.fn == nil {
		out.Collect(r)
		return
	}
	m.tmp = m.fn(*r)
	out.Collect(&m.tmp)
}

type filterOp struct {
	passOp
	fn func(*Record) bool
}

func (f *filterOp) Process(_ int, r *Record, out Collector) {
	if f.fn == nil || f.fn(r) {
		out.Collect(r)
	}
}

type flatMapOp struct {
	passOp
	fn   func(Record, func(Record))
	out  Collector
	emit func(Record)
}

func (f *flatMapOp) Open(*OpContext) error {
	f.emit = func(r Record) { f.out.Collect(&r) }
	return nil
}

func (f *flatMapOp) Process(_ int, r *Record, out Collector) {
	if f.fn == nil {
		out.Collect(r)
		return
	}
	f.out = out
	f.fn(*r, f.emit)
}

// aggregateOp keeps one value per key (state namespace NS) and emits the updated
// value with the provenance of the record that caused the update.
type aggregateOp struct {
	passOp
	ctx  *OpContext
	kind string
	fn   func(acc, v int64) int64
	tmp  Record
	add  adder
}

func newAggregate(spec AggregateSpec) (Operator, error) {
	a := &aggregateOp{kind: spec.Name, fn: spec.Reduce}
	switch spec.Name {
	case "sum", "count", "min", "max":
	case "reduce":
		if spec.Reduce == nil {
			return nil, fmt.Errorf("engine: reduce needs a function")
		}
	default:
		return nil, fmt.Errorf("engine: unknown aggregate %q (sum, count, min, max, reduce)", spec.Name)
	}
	return a, nil
}

// adder is implemented by backends that can add to a value in one step.
type adder interface {
	Add(kg int, k StateKey, delta int64) int64
}

func (a *aggregateOp) Open(ctx *OpContext) error {
	a.ctx = ctx
	a.add, _ = ctx.State.(adder)
	return nil
}

func (a *aggregateOp) Process(_ int, r *Record, out Collector) {
	kg := a.ctx.KeyGroup(r.Key)
	k := StateKey{NS: a.ctx.NS, Key: r.Key}
	if a.add != nil && (a.kind == "sum" || a.kind == "count") {
		d := r.Value
		if a.kind == "count" {
			d = 1
		}
		a.tmp = *r
		a.tmp.Value = a.add.Add(kg, k, d)
		out.Collect(&a.tmp)
		return
	}
	acc, ok := a.ctx.State.Get(kg, k)
	v := r.Value
	switch a.kind {
	case "sum":
		acc += v
	case "count":
		acc++
	case "min":
		if !ok || v < acc {
			acc = v
		}
	case "max":
		if !ok || v > acc {
			acc = v
		}
	default:
		if ok {
			acc = a.fn(acc, v)
		} else {
			acc = v
		}
	}
	a.ctx.State.Put(kg, k, acc)
	a.tmp = *r
	a.tmp.Value = acc
	out.Collect(&a.tmp)
}
