package engine

import (
	"github.com/ckptsim/ckptsim/sim"
)

// InFlightBytes is the data queued at the task's input channels (delivered and not
// yet taken) and at its output channels (waiting for credit), in bytes.
func (t *Task) InFlightBytes() (in, out int64) {
	for _, ig := range t.gates {
		for _, ch := range ig.g.Channels() {
			for i := 0; i < ch.QueuedIn(); i++ {
				if m := ch.QueuedInAt(i); !m.Event {
					in += int64(m.Size)
				}
			}
		}
	}
	for _, o := range t.outs {
		for _, ch := range o.channels {
			for i := 0; i < ch.QueuedOut(); i++ {
				if m := ch.QueuedOutAt(i); !m.Event {
					out += int64(m.Size)
				}
			}
		}
	}
	return in, out
}

func (t *Task) stopPersist(idx int) {
	c := t.ck
	if idx >= len(c.persisting) || c.persisting[idx] == 0 {
		return
	}
	f := c.find(c.persisting[idx])
	c.persisting[idx] = 0
	c.upTo[idx] = 0
	if f != nil {
		f.persistOpen--
		t.maybeUpload(f)
	}
}

// persistOvertaken makes the data buffers a barrier overtook in output channel ci
// of output oi part of checkpoint f's output channel state.
func (t *Task) persistOvertaken(f *inflight, oi, ci int, over []sim.Msg) {
	if t.rt.mutation().OvertakenDropLast && len(over) > 0 {
		over = over[:len(over)-1] // mutant: the last overtaken buffer is forgotten
	}
	for _, m := range over {
		recs := copyRecords(m.Payload.(*Buffer).Records, 0)
		f.snap.OutputState[oi][ci] = append(f.snap.OutputState[oi][ci], recs...)
		for _, r := range recs {
			f.stats.PersistedBytes += int64(r.Size)
		}
	}
}

// persistBuffer records a polled data buffer as input state when its channel is
// being persisted.
func (t *Task) persistBuffer(ig *inputGate, ch *sim.Channel, m sim.Msg) {
	c := t.ck
	if c == nil {
		return
	}
	b := m.Payload.(*Buffer)
	idx := t.channelIndex(ig, ch)
	if c.aligning {
		c.alignBytes += int64(b.Bytes)
	}
	if c.counter != nil {
		c.counter.Processed(idx, int64(b.Bytes))
	}
	id := c.persisting[idx]
	if id == 0 {
		return
	}
	if f := c.find(id); f != nil {
		t.capture(f, idx, m.Seq, b.Records)
	}
	if c.upTo[idx] > 0 && m.Seq >= c.upTo[idx] {
		t.stopPersist(idx)
	}
}

// capturedSeq is the last buffer of channel idx persisted for checkpoint id.
func (t *Task) capturedSeq(idx int, id int64) int64 {
	if t.ck.capturedIn[idx] != id {
		return 0
	}
	return t.ck.captured[idx]
}

// capture persists the records of buffer seq of channel idx for checkpoint f unless
// it already did. A buffer that stays unprocessed across checkpoints is input
// state of each of them.
func (t *Task) capture(f *inflight, idx int, seq int64, recs []Record) {
	c := t.ck
	if c.capturedIn[idx] == f.id && seq <= c.captured[idx] {
		return
	}
	c.captured[idx], c.capturedIn[idx] = seq, f.id
	t.persist(f, idx, recs)
}

func (t *Task) persist(f *inflight, idx int, recs []Record) {
	if f.snap.InputState[idx] == nil {
		f.snap.InputState[idx] = []Record{}
	}
	for i := range recs {
		if recs[i].Split > splitIdle {
			f.snap.InputState[idx] = append(f.snap.InputState[idx], recs[i])
			f.stats.PersistedBytes += int64(recs[i].Size)
		}
	}
}

func copyRecords(recs []Record, from int) []Record {
	out := make([]Record, 0, len(recs)-from)
	for _, r := range recs[from:] {
		if r.Split > splitIdle {
			out = append(out, r)
		}
	}
	return out
}
