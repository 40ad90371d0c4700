package engine

import (
	"math"

	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
)

// Window operator state layout (namespaces relative to OpContext.NS):
//
//	NS+0  key, Sub = window end  -> the window's aggregate (count or sum)
//	NS+1  key, Sub = window end  -> the window's pending timer: end-1 before the
//	                                window fired, end-1+AllowedLateness (its cleanup
//	                                time) after it fired when lateness is allowed
//
// A window join or coGroup keeps the records of each window instead of an
// aggregate (see window_join.go); its timers are the same NS+1 entries.
//
// The timer heap is an in-memory index of the NS+1 entries, rebuilt by Restored.
// The current watermark is not part of the state (as in Flink): after a restore it
// is unknown until the next watermark arrives.

// LateCounter is implemented by operators that drop late records (windows and
// joins): Late is the number dropped so far (Flink's numLateRecordsDropped). The
// count is a metric, not state: it restarts at zero after a restore.
type LateCounter interface {
	Late() int64
}

// WindowOutputSize is the modelled size in bytes of a window result record.
const WindowOutputSize = 64

// windowOp computes event-time tumbling or sliding window aggregates per key, or,
// with join set, window joins and coGroups of two inputs.
type windowOp struct {
	ctx      *OpContext
	size     int64
	slide    int64
	lateness int64
	sum      bool        // aggregate is sum of Value (else count)
	join     *windowJoin // the window keeps both inputs' records: a join or coGroup

	wm     sim.Time // current watermark
	timers timerHeap
	late   int64 // records dropped because every window they belong to was late
	out    Record
}

var (
	_ Restorer    = (*windowOp)(nil)
	_ LateCounter = (*windowOp)(nil)
	_ Restorer    = (*joinOp)(nil)
	_ LateCounter = (*joinOp)(nil)
)

// newWindowOp returns the operator of a window vertex. The spec is assumed valid
// (WindowSpec.validate).
func newWindowOp(spec WindowSpec) Operator {
	w := &windowOp{
		size:     int64(spec.Size),
		slide:    int64(spec.Slide),
		lateness: int64(spec.AllowedLateness),
		sum:      spec.Aggregate == "sum",
		wm:       math.MinInt64,
	}
	if w.slide <= 0 {
		w.slide = w.size
	}
	return w
}

func (w *windowOp) Open(ctx *OpContext) error { w.ctx = ctx; return nil }

// Late is the number of records dropped because they arrived after every window
// they belong to had passed its allowed lateness.
func (w *windowOp) Late() int64 { return w.late }

// floorDiv is a/b rounded towards negative infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func (w *windowOp) Process(input int, r *Record, out Collector) {
	t := int64(r.Time)
	kg := w.ctx.KeyGroup(r.Key)
	added := false
	// Windows containing t, latest first (as Flink's SlidingEventTimeWindows).
	for start := floorDiv(t, w.slide) * w.slide; start > t-w.size; start -= w.slide {
		end := start + w.size
		maxTs := end - 1
		cleanup := maxTs + w.lateness
		if sim.Time(cleanup) <= w.wm {
			continue // this window is past its allowed lateness
		}
		added = true
		var acc int64
		if w.join != nil {
			w.join.add(w, kg, input, r, start, end)
		} else {
			ak := state.Cell{NS: w.ctx.NS, Key: r.Key, Sub: end}
			acc, _ = w.ctx.State.Get(kg, ak)
			if w.sum {
				acc += r.Value
			} else {
				acc++
			}
			w.ctx.State.Put(kg, ak, acc)
		}
		tk := state.Cell{NS: w.ctx.NS + 1, Key: r.Key, Sub: end}
		tt, ok := w.ctx.State.Get(kg, tk)
		switch {
		case !ok && sim.Time(maxTs) > w.wm:
			// A new window: fire at its end.
			w.ctx.State.Put(kg, tk, maxTs)
			w.timers.push(timerEntry{time: maxTs, key: r.Key, sub: end})
		case !ok:
			// A new window that is already due (late but within the allowed
			// lateness): fire now, clean up when the lateness passes.
			w.ctx.State.Put(kg, tk, cleanup)
			w.timers.push(timerEntry{time: cleanup, key: r.Key, sub: end})
			w.fire(kg, r.Key, acc, end, out)
		case tt != maxTs:
			// The window already fired: emit the updated result (Flink's
			// EventTimeTrigger fires again for late elements).
			w.fire(kg, r.Key, acc, end, out)
		}
	}
	if !added {
		w.late++
	}
}

// fire emits the result of window end of key: its aggregate acc, or the join's
// pairs or coGroup result.
func (w *windowOp) fire(kg int, key uint64, acc, end int64, out Collector) {
	if w.join != nil {
		w.join.fire(w, kg, key, end, out)
		return
	}
	w.emit(key, acc, end, out)
}

func (w *windowOp) emit(key uint64, acc, end int64, out Collector) {
	w.out = Record{Key: key, Value: acc, Time: sim.Time(end - 1), Split: -1, Offset: end, Size: WindowOutputSize}
	out.Collect(&w.out)
}

func (w *windowOp) Watermark(wm sim.Time, out Collector) {
	if wm <= w.wm {
		return
	}
	w.wm = wm
	for len(w.timers) > 0 && sim.Time(w.timers[0].time) <= wm {
		e := w.timers.pop()
		kg := w.ctx.KeyGroup(e.key)
		tk := state.Cell{NS: w.ctx.NS + 1, Key: e.key, Sub: e.sub}
		if tt, ok := w.ctx.State.Get(kg, tk); !ok || tt != e.time {
			continue // stale entry
		}
		ak := state.Cell{NS: w.ctx.NS, Key: e.key, Sub: e.sub}
		maxTs := e.sub - 1
		if e.time == maxTs {
			var acc int64
			if w.join == nil {
				acc, _ = w.ctx.State.Get(kg, ak)
			}
			w.fire(kg, e.key, acc, e.sub, out)
			if w.lateness > 0 {
				cleanup := maxTs + w.lateness
				w.ctx.State.Put(kg, tk, cleanup)
				w.timers.push(timerEntry{time: cleanup, key: e.key, sub: e.sub})
				continue
			}
		}
		if w.join != nil {
			w.join.clear(w, kg, e.key, e.sub)
		} else {
			w.ctx.State.Delete(kg, ak)
		}
		w.ctx.State.Delete(kg, tk)
	}
}

func (w *windowOp) Finish(Collector) {}

// Restored rebuilds the timer heap from the timer entries of the restored state.
func (w *windowOp) Restored() {
	w.timers = w.timers[:0]
	for _, e := range state.EntriesAnyOrder(w.ctx.State) {
		if e.NS == w.ctx.NS+1 {
			w.timers = append(w.timers, timerEntry{time: e.Value, key: e.Key, sub: e.Sub})
		}
	}
	// in any order: the heap pops by (time, key, side, sub), every field of a timer
	w.timers.init()
}

// timerEntry is one event-time timer of an in-memory timer queue: it fires at time
// for key; sub (a window end, a buffered record's sub-key) and side (a join input)
// tell which state it belongs to. Timers fire in (time, key, side, sub) order.
type timerEntry struct {
	time int64
	key  uint64
	side int
	sub  int64
}

func (a *timerEntry) less(b *timerEntry) bool {
	if a.time != b.time {
		return a.time < b.time
	}
	if a.key != b.key {
		return a.key < b.key
	}
	if a.side != b.side {
		return a.side < b.side
	}
	return a.sub < b.sub
}

// timerHeap is a binary min-heap of timers (no container/heap: no boxing).
type timerHeap []timerEntry

func (h *timerHeap) push(e timerEntry) {
	*h = append(*h, e)
	h.up(len(*h) - 1)
}

func (h *timerHeap) pop() timerEntry {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	*h = s[:n]
	if n > 0 {
		h.down(0)
	}
	return top
}

func (h timerHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].less(&h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (h timerHeap) down(i int) {
	n := len(h)
	for {
		m := i
		if l := 2*i + 1; l < n && h[l].less(&h[m]) {
			m = l
		}
		if r := 2*i + 2; r < n && h[r].less(&h[m]) {
			m = r
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
