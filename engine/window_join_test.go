package engine

import (
	"math"
	"reflect"
	"sort"
	"testing"

	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func genWindowJoinSpec(t *rapid.T, lateness bool) WindowJoinSpec {
	w := genWindowSpec(t, lateness)
	spec := WindowJoinSpec{Size: w.Size, Slide: w.Slide, AllowedLateness: w.AllowedLateness}
	if rapid.Bool().Draw(t, "co-group") {
		spec.CoGroup = true
		spec.Aggregate = w.Aggregate
	}
	return spec
}

type refJoinWin struct {
	sides [2][]Record
	fired bool
}

// refWindowJoin is a naive model of a window join or coGroup with Flink's
// allowed-lateness semantics: the window operator's model (refWindow) keeping
// both inputs' records per window.
type refWindowJoin struct {
	spec        WindowJoinSpec
	size, slide int64
	wm          int64
	wins        map[winKey]*refJoinWin
	out         []Record
	late        int64
}

func newRefWindowJoin(spec WindowJoinSpec) *refWindowJoin {
	slide := int64(spec.Slide)
	if slide == 0 {
		slide = int64(spec.Size)
	}
	return &refWindowJoin{spec: spec, size: int64(spec.Size), slide: slide, wm: math.MinInt64, wins: map[winKey]*refJoinWin{}}
}

func (m *refWindowJoin) emit(k winKey, w *refJoinWin) {
	res := Record{Key: k.key, Time: sim.Time(k.end - 1), Split: -1, Offset: k.end, Size: WindowOutputSize}
	if m.spec.CoGroup {
		agg := func(rs []Record) int64 {
			if m.spec.Aggregate != "sum" {
				return int64(len(rs))
			}
			var s int64
			for _, r := range rs {
				s += r.Value
			}
			return s
		}
		res.Value = agg(w.sides[0])*JoinValueFactor + agg(w.sides[1])
		m.out = append(m.out, res)
		return
	}
	for _, l := range w.sides[0] {
		for _, r := range w.sides[1] {
			res.Value = l.Value*JoinValueFactor + r.Value
			res.Size = l.Size + r.Size
			m.out = append(m.out, res)
		}
	}
}

func (m *refWindowJoin) record(input int, r Record) {
	added := false
	for _, s := range windowsOf(int64(r.Time), m.size, m.slide) {
		k := winKey{r.Key, s + m.size}
		if k.end-1+int64(m.spec.AllowedLateness) <= m.wm {
			continue
		}
		added = true
		w := m.wins[k]
		isNew := w == nil
		if isNew {
			w = &refJoinWin{}
			m.wins[k] = w
		}
		w.sides[input] = append(w.sides[input], r)
		if w.fired || (isNew && k.end-1 <= m.wm) {
			w.fired = true
			m.emit(k, w)
		}
	}
	if !added {
		m.late++
	}
}

func (m *refWindowJoin) watermark(wm int64) {
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
		m.emit(k, m.wins[k])
	}
	for k := range m.wins {
		if k.end-1+int64(m.spec.AllowedLateness) <= wm {
			delete(m.wins, k)
		}
	}
}

func (m *refWindowJoin) apply(e opEvent) {
	if e.isWM {
		m.watermark(int64(e.wm))
	} else {
		m.record(e.input, e.rec)
	}
}

// entries is how many state entries the operator should hold: a timer per
// window, and per side with records a count and two entries per record.
func (m *refWindowJoin) entries() int {
	n := 0
	for _, w := range m.wins {
		n++
		for _, s := range w.sides {
			if len(s) > 0 {
				n += 1 + 2*len(s)
			}
		}
	}
	return n
}

func TestWindowJoinExample(t *testing.T) {
	// Tumbling windows of 10: key 1 has left 5, 6 and right 7 in [0,10), right 8
	// alone in [10,20); key 2 only a left record in [0,10).
	in := []opEvent{
		{input: 0, rec: Record{Key: 1, Value: 5, Time: 1, Size: 10}},
		{input: 1, rec: Record{Key: 1, Value: 7, Time: 3, Size: 20}},
		{input: 0, rec: Record{Key: 2, Value: 9, Time: 4, Size: 10}},
		{input: 0, rec: Record{Key: 1, Value: 6, Time: 9, Size: 10}},
		{input: 1, rec: Record{Key: 1, Value: 8, Time: 12, Size: 20}},
	}
	run := func(spec WindowJoinSpec) []Record {
		op := newWindowJoinOp(spec)
		ctx := newTestOpCtx(nil)
		if err := op.Open(ctx); err != nil {
			t.Fatal(err)
		}
		var out collectOut
		for _, e := range in {
			op.Process(e.input, &e.rec, &out)
		}
		op.Watermark(MaxWatermark, &out)
		if n := len(ctx.State.Entries()); n != 0 {
			t.Errorf("%d state entries left", n)
		}
		return out.recs
	}
	res := func(key uint64, v int64, end int64, size int32) Record {
		return Record{Key: key, Value: v, Time: sim.Time(end - 1), Split: -1, Offset: end, Size: size}
	}
	got := run(WindowJoinSpec{Size: 10})
	want := []Record{res(1, 5*JoinValueFactor+7, 10, 30), res(1, 6*JoinValueFactor+7, 10, 30)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tumbling join:\n got %v\nwant %v", got, want)
	}
	got = run(WindowJoinSpec{Size: 10, CoGroup: true})
	want = []Record{res(1, 2*JoinValueFactor+1, 10, 64), res(2, 1*JoinValueFactor, 10, 64), res(1, 1, 20, 64)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tumbling co-group:\n got %v\nwant %v", got, want)
	}
	got = run(WindowJoinSpec{Size: 10, CoGroup: true, Aggregate: "sum"})
	want = []Record{res(1, 11*JoinValueFactor+7, 10, 64), res(2, 9*JoinValueFactor, 10, 64), res(1, 8, 20, 64)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tumbling co-group sum:\n got %v\nwant %v", got, want)
	}
	// Sliding 10/5: [-5,5) pairs 5 with 7; [0,10) as tumbling; [5,15) pairs 6 with 8.
	got = run(WindowJoinSpec{Size: 10, Slide: 5})
	want = []Record{res(1, 5*JoinValueFactor+7, 5, 30), res(1, 5*JoinValueFactor+7, 10, 30),
		res(1, 6*JoinValueFactor+7, 10, 30), res(1, 6*JoinValueFactor+8, 15, 30)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sliding join:\n got %v\nwant %v", got, want)
	}
}

func TestWindowJoinSpecValidate(t *testing.T) {
	for _, c := range []struct {
		spec WindowJoinSpec
		err  string
	}{
		{WindowJoinSpec{Size: 10}, ""},
		{WindowJoinSpec{Size: 10, Slide: 5, CoGroup: true, Aggregate: "sum"}, ""},
		{WindowJoinSpec{}, `window join "j": size must be positive`},
		{WindowJoinSpec{Size: 10, Slide: 11}, `window join "j": slide must be within (0, size]`},
		{WindowJoinSpec{Size: 10, CoGroup: true, Aggregate: "max"}, `co-group "j": aggregate must be count or sum, got "max"`},
		{WindowJoinSpec{Size: 10, Aggregate: "sum"}, `window join "j": a join pairs records and takes no aggregate (a co-group does)`},
	} {
		err := c.spec.validate("j")
		if got := ""; err != nil {
			got = err.Error()
			if got != c.err {
				t.Errorf("%+v: %q, want %q", c.spec, got, c.err)
			}
		} else if c.err != "" {
			t.Errorf("%+v: no error, want %q", c.spec, c.err)
		}
	}
}

// With watermarks anywhere (often ahead of records), output, late count and the
// number of state entries equal the naive model, including re-firing within the
// allowed lateness.
func TestWindowJoinMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		spec := genWindowJoinSpec(t, true)
		var evs []opEvent
		if rapid.Bool().Draw(t, "bounded") {
			d := rapid.Int64Range(0, 10).Draw(t, "disorder")
			evs = genBoundedEvents(t, 2, d, d+1)
		} else {
			evs = genWildEvents(t, 2)
		}
		ref := newRefWindowJoin(spec)
		r := newOpRun(t, func() Operator { return newWindowJoinOp(spec) })
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
		if got, want := len(r.ctx.State.Entries()), ref.entries(); got != want {
			t.Fatalf("%d state entries, want %d", got, want)
		}
	})
}

// Restoring from a copy of the state at any point (then re-delivering the last
// watermark) continues exactly like the uninterrupted run.
func TestWindowJoinRestoreEqualsUninterrupted(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		spec := genWindowJoinSpec(t, true)
		evs := genWildEvents(t, 2)
		mk := func() Operator { return newWindowJoinOp(spec) }
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
				t.Fatalf("after event %d: state differs", i)
			}
		}
	})
}

// The operator behaves the same on both backends, and a snapshot of either
// restores into the other in the middle of the input (the state is the same
// logical entries whatever holds it).
func TestWindowJoinBackendsAgree(t *testing.T) {
	rng := state.KeyGroupRange{Start: 0, End: 128}
	rapid.Check(t, func(t *rapid.T) {
		spec := genWindowJoinSpec(t, true)
		evs := genWildEvents(t, 2)
		cut := rapid.IntRange(0, len(evs)).Draw(t, "cut")
		type run struct {
			op  Operator
			ctx *OpContext
			out collectOut
		}
		open := func(st state.Backend) *run {
			r := &run{op: newWindowJoinOp(spec), ctx: newTestOpCtx(st)}
			if err := r.op.Open(r.ctx); err != nil {
				t.Fatal(err)
			}
			return r
		}
		var runs []*run
		for _, kind := range backendKinds {
			runs = append(runs, open(newRapidBackend(t, kind, rng)))
		}
		defer func() {
			for _, r := range runs {
				r.ctx.State.Close()
			}
		}()
		var lastWM sim.Time = math.MinInt64
		for i, e := range evs {
			if i == cut {
				// swap the backends: heap state into pebble and pebble into heap
				var swapped []*run
				for j, r := range runs {
					snap, err := r.ctx.State.Snapshot(1, false)
					if err != nil {
						t.Fatal(err)
					}
					n := open(newRapidBackend(t, backendKinds[1-j], rng))
					if err := n.ctx.State.Restore([]*state.Snapshot{snap}); err != nil {
						t.Fatal(err)
					}
					n.op.(Restorer).Restored()
					if lastWM != math.MinInt64 {
						n.op.Watermark(lastWM, &n.out)
					}
					n.out.recs = r.out.recs
					r.ctx.State.Close()
					swapped = append(swapped, n)
				}
				runs = swapped
			}
			for _, r := range runs {
				if e.isWM {
					r.op.Watermark(e.wm, &r.out)
				} else {
					rec := e.rec
					r.op.Process(e.input, &rec, &r.out)
				}
			}
			if e.isWM {
				lastWM = max(lastWM, e.wm)
			}
		}
		if d := cmp.Diff(runs[0].out.recs, runs[1].out.recs); d != "" {
			t.Fatalf("outputs of the two backends differ:\n%s", d)
		}
		if d := cmp.Diff(runs[0].ctx.State.Entries(), runs[1].ctx.State.Entries()); d != "" {
			t.Fatalf("state differs:\n%s", d)
		}
	})
}
