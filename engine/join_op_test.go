package engine

import (
	"reflect"
	"slices"
	"testing"

	"github.com/ckptsim/ckptsim/sim"
	"pgregory.net/rapid"
)

func genJoinSpec(t *rapid.T) JoinSpec {
	a := rapid.Int64Range(-10, 10).Draw(t, "lower")
	b := rapid.Int64Range(-10, 10).Draw(t, "upper")
	return JoinSpec{Lower: sim.Duration(min(a, b)), Upper: sim.Duration(max(a, b))}
}

// withDuplicateIDs gives some records the provenance of an earlier one (as a
// flatMap's outputs have), so that buffer sub-keys collide.
func withDuplicateIDs(t *rapid.T, evs []opEvent) {
	var prev *Record
	for i := range evs {
		if evs[i].isWM {
			continue
		}
		if prev != nil && rapid.IntRange(0, 4).Draw(t, "dup?") == 0 {
			evs[i].rec.Split, evs[i].rec.Offset = prev.Split, prev.Offset
		}
		prev = &evs[i].rec
	}
}

// refJoin is the nested-loop reference: every pair of a non-late left record and a
// non-late right record of the same key within the bounds. A record is late when its
// time is below the highest watermark seen before it.
func refJoin(spec JoinSpec, evs []opEvent) (out []Record, late int64) {
	var sides [2][]Record
	wm := sim.Time(-1 << 63)
	for _, e := range evs {
		switch {
		case e.isWM:
			wm = max(wm, e.wm)
		case e.rec.Time < wm:
			late++
		default:
			sides[e.input] = append(sides[e.input], e.rec)
		}
	}
	for _, l := range sides[0] {
		for _, r := range sides[1] {
			if l.Key == r.Key && r.Time >= l.Time.Add(spec.Lower) && r.Time <= l.Time.Add(spec.Upper) {
				out = append(out, Record{Key: l.Key, Value: l.Value*1000003 + r.Value,
					Time: max(l.Time, r.Time), Split: -2, Size: l.Size + r.Size})
			}
		}
	}
	return out, late
}

func cmpRecord(a, b Record) int {
	switch {
	case a.Key != b.Key:
		return cmpOrd(a.Key, b.Key)
	case a.Time != b.Time:
		return cmpOrd(a.Time, b.Time)
	case a.Value != b.Value:
		return cmpOrd(a.Value, b.Value)
	case a.Size != b.Size:
		return cmpOrd(a.Size, b.Size)
	case a.Split != b.Split:
		return cmpOrd(a.Split, b.Split)
	}
	return cmpOrd(a.Offset, b.Offset)
}

func cmpOrd[T int64 | uint64 | int32 | sim.Time](a, b T) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

func sameMultiset(got, want []Record) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.SortFunc(g, cmpRecord)
	slices.SortFunc(w, cmpRecord)
	return len(g) == len(w) && (len(g) == 0 || reflect.DeepEqual(g, w))
}

// checkJoinStateBounded checks that the buffers hold only records that can still
// join a record that is not late, and that every buffered record has exactly its
// four entries and one timer.
func checkJoinStateBounded(t *rapid.T, r *opRun, spec JoinSpec, wm sim.Time) {
	counts := map[uint32]int{}
	for _, e := range r.ctx.State.Entries() {
		counts[e.NS-r.ctx.NS]++
		switch e.NS - r.ctx.NS {
		case 0:
			if sim.Time(e.Value).Add(spec.Upper) < wm {
				t.Fatalf("left record at %d kept after watermark %d (upper %d)", e.Value, wm, spec.Upper)
			}
		case 2:
			if sim.Time(e.Value).Add(-spec.Lower) < wm {
				t.Fatalf("right record at %d kept after watermark %d (lower %d)", e.Value, wm, spec.Lower)
			}
		}
	}
	for side := uint32(0); side < 2; side++ {
		n := counts[2*side]
		if counts[2*side+1] != n || counts[4+side] != n || counts[6+side] != n {
			t.Fatalf("side %d: entry counts %v", side, counts)
		}
	}
	if h := len(r.op.(*joinOp).timers); h != counts[4]+counts[5] {
		t.Fatalf("%d timers in the heap, %d in state", h, counts[4]+counts[5])
	}
}

func TestJoinExample(t *testing.T) {
	op := newJoinOp(JoinSpec{Lower: -2, Upper: 1})
	ctx := newTestOpCtx(nil)
	_ = op.Open(ctx)
	var out collectOut
	op.Process(0, &Record{Key: 1, Value: 1, Time: 10, Split: 0, Offset: 0, Size: 10}, &out)
	op.Process(1, &Record{Key: 1, Value: 2, Time: 8, Split: 1, Offset: 0, Size: 20}, &out)  // joins (10: 8 in [8, 11])
	op.Process(1, &Record{Key: 1, Value: 3, Time: 12, Split: 1, Offset: 1, Size: 20}, &out) // no
	op.Process(1, &Record{Key: 2, Value: 4, Time: 10, Split: 1, Offset: 2, Size: 20}, &out) // other key
	op.Process(0, &Record{Key: 1, Value: 5, Time: 11, Split: 0, Offset: 1, Size: 10}, &out) // joins 12 ([9, 12])
	op.Watermark(11, &out)                                                                  // drops the right record at 8 (8+2 < 11); keeps the left at 10 (10+1 < 11 is false)
	op.Watermark(12, &out)                                                                  // drops the left record at 10
	op.Process(1, &Record{Key: 1, Value: 6, Time: 11, Split: 1, Offset: 3, Size: 20}, &out) // late
	op.Process(1, &Record{Key: 1, Value: 7, Time: 12, Split: 1, Offset: 4, Size: 20}, &out) // joins 11
	want := []Record{
		{Key: 1, Value: 1*1000003 + 2, Time: 10, Split: -2, Size: 30},
		{Key: 1, Value: 5*1000003 + 3, Time: 12, Split: -2, Size: 30},
		{Key: 1, Value: 5*1000003 + 7, Time: 12, Split: -2, Size: 30},
	}
	if !reflect.DeepEqual(out.recs, want) {
		t.Errorf("output\n got %v\nwant %v", out.recs, want)
	}
	if l := op.(LateCounter).Late(); l != 1 {
		t.Errorf("late %d, want 1", l)
	}
	op.Watermark(MaxWatermark, &out)
	if n := len(ctx.State.Entries()); n != 0 {
		t.Errorf("%d state entries left", n)
	}
}

// With watermarks that never make a record late, the output is exactly the
// nested-loop join, and the buffers shrink as the watermark passes.
func TestJoinMatchesNestedLoop(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		spec := genJoinSpec(t)
		d := rapid.Int64Range(0, 8).Draw(t, "disorder")
		evs := genBoundedEvents(t, 2, d, d)
		withDuplicateIDs(t, evs)
		want, _ := refJoin(spec, evs)
		r := newOpRun(t, func() Operator { return newJoinOp(spec) })
		for _, e := range evs {
			r.apply(e)
			if e.isWM {
				checkJoinStateBounded(t, r, spec, r.lastWM)
			}
		}
		if !sameMultiset(r.out.recs, want) {
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

// With watermarks ahead of the data, late records are dropped and counted and the
// rest joins as the nested loop over the records that were not late.
func TestJoinLateMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		spec := genJoinSpec(t)
		evs := genWildEvents(t, 2)
		withDuplicateIDs(t, evs)
		want, late := refJoin(spec, evs)
		r := newOpRun(t, func() Operator { return newJoinOp(spec) })
		for _, e := range evs {
			r.apply(e)
			if e.isWM {
				checkJoinStateBounded(t, r, spec, r.lastWM)
			}
		}
		if !sameMultiset(r.out.recs, want) {
			t.Fatalf("output\n got %v\nwant %v", r.out.recs, want)
		}
		if l := r.lateTotal(); l != late {
			t.Fatalf("late %d, want %d", l, late)
		}
	})
}

// Restoring from a copy of the state at any point (then re-delivering the last
// watermark) continues exactly like the uninterrupted run, in the same order.
func TestJoinRestoreEqualsUninterrupted(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		spec := genJoinSpec(t)
		evs := genWildEvents(t, 2)
		withDuplicateIDs(t, evs)
		mk := func() Operator { return newJoinOp(spec) }
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
		if a.lateTotal() != b.lateTotal() {
			t.Fatalf("late %d, uninterrupted %d", b.lateTotal(), a.lateTotal())
		}
	})
}
