package engine

import "github.com/ckptsim/ckptsim/sim"

// sourceState is the reading position of a source subtask in its splits: the
// offsets are what a checkpoint stores and a restore rewinds to.
type sourceState struct {
	gen       *Generator
	splits    []int32
	next      []int64    // next offset per split
	end       []int64    // offset at which each split ends (-1: never)
	maxTime   []sim.Time // largest event time emitted per split
	rr        int
	wakeArmed bool
	idleSent  bool
	tmp       Record   // the record being emitted (no allocation per record)
	batch     []Record // the records of a batch being emitted
	picks     []int    // the split of each record of the batch
	peek      []int64  // next offsets while a batch is read
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
	e := s.end[i]
	return e >= 0 && s.next[i] >= e
}

// splitEnds is where each split ends: after the source's records per split, or
// where Config.SourceEnds cuts its log earlier; -1 when it never ends.
func (rt *Runtime) splitEnds(g *Generator, splits []int32) []int64 {
	out := make([]int64, len(splits))
	for i, sp := range splits {
		out[i] = -1
		if g.spec.Records > 0 {
			out[i] = g.spec.Records
		}
		if e, ok := rt.cfg.SourceEnds[sp]; ok && (out[i] < 0 || e < out[i]) {
			out[i] = max(e, 0)
		}
	}
	return out
}

// sourceRecords emits records until run would do something else before the next
// one; it returns false when sourceStep did (nothing due, or the source finished).
func (t *Task) sourceRecords(quantum sim.Duration) bool {
	s := t.src
	for {
		if rs := t.sourceBatch(quantum); len(rs) > 0 {
			n := t.runBatch(0, rs, s.gen.spec.RecordSize)
			for j := range n {
				s.advance(s.picks[j], &rs[j])
			}
			t.m.RecordsIn += int64(n)
		} else if !t.sourceStep() {
			return false
		}
		if !t.steady(quantum) {
			return true
		}
	}
}

// sourceBatch reads, without moving past them, the records the next sourceSteps
// would emit, up to the chain's batch limit, when the chain takes batches and the
// source is not rate-limited (every record is due at once). It returns none when
// the splits are exhausted.
func (t *Task) sourceBatch(quantum sim.Duration) []Record {
	s := t.src
	if t.batch == nil || s.gen.spec.Rate > 0 {
		return nil
	}
	if s.batch == nil {
		s.batch, s.picks, s.peek = make([]Record, maxBatch), make([]int, maxBatch), make([]int64, len(s.splits))
	}
	copy(s.peek, s.next)
	rr, n := s.rr, 0
	for limit := t.batchLimit(quantum, s.gen.spec.RecordSize); n < limit; n++ {
		pick := s.nextUnexhausted(rr, s.peek)
		if pick < 0 {
			break
		}
		s.gen.Fill(&s.batch[n], s.splits[pick], s.peek[pick])
		s.peek[pick]++
		s.picks[n] = pick
		if rr = pick + 1; rr == len(s.splits) {
			rr = 0
		}
	}
	return s.batch[:n]
}

// nextUnexhausted is the split an unlimited source reads next, given the next
// offsets and the round-robin position: the first from rr on that has records
// left (-1 when none has).
func (s *sourceState) nextUnexhausted(rr int, next []int64) int {
	n := len(s.splits)
	i := rr
	for k := 0; k < n; k++ {
		if e := s.end[i]; e < 0 || next[i] < e {
			return i
		}
		if i++; i == n {
			i = 0
		}
	}
	return -1
}

// advance moves past r, the record at the next offset of split pick.
func (s *sourceState) advance(pick int, r *Record) {
	if s.rr = pick + 1; s.rr == len(s.splits) {
		s.rr = 0
	}
	s.next[pick]++
	if r.Time > s.maxTime[pick] {
		s.maxTime[pick] = r.Time
	}
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
	if limited { // an unlimited source has every record due at 0, never later than now
		if at := t.rt.w.Now().Add(t.sliceCost); due > at {
			if !s.wakeArmed {
				s.wakeArmed = true
				t.node.Schedule(t.rt.pollAt(due), t, evWake, 0, 0)
			}
			return false
		}
	}
	r := &s.tmp
	s.gen.Fill(r, s.splits[pick], s.next[pick])
	s.advance(pick, r)
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

// pollAt is when a rate-limited source whose next record is due at due wakes to
// emit it: the first multiple of the poll period (a tenth of the buffer timeout)
// at or after due, so a source emits every record due since its last wake at once
// instead of waking once per record. A record leaves at most a poll period late,
// a tenth of what the buffer timeout may keep it in its output buffer anyway; its
// event time is its due time regardless. With every buffer leaving at once (no
// buffer timeout) a source wakes exactly when each record is due.
func (rt *Runtime) pollAt(due sim.Time) sim.Time {
	p := rt.cfg.BufferTimeout / 10
	if rt.flushAll || p <= 0 {
		return due
	}
	if r := due % sim.Time(p); r != 0 {
		return due + sim.Time(p) - r
	}
	return due
}
