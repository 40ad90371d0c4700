package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
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
	State state.Backend
	// NS is the operator's first state namespace; an operator may use NS..NS+15.
	NS uint32
	// Sink is the external store of a sink operator.
	Sink *SinkStore
}

// KeyGroup is the key group of key in this job.
func (c *OpContext) KeyGroup(key uint64) int { return state.KeyGroup(key, c.MaxParallelism) }

// newOperator instantiates the operator of a vertex.
func newOperator(v *Vertex) (Operator, error) {
	switch v.Kind {
	case KindSource, KindUnion:
		return forwardOp{}, nil
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
	case KindWindowJoin:
		return newWindowJoinOp(*v.WindowJoin), nil
	case KindPathJoin:
		return newPathJoinOp(*v.PathJoin), nil
	case KindSink:
		return &sinkOp{}, nil
	}
	return nil, fmt.Errorf("engine: no operator for kind %v", v.Kind)
}

// batchOp is implemented by operators that can take a run of records in one call
// with exactly the effects of taking them one at a time: each record gives at most
// one output record and the operator cannot fail midway (see Task.runBatch).
type batchOp interface {
	// batchable reports whether the operator may take runs of records now.
	batchable() bool
	// resizes reports whether the operator may emit records of another size than
	// it took.
	resizes() bool
	// processBatch handles in, in order, and returns what it emits (in itself, or
	// a prefix of scratch, which is at least as long as in) and how many records
	// of in it took. An operator that resizes records stops after the first record
	// it emits larger than sizeCap, when sizeCap > 0; the others take all of in.
	processBatch(input int, in, scratch []Record, sizeCap int32) (out []Record, took int)
}

// passOp is the base of the operators: it forwards records unchanged and has no
// watermark or end-of-input behaviour.
type passOp struct{}

func (passOp) Open(*OpContext) error                   { return nil }
func (passOp) Process(_ int, r *Record, out Collector) { out.Collect(r) }
func (passOp) Watermark(sim.Time, Collector)           {}
func (passOp) Finish(Collector)                        {}

// forwardOp forwards records unchanged (sources emit through it; union merges
// inputs).
type forwardOp struct{ passOp }

func (forwardOp) batchable() bool { return true }
func (forwardOp) resizes() bool   { return false }

func (forwardOp) processBatch(_ int, in, _ []Record, _ int32) ([]Record, int) {
	return in, len(in)
}

// Operators emit through scratch records they own, so the per-record path does not
// allocate: a Collector copies what it keeps before returning.
type mapOp struct {
	passOp
	fn  func(*Record)
	tmp Record
}

func (m *mapOp) Process(_ int, r *Record, out Collector) {
	if m.fn == nil {
		out.Collect(r)
		return
	}
	m.apply(&m.tmp, r)
	out.Collect(&m.tmp)
}

// apply writes the mapped *r to dst.
func (m *mapOp) apply(dst, r *Record) {
	copyRecord(dst, r)
	m.fn(dst)
}

func (m *mapOp) batchable() bool { return true }
func (m *mapOp) resizes() bool   { return m.fn != nil }

func (m *mapOp) processBatch(_ int, in, scratch []Record, sizeCap int32) ([]Record, int) {
	if m.fn == nil {
		return in, len(in)
	}
	out := scratch[:len(in)]
	for i := range in {
		m.apply(&out[i], &in[i])
		if sizeCap > 0 && out[i].Size > sizeCap {
			return out[:i+1], i + 1
		}
	}
	return out, len(in)
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

func (f *filterOp) batchable() bool { return true }
func (f *filterOp) resizes() bool   { return false }

func (f *filterOp) processBatch(_ int, in, scratch []Record, _ int32) ([]Record, int) {
	if f.fn == nil {
		return in, len(in)
	}
	n := 0
	for i := range in {
		if f.fn(&in[i]) {
			copyRecord(&scratch[n], &in[i])
			n++
		}
	}
	return scratch[:n], len(in)
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
	mode aggMode
	fn   func(acc, v int64) int64
	tmp  Record
	add  adder // the backend's one-probe add, used by sum and count
	heap bool  // the state is on the heap: updates cannot fail midway
}

// aggMode is the kind of an aggregate.
type aggMode uint8

const (
	aggSum aggMode = iota
	aggCount
	aggMin
	aggMax
	aggReduce
)

var aggModes = map[string]aggMode{"sum": aggSum, "count": aggCount, "min": aggMin, "max": aggMax, "reduce": aggReduce}

func newAggregate(spec AggregateSpec) (Operator, error) {
	mode, ok := aggModes[spec.Name]
	switch {
	case !ok:
		return nil, fmt.Errorf("engine: unknown aggregate %q (sum, count, min, max, reduce)", spec.Name)
	case mode == aggReduce && spec.Reduce == nil:
		return nil, fmt.Errorf("engine: reduce needs a function")
	}
	return &aggregateOp{mode: mode, fn: spec.Reduce}, nil
}

// adder is implemented by backends that can add to a value in one step.
type adder interface {
	Add(kg int, k state.Cell, delta int64) int64
}

func (a *aggregateOp) Open(ctx *OpContext) error {
	a.ctx = ctx
	if a.mode == aggSum || a.mode == aggCount {
		a.add, _ = ctx.State.(adder)
	}
	_, a.heap = ctx.State.(*state.Heap)
	return nil
}

func (a *aggregateOp) Process(_ int, r *Record, out Collector) {
	a.update(&a.tmp, r)
	out.Collect(&a.tmp)
}

// update folds r into its key's value and writes the record to emit to dst.
func (a *aggregateOp) update(dst, r *Record) {
	kg := a.ctx.KeyGroup(r.Key)
	k := state.Cell{NS: a.ctx.NS, Key: r.Key}
	var acc int64
	if a.add != nil {
		d := r.Value
		if a.mode == aggCount {
			d = 1
		}
		acc = a.add.Add(kg, k, d)
	} else {
		acc = a.fold(kg, k, r.Value)
	}
	copyRecord(dst, r)
	dst.Value = acc
}

// fold updates the value of k with v by a read and a write of the state.
func (a *aggregateOp) fold(kg int, k state.Cell, v int64) int64 {
	acc, ok := a.ctx.State.Get(kg, k)
	switch a.mode {
	case aggSum:
		acc += v
	case aggCount:
		acc++
	case aggMin:
		if !ok || v < acc {
			acc = v
		}
	case aggMax:
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
	return acc
}

// batchable: a backend on disk may fail a read, which must fail the task after
// the records before it went all the way through the chain.
func (a *aggregateOp) batchable() bool { return a.heap }
func (a *aggregateOp) resizes() bool   { return false }

func (a *aggregateOp) processBatch(_ int, in, scratch []Record, _ int32) ([]Record, int) {
	out := scratch[:len(in)]
	for i := range in {
		a.update(&out[i], &in[i])
	}
	return out, len(in)
}
