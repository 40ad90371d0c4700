package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
)

// Window join and coGroup state layout (namespaces relative to OpContext.NS; side
// is the input, 0 or 1; the timers are the window operator's NS+1 entries):
//
//	NS+2+side    key, Sub = window end -> how many records of side the window holds
//	NS+4+2*side  key, Sub = w<<24 | i  -> the Value of the window's i-th record of side
//	NS+5+2*side  key, Sub = w<<24 | i  -> its Size
//
// where w = window start / slide numbers the window. As Flink's WindowOperator
// keeps a list of tagged elements per key and window, a record of a sliding window
// is kept once per window it belongs to. A window holds at most 2^24 records of a
// key per side, and w must be within ±2^38: beyond either, the task fails.

const (
	windowJoinSeqBits = 24
	windowJoinMaxSeq  = 1 << windowJoinSeqBits
	windowJoinMaxW    = 1 << 38
)

// windowJoin is what turns a window operator into a window join or coGroup: the
// records it buffers per window and what it emits when a window fires.
type windowJoin struct {
	coGroup bool
	sum     bool       // coGroup results hold sums of values (else counts)
	right   []joinElem // scratch: the right records of the window firing
	out     Record
}

type joinElem struct{ value, size int64 }

// newWindowJoinOp returns the operator of a window join vertex. The spec is
// assumed valid (WindowJoinSpec.validate).
func newWindowJoinOp(spec WindowJoinSpec) Operator {
	w := newWindowOp(spec.window()).(*windowOp)
	w.sum = false
	w.join = &windowJoin{coGroup: spec.CoGroup, sum: spec.Aggregate == "sum"}
	return w
}

// elemSub is the sub-key of the i-th record of the window starting at start.
func (j *windowJoin) elemSub(w *windowOp, start, i int64) int64 {
	n := start / w.slide // exact: windows start at multiples of the slide
	if n >= windowJoinMaxW || n < -windowJoinMaxW {
		panic(&state.IOError{Op: "window join", Err: fmt.Errorf("window start %v is beyond %d slides of %v from time 0", sim.Time(start), windowJoinMaxW, sim.Duration(w.slide))})
	}
	return n<<windowJoinSeqBits | i
}

// add buffers r, of input side, in the window [start, end) of its key.
func (j *windowJoin) add(w *windowOp, kg, input int, r *Record, start, end int64) {
	side := uint32(input & 1)
	ns := w.ctx.NS
	ck := state.Cell{NS: ns + 2 + side, Key: r.Key, Sub: end}
	n, _ := w.ctx.State.Get(kg, ck)
	if n >= windowJoinMaxSeq {
		panic(&state.IOError{Op: "window join", Err: fmt.Errorf("key %d holds more than %d records of input %d in window ending at %v", r.Key, windowJoinMaxSeq, side, sim.Time(end))})
	}
	sub := j.elemSub(w, start, n)
	w.ctx.State.Put(kg, state.Cell{NS: ns + 4 + 2*side, Key: r.Key, Sub: sub}, r.Value)
	w.ctx.State.Put(kg, state.Cell{NS: ns + 5 + 2*side, Key: r.Key, Sub: sub}, int64(r.Size))
	w.ctx.State.Put(kg, ck, n+1)
}

// elem reads the i-th record of side in the window starting at start.
func (j *windowJoin) elem(w *windowOp, kg int, side uint32, key uint64, start, i int64) joinElem {
	sub := j.elemSub(w, start, i)
	v, _ := w.ctx.State.Get(kg, state.Cell{NS: w.ctx.NS + 4 + 2*side, Key: key, Sub: sub})
	sz, _ := w.ctx.State.Get(kg, state.Cell{NS: w.ctx.NS + 5 + 2*side, Key: key, Sub: sub})
	return joinElem{value: v, size: sz}
}

func (j *windowJoin) count(w *windowOp, kg int, side uint32, key uint64, end int64) int64 {
	n, _ := w.ctx.State.Get(kg, state.Cell{NS: w.ctx.NS + 2 + side, Key: key, Sub: end})
	return n
}

// fire emits the window's result: every (left, right) pair in the order the
// records arrived, left-major (Flink's JoinedStreams), or one coGroup result.
// Results carry the window's end in Offset, as window aggregates do.
func (j *windowJoin) fire(w *windowOp, kg int, key uint64, end int64, out Collector) {
	start := end - w.size
	nl, nr := j.count(w, kg, 0, key, end), j.count(w, kg, 1, key, end)
	j.out = Record{Key: key, Time: sim.Time(end - 1), Split: -1, Offset: end, Size: WindowOutputSize}
	if j.coGroup {
		j.out.Value = j.aggregate(w, kg, 0, key, start, nl)*JoinValueFactor + j.aggregate(w, kg, 1, key, start, nr)
		out.Collect(&j.out)
		return
	}
	if nl == 0 || nr == 0 {
		return
	}
	j.right = j.right[:0]
	for i := int64(0); i < nr; i++ {
		j.right = append(j.right, j.elem(w, kg, 1, key, start, i))
	}
	// Read everything before emitting: downstream (chained) operators may touch
	// the backend.
	for i := int64(0); i < nl; i++ {
		l := j.elem(w, kg, 0, key, start, i)
		for _, r := range j.right {
			j.out = Record{Key: key, Value: l.value*JoinValueFactor + r.value, Time: sim.Time(end - 1), Split: -1,
				Offset: end, Size: int32(l.size + r.size)}
			out.Collect(&j.out)
		}
	}
}

// aggregate is a coGroup side's count, or the sum of its values.
func (j *windowJoin) aggregate(w *windowOp, kg int, side uint32, key uint64, start, n int64) int64 {
	if !j.sum {
		return n
	}
	var s int64
	for i := int64(0); i < n; i++ {
		s += j.elem(w, kg, side, key, start, i).value
	}
	return s
}

// clear drops the records of the window ending at end.
func (j *windowJoin) clear(w *windowOp, kg int, key uint64, end int64) {
	start := end - w.size
	for side := uint32(0); side < 2; side++ {
		ck := state.Cell{NS: w.ctx.NS + 2 + side, Key: key, Sub: end}
		n, _ := w.ctx.State.Get(kg, ck)
		for i := int64(0); i < n; i++ {
			sub := j.elemSub(w, start, i)
			w.ctx.State.Delete(kg, state.Cell{NS: w.ctx.NS + 4 + 2*side, Key: key, Sub: sub})
			w.ctx.State.Delete(kg, state.Cell{NS: w.ctx.NS + 5 + 2*side, Key: key, Sub: sub})
		}
		w.ctx.State.Delete(kg, ck)
	}
}
