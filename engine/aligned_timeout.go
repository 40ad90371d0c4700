package engine

import (
	"github.com/ckptsim/ckptsim/sim"
)

// Upstream implements sim.PartitionListener: a consumer asks for the barrier of a
// checkpoint to overtake the data queued before it.
func (t *Task) Upstream(ch *sim.Channel, id int64) {
	if t.dead || t.ck == nil {
		return
	}
	t.overtakeQueued(ch, id)
}

// overtakeQueued makes the aligned barrier of checkpoint id, if it still waits in
// ch's output queue, overtake the data before it. While the checkpoint's upload
// waits for its barriers to leave, the overtaken buffers become this snapshot's
// output channel state, as Flink's aligned checkpoint timeout on the output side;
// otherwise they travel after the barrier, which says up to which send sequence
// number the consumer must persist them as input state.
func (t *Task) overtakeQueued(ch *sim.Channel, id int64) {
	var ev *StreamEvent
	match := func(m sim.Msg) bool {
		if isBarrier(id)(m) {
			ev = m.Payload.(*StreamEvent)
			return true
		}
		return false
	}
	f := t.ck.find(id)
	own := f != nil && f.queuedBarriers > 0 && !f.uploading
	t.overtaking = true // the barrier leaves inside Prioritize: upload after the state is in
	over, ok := ch.Prioritize(match, t.ck.scratch[:0])
	t.overtaking = false
	if !ok {
		return
	}
	ev.Unaligned = true
	oi, ci := t.outputOf(ch)
	if own {
		f.unaligned = true
		f.stats.Unaligned = true
		if len(over) > 0 {
			ev.OutputStateFrom = over[0].Seq
		}
		t.persistOvertaken(f, oi, ci, over)
	} else {
		if t.rt.mutation().OvertakenDropLast && len(over) > 0 {
			over = over[:len(over)-1] // mutant: the consumer is told of all but the last
		}
		for _, m := range over {
			if m.Seq > ev.OvertakenUpTo {
				ev.OvertakenUpTo = m.Seq
			}
		}
	}
	if oi >= 0 {
		t.outs[oi].sent[ci] = nil // nothing may be appended to the overtaken buffers
	}
	t.uploadReady()
}

// outputOf finds the output and channel number of an output channel.
func (t *Task) outputOf(ch *sim.Channel) (int, int) {
	for oi, o := range t.outs {
		for ci, oc := range o.channels {
			if oc == ch {
				return oi, ci
			}
		}
	}
	return -1, -1
}

// EventSent implements sim.EventSentListener: a barrier that could still have
// timed out in the queue has left; the upload may start once all have.
func (t *Task) EventSent(ch *sim.Channel, m sim.Msg) {
	ev, ok := m.Payload.(*StreamEvent)
	if t.dead || t.ck == nil || !ok || ev.Kind != EvBarrier || ev.OvertakeAt == 0 {
		return
	}
	if f := t.ck.find(ev.Checkpoint); f != nil && f.queuedBarriers > 0 {
		f.queuedBarriers--
		if !t.overtaking {
			t.maybeUpload(f)
		}
	}
}

// EventArrived implements sim.EventListener: an aligned barrier that may time out
// is announced as soon as it reaches the input queue (Flink's event announcement),
// so that it can overtake the data before it once its timeout passes.
func (t *Task) EventArrived(ch *sim.Channel, m sim.Msg) {
	ev, ok := m.Payload.(*StreamEvent)
	if t.dead || t.ck == nil || !ok || ev.Kind != EvBarrier || ev.Unaligned || ev.OvertakeAt == 0 {
		return
	}
	at := ev.OvertakeAt
	if now := t.rt.w.Now(); at < now {
		at = now
	}
	t.node.Schedule(at, t, evInputTimeout, ev.Checkpoint, 0)
}

// overtakeInputs makes the queued barriers of checkpoint id overtake the data
// before them in the input queues; the data they overtake becomes input state.
func (t *Task) overtakeInputs(id int64) {
	for _, ch := range t.ck.chans {
		var ev *StreamEvent
		_, ok := ch.PrioritizeQueued(func(m sim.Msg) bool {
			if isBarrier(id)(m) {
				ev = m.Payload.(*StreamEvent)
				return true
			}
			return false
		}, nil)
		if ok {
			ev.Unaligned = true
			t.prioPending = true
		}
	}
}
