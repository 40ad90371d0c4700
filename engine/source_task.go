package engine

import "github.com/ckptsim/ckptsim/sim"

// sourceState is the reading position of a source subtask in its splits: the
// offsets are what a checkpoint stores and a restore rewinds to.
type sourceState struct {
	gen       *Generator
	splits    []int32
	next      []int64    // next offset per split
	maxTime   []sim.Time // largest event time emitted per split
	rr        int
	wakeArmed bool
	idleSent  bool
	tmp       Record // the record being emitted (no allocation per record)
}

// SourceOffsets returns the next offset to read per split of a source task (nil for
// other tasks).
func (t *Task) SourceOffsets() map[int32]int64 {
	if t.src == nil {
		return nil
	}
	out := make(map[int32]int64, len(t.src.splits))
	for i, s := range t.src.splits {
		out[s] = t.src.next[i]
	}
	return out
}

// SetSourceOffsets rewinds (or forwards) the splits of a source task.
func (t *Task) SetSourceOffsets(offs map[int32]int64) {
	if t.src == nil {
		return
	}
	for i, s := range t.src.splits {
		if o, ok := offs[s]; ok {
			t.src.next[i] = o
		}
	}
}

func (s *sourceState) exhausted(i int) bool {
	n := s.gen.spec.Records
	return n > 0 && s.next[i] >= n
}

// sourceStep emits the next due record; it returns false when nothing is due now
// (a wake is armed for the next due record) or the source finished.
func (t *Task) sourceStep() bool {
	s := t.src
	pick := -1
	var due sim.Time = sim.Never
	n := len(s.splits)
	limited := s.gen.spec.Rate > 0
	i := s.rr
	for k := 0; k < n; k++ {
		if !s.exhausted(i) {
			if !limited {
				pick, due = i, 0
				break
			}
			if d := s.gen.DueAt(s.next[i]); d < due {
				due, pick = d, i
			}
		}
		if i++; i == n {
			i = 0
		}
	}
	if pick < 0 {
		t.finish()
		return false
	}
	if at := t.rt.w.Now().Add(t.sliceCost); due > at {
		if !s.wakeArmed {
			s.wakeArmed = true
			t.node.Schedule(due, t, evWake, 0, 0)
		}
		return false
	}
	if s.rr = pick + 1; s.rr == n {
		s.rr = 0
	}
	r := &s.tmp
	s.gen.Fill(r, s.splits[pick], s.next[pick])
	s.next[pick]++
	if r.Time > s.maxTime[pick] {
		s.maxTime[pick] = r.Time
	}
	t.m.RecordsIn++
	t.sliceCost += t.costs[0]
	t.links[0].Collect(r) // the source operator itself only forwards
	return true
}

// sourceWatermark emits the bounded-out-of-orderness watermark of the source: the
// smallest over its active splits of (largest event time − disorder − 1).
func (t *Task) sourceWatermark() {
	s := t.src
	if len(s.splits) == 0 {
		if !s.idleSent {
			s.idleSent = true
			for _, o := range t.outs {
				o.broadcastMarker(splitIdle, 0)
			}
		}
		return
	}
	wm := sim.Never
	for i := range s.splits {
		if s.exhausted(i) {
			continue
		}
		w := s.maxTime[i] - sim.Time(s.gen.spec.Disorder) - 1
		if w < wm {
			wm = w
		}
	}
	if wm != sim.Never && wm > t.wm {
		t.advance(wm)
	}
}
