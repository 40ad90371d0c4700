package engine

import (
	"math"
	"reflect"
	"sort"
	"testing"

	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
	"pgregory.net/rapid"
)

// --- a tiny operator harness shared by the window and join tests ---

type collectOut struct{ recs []Record }

func (c *collectOut) Collect(r *Record) { c.recs = append(c.recs, *r) }

func newTestOpCtx(st state.Backend) *OpContext {
	if st == nil {
		st = state.NewHeap(state.KeyGroupRange{Start: 0, End: 128})
	}
	return &OpContext{State: st, MaxParallelism: 128, NS: 10}
}

// fataler is what the harness needs of *testing.T and *rapid.T.
type fataler interface{ Fatal(args ...any) }

// opEvent is one input of an operator test: a record of an input, or a watermark.
type opEvent struct {
	isWM  bool
	wm    sim.Time
	input int
	rec   Record
}

// opRun drives one operator instance and can restore it from its own state.
type opRun struct {
	mk     func() Operator
	op     Operator
	ctx    *OpContext
	out    collectOut
	late   int64 // late count of operators replaced by restores
	lastWM sim.Time
	hasWM  bool
}

func newOpRun(t fataler, mk func() Operator) *opRun {
	r := &opRun{mk: mk, op: mk(), ctx: newTestOpCtx(nil)}
	if err := r.op.Open(r.ctx); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *opRun) apply(e opEvent) {
	if e.isWM {
		r.op.Watermark(e.wm, &r.out)
		if !r.hasWM || e.wm > r.lastWM {
			r.lastWM, r.hasWM = e.wm, true // watermarks are monotone: keep the highest
		}
		return
	}
	rec := e.rec
	r.op.Process(e.input, &rec, &r.out)
}

// restore replaces the operator by a fresh one restored from a copy of the state,
// then re-delivers the last watermark, as the task regenerates watermarks.
func (r *opRun) restore(t fataler) {
	st := state.NewHeap(state.KeyGroupRange{Start: 0, End: 128})
	if err := st.Restore([]*state.Snapshot{{Entries: r.ctx.State.Entries()}}); err != nil {
		t.Fatal(err)
	}
	r.late += r.op.(LateCounter).Late()
	r.ctx = newTestOpCtx(st)
	r.op = r.mk()
	if err := r.op.Open(r.ctx); err != nil {
		t.Fatal(err)
	}
	r.op.(Restorer).Restored()
	if r.hasWM {
		r.op.Watermark(r.lastWM, &r.out)
	}
}

func (r *opRun) lateTotal() int64 { return r.late + r.op.(LateCounter).Late() }

// --- window generators and reference ---

func genWindowSpec(t *rapid.T, lateness bool) WindowSpec {
	size := rapid.Int64Range(1, 20).Draw(t, "size")
	slide := rapid.Int64Range(0, size).Draw(t, "slide")
	var al int64
	if lateness {
		al = rapid.SampledFrom([]int64{0, 0, 1, 3, 10}).Draw(t, "lateness")
	}
	return WindowSpec{
		Size:            sim.Duration(size),
		Slide:           sim.Duration(slide),
		AllowedLateness: sim.Duration(al),
		Aggregate:       rapid.SampledFrom([]string{"", "count", "sum"}).Draw(t, "agg"),
	}
}

var testKeys = []uint64{0, 1, 2, 3, 7, 1 << 40, math.MaxUint64}

// genRecord draws a record near cur, at most disorder before it.
func genRecord(t *rapid.T, keys []uint64, i int, cur, disorder int64) Record {
	return Record{
		Key:    rapid.SampledFrom(keys).Draw(t, "key"),
		Value:  rapid.Int64Range(-5, 100).Draw(t, "value"),
		Time:   sim.Time(cur - drawDisorder(t, disorder)),
		Split:  rapid.Int32Range(0, 3).Draw(t, "split"),
		Offset: int64(i),
		Size:   rapid.Int32Range(1, 100).Draw(t, "size"),
	}
}

// drawDisorder draws how far before the current time a record is, favouring the
// bounds (a record exactly at the watermark).
func drawDisorder(t *rapid.T, disorder int64) int64 {
	switch rapid.IntRange(0, 2).Draw(t, "disorder kind") {
	case 0:
		return 0
	case 1:
		return disorder
	}
	return rapid.Int64Range(0, disorder).Draw(t, "disorder")
}

// windowsOf lists the windows [start, start+size) containing t by brute force,
// latest first.
func windowsOf(t, size, slide int64) []int64 {
	var starts []int64
	for k := floorDivRef(t-size, slide) - 1; k <= floorDivRef(t, slide)+1; k++ {
		if s := k * slide; s <= t && t < s+size {
			starts = append(starts, s)
		}
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] > starts[j] })
	return starts
}

func floorDivRef(a, b int64) int64 {
	return int64(math.Floor(float64(a) / float64(b)))
}

type winKey struct {
	key uint64
	end int64
}

type refWin struct {
	agg   int64
	fired bool
}

// refWindow is a naive model of the window operator, with Flink's allowed-lateness
// semantics.
type refWindow struct {
	size, slide, al int64
	sum             bool
	wm              int64
	wins            map[winKey]*refWin
	out             []Record
	late            int64
}

func newRefWindow(spec WindowSpec) *refWindow {
	slide := int64(spec.Slide)
	if slide == 0 {
		slide = int64(spec.Size)
	}
	return &refWindow{size: int64(spec.Size), slide: slide, al: int64(spec.AllowedLateness),
		sum: spec.Aggregate == "sum", wm: math.MinInt64, wins: map[winKey]*refWin{}}
}

func (m *refWindow) emit(k winKey, agg int64) {
	m.out = append(m.out, Record{Key: k.key, Value: agg, Time: sim.Time(k.end - 1), Split: -1, Offset: k.end, Size: 64})
}

func (m *refWindow) record(r Record) {
	added := false
	for _, s := range windowsOf(int64(r.Time), m.size, m.slide) {
		k := winKey{r.Key, s + m.size}
		if k.end-1+m.al <= m.wm {
			continue
		}
		added = true
		w := m.wins[k]
		isNew := w == nil
		if isNew {
			w = &refWin{}
			m.wins[k] = w
		}
		if m.sum {
			w.agg += r.Value
		} else {
			w.agg++
		}
		if w.fired || (isNew && k.end-1 <= m.wm) {
			w.fired = true
			m.emit(k, w.agg)
		}
	}
	if !added {
		m.late++
	}
}

func (m *refWindow) watermark(wm int64) {
	if wm <= m.wm {
		return
	}
	m.wm = wm
	var due []winKey
	for k, w := range m.wins {
		if !w.fired && k.end-1 <= wm {
			due = append(due, k)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if due[i].end != due[j].end {
			return due[i].end < due[j].end
		}
		return due[i].key < due[j].key
	})
	for _, k := range due {
		m.wins[k].fired = true
		m.emit(k, m.wins[k].agg)
	}
	for k := range m.wins {
		if k.end-1+m.al <= wm {
			delete(m.wins, k)
		}
	}
}

func (m *refWindow) apply(e opEvent) {
	if e.isWM {
		m.watermark(int64(e.wm))
	} else {
		m.record(e.rec)
	}
}

// genBoundedEvents draws records with at most disorder of event-time disorder and
// watermarks that lag the maximum time seen by lag (records are never late when
// lag > disorder for windows, lag >= disorder for joins).
func genBoundedEvents(t *rapid.T, inputs int, disorder, lag int64) []opEvent {
	n := rapid.IntRange(0, 80).Draw(t, "n")
	keys := testKeys[:rapid.IntRange(1, len(testKeys)).Draw(t, "keys")]
	cur := rapid.Int64Range(-60, 60).Draw(t, "start")
	maxSeen := int64(math.MinInt64)
	var evs []opEvent
	for i := 0; i < n; i++ {
		cur += rapid.Int64Range(0, 4).Draw(t, "advance")
		r := genRecord(t, keys, i, cur, disorder)
		maxSeen = max(maxSeen, int64(r.Time))
		evs = append(evs, opEvent{input: rapid.IntRange(0, inputs-1).Draw(t, "input"), rec: r})
		if rapid.IntRange(0, 3).Draw(t, "wm?") == 0 {
			evs = append(evs, opEvent{isWM: true, wm: sim.Time(maxSeen - lag)})
		}
	}
	return append(evs, opEvent{isWM: true, wm: MaxWatermark})
}

// genWildEvents draws records and watermarks anywhere around the current time, so
// that watermarks are often ahead of records (late data).
func genWildEvents(t *rapid.T, inputs int) []opEvent {
	n := rapid.IntRange(0, 80).Draw(t, "n")
	keys := testKeys[:rapid.IntRange(1, len(testKeys)).Draw(t, "keys")]
	cur := rapid.Int64Range(-60, 60).Draw(t, "start")
	var evs []opEvent
	for i := 0; i < n; i++ {
		cur += rapid.Int64Range(0, 4).Draw(t, "advance")
		if rapid.IntRange(0, 3).Draw(t, "wm?") == 0 {
			evs = append(evs, opEvent{isWM: true, wm: sim.Time(cur + rapid.Int64Range(-15, 10).Draw(t, "wm"))})
		}
		evs = append(evs, opEvent{input: rapid.IntRange(0, inputs-1).Draw(t, "input"), rec: genRecord(t, keys, i, cur, 20)})
	}
	if rapid.Bool().Draw(t, "final") {
		evs = append(evs, opEvent{isWM: true, wm: MaxWatermark})
	}
	return evs
}

// --- window tests ---

func TestWindowExample(t *testing.T) {
	// Tumbling windows of 10: [0,10) and [10,20); sliding 10/5 adds [-5,5) and [5,15).
	in := []Record{
		{Key: 2, Value: 5, Time: 3},
		{Key: 1, Value: 7, Time: 9},
		{Key: 2, Value: 1, Time: 12},
		{Key: 1, Value: 2, Time: 0},
		{Key: 3, Value: 4, Time: 8},
	}
	run := func(spec WindowSpec) []Record {
		op := newWindowOp(spec)
		ctx := newTestOpCtx(nil)
		if err := op.Open(ctx); err != nil {
			t.Fatal(err)
		}
		var out collectOut
		for i := range in {
			op.Process(0, &in[i], &out)
		}
		op.Watermark(MaxWatermark, &out)
		if n := len(ctx.State.Entries()); n != 0 {
			t.Errorf("%d state entries left", n)
		}
		return out.recs
	}
	w := func(key uint64, v int64, end int64) Record {
		return Record{Key: key, Value: v, Time: sim.Time(end - 1), Split: -1, Offset: end, Size: 64}
	}
	got := run(WindowSpec{Size: 10, Aggregate: "sum"})
	want := []Record{w(1, 9, 10), w(2, 5, 10), w(3, 4, 10), w(2, 1, 20)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tumbling sum:\n got %v\nwant %v", got, want)
	}
	got = run(WindowSpec{Size: 10, Slide: 5})
	want = []Record{w(1, 1, 5), w(2, 1, 5), w(1, 2, 10), w(2, 1, 10), w(3, 1, 10),
		w(1, 1, 15), w(2, 1, 15), w(3, 1, 15), w(2, 1, 20)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sliding count:\n got %v\nwant %v", got, want)
	}
}

func TestWindowLateAndAllowedLateness(t *testing.T) {
	op := newWindowOp(WindowSpec{Size: 10, AllowedLateness: 5})
	ctx := newTestOpCtx(nil)
	_ = op.Open(ctx)
	var out collectOut
	p := func(tm sim.Time) { op.Process(0, &Record{Key: 1, Time: tm}, &out) }
	p(1)
	op.Watermark(9, &out) // fires [0,10) with 1
	p(2)                  // late but allowed: updated result 2
	op.Watermark(13, &out)
	p(3) // still allowed (cleanup at 9+5 = 14): 3
	op.Watermark(14, &out)
	p(4)  // beyond lateness: dropped
	p(11) // window [10,20): fine
	op.Watermark(MaxWatermark, &out)
	var vals []int64
	for _, r := range out.recs {
		vals = append(vals, r.Value)
	}
	if want := []int64{1, 2, 3, 1}; !reflect.DeepEqual(vals, want) {
		t.Errorf("results %v, want %v", vals, want)
	}
	if l := op.(LateCounter).Late(); l != 1 {
		t.Errorf("late %d, want 1", l)
	}
	if n := len(ctx.State.Entries()); n != 0 {
		t.Errorf("%d state entries left", n)
	}
}

func TestWindowTimerOrder(t *testing.T) {
	op := newWindowOp(WindowSpec{Size: 10, Slide: 5})
	_ = op.Open(newTestOpCtx(nil))
	var out collectOut
	for _, k := range []uint64{9, 3, math.MaxUint64, 0, 5} {
		for _, tm := range []sim.Time{27, 1, 14} {
			op.Process(0, &Record{Key: k, Time: tm}, &out)
		}
	}
	op.Watermark(MaxWatermark, &out)
	if len(out.recs) != 5*6 {
		t.Fatalf("%d results, want 30", len(out.recs))
	}
	if !sort.SliceIsSorted(out.recs, func(i, j int) bool {
		a, b := out.recs[i], out.recs[j]
		return a.Time < b.Time || a.Time == b.Time && a.Key < b.Key
	}) {
		t.Errorf("timers not fired in (time, key) order: %v", out.recs)
	}
}

// With watermarks lagging by more than the disorder, no record is late and the
// output is every window's aggregate, in (time, key) order.
func TestWindowBoundedDisorderMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		spec := genWindowSpec(t, true)
		d := rapid.Int64Range(0, 10).Draw(t, "disorder")
		evs := genBoundedEvents(t, 1, d, d+1)

		slide := int64(spec.Slide)
		if slide == 0 {
			slide = int64(spec.Size)
		}
		aggs := map[winKey]int64{}
		for _, e := range evs {
			if e.isWM {
				continue
			}
			for _, s := range windowsOf(int64(e.rec.Time), int64(spec.Size), slide) {
				k := winKey{e.rec.Key, s + int64(spec.Size)}
				if spec.Aggregate == "sum" {
					aggs[k] += e.rec.Value
				} else {
					aggs[k]++
				}
			}
		}
		var want []Record
		for k, v := range aggs {
			want = append(want, Record{Key: k.key, Value: v, Time: sim.Time(k.end - 1), Split: -1, Offset: k.end, Size: 64})
		}
		sort.Slice(want, func(i, j int) bool {
			a, b := want[i], want[j]
			return a.Time < b.Time || a.Time == b.Time && a.Key < b.Key
		})

		r := newOpRun(t, func() Operator { return newWindowOp(spec) })
		for _, e := range evs {
			r.apply(e)
		}
		if len(want) == 0 && len(r.out.recs) == 0 {
			want = r.out.recs
		}
		if !reflect.DeepEqual(r.out.recs, want) {
			t.Fatalf("output\n got %v\nwant %v", r.out.recs, want)
		}
		if l := r.lateTotal(); l != 0 {
			t.Fatalf("%d late records", l)
		}
		if n := len(r.ctx.State.Entries()); n != 0 {
			t.Fatalf("%d state entries left after the final watermark", n)
		}
	})
}

// With watermarks anywhere (often ahead), output and late count equal the naive
// model, including re-emission within the allowed lateness.
func TestWindowLateMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		spec := genWindowSpec(t, true)
		evs := genWildEvents(t, 1)
		ref := newRefWindow(spec)
		r := newOpRun(t, func() Operator { return newWindowOp(spec) })
		for _, e := range evs {
			ref.apply(e)
			r.apply(e)
		}
		if !reflect.DeepEqual(r.out.recs, ref.out) && len(r.out.recs)+len(ref.out) > 0 {
			t.Fatalf("output\n got %v\nwant %v", r.out.recs, ref.out)
		}
		if r.lateTotal() != ref.late {
			t.Fatalf("late %d, want %d", r.lateTotal(), ref.late)
		}
		if got, want := len(r.ctx.State.Entries()), 2*len(ref.wins); got != want {
			t.Fatalf("%d state entries, want %d", got, want)
		}
	})
}

// Restoring from a copy of the state at any point (then re-delivering the last
// watermark) continues exactly like the uninterrupted run.
func TestWindowRestoreEqualsUninterrupted(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		spec := genWindowSpec(t, true)
		evs := genWildEvents(t, 1)
		mk := func() Operator { return newWindowOp(spec) }
		a, b := newOpRun(t, mk), newOpRun(t, mk)
		for i, e := range evs {
			if rapid.IntRange(0, 9).Draw(t, "restore?") == 0 {
				b.restore(t)
			}
			a.apply(e)
			b.apply(e)
			if !reflect.DeepEqual(a.out.recs, b.out.recs) {
				t.Fatalf("after event %d: restored output\n%v\nuninterrupted\n%v", i, b.out.recs, a.out.recs)
			}
			if !reflect.DeepEqual(a.ctx.State.Entries(), b.ctx.State.Entries()) {
				t.Fatalf("after event %d: state differs:\n%v\n%v", i, a.ctx.State.Entries(), b.ctx.State.Entries())
			}
		}
		if a.lateTotal() != b.lateTotal() {
			t.Fatalf("late %d, uninterrupted %d", b.lateTotal(), a.lateTotal())
		}
	})
}
