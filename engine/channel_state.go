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

// capture is one checkpoint's input state of one input channel. A channel may
// feed several checkpoints at once: a checkpoint whose barrier overtook buffers at
// its sender persists the channel until the last of them arrived, also after a
// newer checkpoint started persisting it.
type capture struct {
	id int64 // the checkpoint
	// open: buffers polled from the channel are persisted (the checkpoint counts
	// the channel in persistOpen)
	open bool
	// upTo, when above 0: the persistence ends with the buffer of this send
	// sequence number, the last one the barrier overtook at its sender
	upTo int64
	// captured is the send sequence number of the last buffer persisted: a buffer
	// is persisted at most once per checkpoint
	captured int64
}

// captureOf is checkpoint id's capture of channel idx, or nil.
func (c *checkpointing) captureOf(idx int, id int64) *capture {
	for i := range c.captures[idx] {
		if c.captures[idx][i].id == id {
			return &c.captures[idx][i]
		}
	}
	return nil
}

// captureFor is checkpoint id's capture of channel idx, added (closed) if there is
// none. Adding one drops those of checkpoints no longer in flight; it may move the
// channel's captures, so it invalidates pointers to them.
func (c *checkpointing) captureFor(idx int, id int64) *capture {
	if cp := c.captureOf(idx, id); cp != nil {
		return cp
	}
	kept := c.captures[idx][:0]
	for _, cp := range c.captures[idx] {
		if c.find(cp.id) != nil {
			kept = append(kept, cp)
		}
	}
	c.captures[idx] = append(kept, capture{id: id})
	return &c.captures[idx][len(kept)]
}

// forgetCaptures drops checkpoint id's captures (it was aborted).
func (c *checkpointing) forgetCaptures(id int64) {
	for idx, cps := range c.captures {
		kept := cps[:0]
		for _, cp := range cps {
			if cp.id != id {
				kept = append(kept, cp)
			}
		}
		c.captures[idx] = kept
	}
}

// persisting lists the checkpoints channel idx feeds (for failure reports).
func (c *checkpointing) persisting(idx int) []int64 {
	var ids []int64
	for _, cp := range c.captures[idx] {
		if cp.open {
			ids = append(ids, cp.id)
		}
	}
	return ids
}

// startPersist makes channel idx feed checkpoint f's input state from now on.
func (t *Task) startPersist(idx int, f *inflight) {
	if cp := t.ck.captureFor(idx, f.id); !cp.open {
		cp.open = true
		f.persistOpen++
	}
}

// endPersist closes a capture; its checkpoint may upload once no channel feeds it.
func (t *Task) endPersist(cp *capture) {
	if !cp.open {
		return
	}
	cp.open, cp.upTo = false, 0
	if f := t.ck.find(cp.id); f != nil {
		f.persistOpen--
		t.maybeUpload(f)
	}
}

// stopPersist ends the persistence of channel idx (for checkpoint id, or any when
// id is 0), except where buffers a barrier overtook at its sender are still to
// come: the last of them ends it.
func (t *Task) stopPersist(idx int, id int64) {
	for i := range t.ck.captures[idx] {
		cp := &t.ck.captures[idx][i]
		if (id == 0 || cp.id == id) && cp.upTo <= cp.captured {
			t.endPersist(cp)
		}
	}
}

// endReached closes the captures of channel idx whose last overtaken buffer was
// persisted.
func (t *Task) endReached(idx int) {
	for i := range t.ck.captures[idx] {
		if cp := &t.ck.captures[idx][i]; cp.open && cp.upTo > 0 && cp.upTo <= cp.captured {
			t.endPersist(cp)
		}
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
	for i := range c.captures[idx] {
		if cp := &c.captures[idx][i]; cp.open {
			if f := c.find(cp.id); f != nil {
				t.capture(f, idx, cp, m.Seq, b.Records)
			}
		}
	}
	t.endReached(idx)
}

// capture persists the records of buffer seq of channel idx for checkpoint f
// (cp: f's capture of the channel) unless it already did. A buffer that stays unprocessed
// across checkpoints is input state of each of them.
func (t *Task) capture(f *inflight, idx int, cp *capture, seq int64, recs []Record) {
	if seq <= cp.captured {
		return
	}
	cp.captured = seq
	t.persist(f, idx, recs)
}

func (t *Task) persist(f *inflight, idx int, recs []Record) {
	if f.snap.InputState[idx] == nil {
		f.snap.InputState[idx] = []Record{}
	}
	back := false
	if ig := t.gateOfChannel(idx); ig != nil {
		back = ig.feedback
	}
	for i := range recs {
		if recs[i].Split > splitIdle {
			f.snap.InputState[idx] = append(f.snap.InputState[idx], recs[i])
			f.stats.PersistedBytes += int64(recs[i].Size)
			if back {
				f.stats.BackEdgeBytes += int64(recs[i].Size)
			}
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
