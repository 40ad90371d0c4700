package engine

import (
	"math"

	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
)

// Join operator state layout (namespaces relative to OpContext.NS; side is the
// input, 0 or 1; Sub identifies one buffered record):
//
//	NS+2*side    key, Sub -> the buffered record's event time
//	NS+2*side+1  key, Sub -> its Value
//	NS+4+side    key, Sub -> its cleanup timer: the watermark at which it can no
//	                         longer join (input 0: Time+Upper+1; input 1:
//	                         Time-Lower+1)
//	NS+6+side    key, Sub -> its Size
//
// Sub is derived from the record's provenance, int64(Split)<<40 | Offset (low 40
// bits), so buffers scan in provenance order; records with equal provenance (a
// flatMap's outputs, a window's updated results) take the next free Sub. The
// in-memory timer heap indexes the NS+4/NS+5 entries and is rebuilt by Restored.
// As in Flink, the current watermark is not state: after a restore it is unknown
// until the next watermark arrives.

// JoinValueFactor combines the values of a joined pair: an output's Value is
// left.Value*JoinValueFactor + right.Value.
const JoinValueFactor = 1000003

const joinSubOffsetBits = 40

// joinOp is a two-input keyed interval join (Flink's IntervalJoinOperator).
type joinOp struct {
	ctx          *OpContext
	lower, upper int64

	wm     sim.Time
	timers timerHeap
	late   int64 // records dropped because their time was below the watermark

	matches []joinMatch // scratch: candidates found by one scan
	lo, hi  int64       // the time range of the current scan
	scanFn  func(sub, tm int64) bool
	out     Record
}

type joinMatch struct {
	sub, time int64
}

// newJoinOp returns the operator of a join vertex. The spec is assumed valid
// (JoinSpec.validate).
func newJoinOp(spec JoinSpec) Operator {
	return &joinOp{lower: int64(spec.Lower), upper: int64(spec.Upper), wm: math.MinInt64}
}

func (j *joinOp) Open(ctx *OpContext) error {
	j.ctx = ctx
	j.scanFn = j.match // bound once: no allocation per record
	return nil
}

// match collects a buffered record of the other input whose time is in range.
func (j *joinOp) match(sub, tm int64) bool {
	if tm >= j.lo && tm <= j.hi {
		j.matches = append(j.matches, joinMatch{sub: sub, time: tm})
	}
	return true
}

// Late is the number of records dropped because their event time was below the
// current watermark on arrival.
func (j *joinOp) Late() int64 { return j.late }

func (j *joinOp) Process(input int, r *Record, out Collector) {
	if r.Time < j.wm {
		j.late++
		return
	}
	side := input & 1
	other := 1 - side
	t := int64(r.Time)
	kg := j.ctx.KeyGroup(r.Key)
	ns := j.ctx.NS

	// Candidates of the other input: for a left record at t, right times in
	// [t+Lower, t+Upper]; for a right record at t, left times in [t-Upper, t-Lower].
	j.lo, j.hi = t+j.lower, t+j.upper
	if side == 1 {
		j.lo, j.hi = t-j.upper, t-j.lower
	}
	j.matches = j.matches[:0]
	j.ctx.State.ScanKey(kg, ns+uint32(2*other), r.Key, j.scanFn)
	// Emit after the scan: downstream (chained) operators may touch the backend.
	for _, m := range j.matches {
		v, _ := j.ctx.State.Get(kg, state.Cell{NS: ns + uint32(2*other+1), Key: r.Key, Sub: m.sub})
		sz, _ := j.ctx.State.Get(kg, state.Cell{NS: ns + uint32(6+other), Key: r.Key, Sub: m.sub})
		lv, rv := r.Value, v
		if side == 1 {
			lv, rv = v, r.Value
		}
		j.out = Record{
			Key:   r.Key,
			Value: lv*JoinValueFactor + rv,
			Time:  max(r.Time, sim.Time(m.time)),
			Split: -2,
			Size:  r.Size + int32(sz),
		}
		out.Collect(&j.out)
	}

	// Buffer the record unless it can no longer join anything that is not late.
	cleanup := t + j.upper + 1
	if side == 1 {
		cleanup = t - j.lower + 1
	}
	if sim.Time(cleanup) <= j.wm {
		return
	}
	sub := int64(r.Split)<<joinSubOffsetBits | r.Offset&(1<<joinSubOffsetBits-1)
	tk := state.Cell{NS: ns + uint32(2*side), Key: r.Key, Sub: sub}
	for {
		if _, taken := j.ctx.State.Get(kg, tk); !taken {
			break
		}
		tk.Sub++
	}
	sub = tk.Sub
	j.ctx.State.Put(kg, tk, t)
	j.ctx.State.Put(kg, state.Cell{NS: ns + uint32(2*side+1), Key: r.Key, Sub: sub}, r.Value)
	j.ctx.State.Put(kg, state.Cell{NS: ns + uint32(6+side), Key: r.Key, Sub: sub}, int64(r.Size))
	j.ctx.State.Put(kg, state.Cell{NS: ns + uint32(4+side), Key: r.Key, Sub: sub}, cleanup)
	j.timers.push(timerEntry{time: cleanup, key: r.Key, side: side, sub: sub})
}

func (j *joinOp) Watermark(wm sim.Time, _ Collector) {
	if wm <= j.wm {
		return
	}
	j.wm = wm
	ns := j.ctx.NS
	for len(j.timers) > 0 && sim.Time(j.timers[0].time) <= wm {
		e := j.timers.pop()
		kg := j.ctx.KeyGroup(e.key)
		tk := state.Cell{NS: ns + uint32(4+e.side), Key: e.key, Sub: e.sub}
		if tt, ok := j.ctx.State.Get(kg, tk); !ok || tt != e.time {
			continue // stale entry
		}
		j.ctx.State.Delete(kg, tk)
		j.ctx.State.Delete(kg, state.Cell{NS: ns + uint32(2*e.side), Key: e.key, Sub: e.sub})
		j.ctx.State.Delete(kg, state.Cell{NS: ns + uint32(2*e.side+1), Key: e.key, Sub: e.sub})
		j.ctx.State.Delete(kg, state.Cell{NS: ns + uint32(6+e.side), Key: e.key, Sub: e.sub})
	}
}

func (j *joinOp) Finish(Collector) {}

// Restored rebuilds the cleanup timer heap from the restored state.
func (j *joinOp) Restored() {
	j.timers = j.timers[:0]
	for _, e := range state.EntriesAnyOrder(j.ctx.State) {
		if e.NS == j.ctx.NS+4 || e.NS == j.ctx.NS+5 {
			j.timers = append(j.timers, timerEntry{time: e.Value, key: e.Key, side: int(e.NS - j.ctx.NS - 4), sub: e.Sub})
		}
	}
	// in any order: the heap pops by (time, key, side, sub), every field of a timer
	j.timers.init()
}
