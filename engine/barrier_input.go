package engine

import (
	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
)

// gateOfEachChannel lists, per input channel number, the gate it belongs to.
func (t *Task) gateOfEachChannel() []int {
	var out []int
	for gi, ig := range t.gates {
		for range ig.wm {
			out = append(out, gi)
		}
	}
	return out
}

// channelIndex numbers a channel of gate ig across the task's gates.
func (t *Task) channelIndex(ig *inputGate, ch *sim.Channel) int {
	return t.ck.gateBase[ig.index] + ch.GateIndex()
}

// initCheckpointing creates the barrier handler once the task's gates exist.
func (t *Task) initCheckpointing() {
	p := t.rt.cfg.Protocol
	if p == nil {
		return
	}
	if lp := t.rt.local(); lp != nil {
		t.initLocal(lp)
		return
	}
	c := &checkpointing{firstAt: map[int64]sim.Time{}, created: map[int64]sim.Time{}}
	var pointwise, feedback []bool
	for gi, ig := range t.gates {
		ig.index = gi
		c.gateBase = append(c.gateBase, len(c.chans))
		for _, ch := range ig.g.Channels() {
			c.chans = append(c.chans, ch)
			pointwise = append(pointwise, ig.part == Forward || ig.part == Broadcast)
			feedback = append(feedback, ig.feedback)
		}
	}
	if !t.hasFeedback() {
		feedback = nil
	}
	n := len(c.chans)
	if n == 0 {
		n = 1 // a source: the coordinator's trigger is its only barrier
		pointwise = []bool{true}
	}
	c.blocking = make([]bool, n)
	c.held = make([]bool, n)
	c.captures = make([][]capture, n)
	c.handler = p.NewHandler(checkpoint.HandlerConfig{Channels: n, Pointwise: pointwise, AlignedTimeout: t.rt.cfg.Checkpoint.AlignedTimeout,
		AbortOnEndOfPartition: t.rt.cfg.Checkpoint.NoCheckpointsAfterTasksFinish, Feedback: feedback})
	c.counter, _ = c.handler.(checkpoint.AlignmentCounter)
	t.ck = c
}

// onBarrier handles a barrier polled from channel ch of gate ig.
func (t *Task) onBarrier(ig *inputGate, ch *sim.Channel, m sim.Msg, ev *StreamEvent) {
	c := t.ck
	if c == nil {
		return
	}
	idx := t.channelIndex(ig, ch)
	t.rt.Hooks.fireBarrierReceived(t, ch, ev.Checkpoint)
	if m.Blocking {
		c.blocking[idx] = true
	}
	var overtaken []sim.Msg
	if m.Priority && !t.rt.mutation().DropInputState {
		// the data the barrier overtook at the receiver was sent before it: what
		// queues behind it with a lower send sequence number (data sent after it
		// queues behind it too), except the buffers it overtook at its sender,
		// which the sender persisted and which may have arrived since
		for i := 0; i < ch.QueuedIn(); i++ {
			if q := ch.QueuedInAt(i); !q.Event && q.Seq < m.Seq && (ev.OutputStateFrom == 0 || q.Seq < ev.OutputStateFrom) {
				overtaken = append(overtaken, q)
			}
		}
	}
	now := t.rt.w.Now()
	if _, seen := c.firstAt[ev.Checkpoint]; !seen && ev.Checkpoint > c.latest {
		c.firstAt[ev.Checkpoint] = now
		c.created[ev.Checkpoint] = ev.Time
		if len(c.chans) > 1 {
			defer t.rt.Hooks.fireFirstBarrier(t, ev.Checkpoint)
		}
	}
	if cp := c.captureOf(idx, ev.Checkpoint); cp != nil && cp.open && ev.OvertakenUpTo > 0 {
		// the barrier overtook buffers at its sender: they follow it and are input
		// state, so the channel's persistence ends with the last of them
		cp.upTo = ev.OvertakenUpTo
	}
	c.actions = c.handler.Barrier(idx, checkpoint.BarrierInfo{Checkpoint: ev.Checkpoint, Created: ev.Time, Unaligned: ev.Unaligned,
		Savepoint: t.rt.savepointKinds[ev.Checkpoint] != NoSavepoint}, now, c.actions[:0])
	t.execute(c.actions)
	if t.dead {
		return // the actions broke the contract: the job failed
	}
	if f := c.find(ev.Checkpoint); f != nil && f.unaligned {
		cp := c.captureFor(idx, f.id)
		for _, q := range overtaken {
			t.capture(f, idx, cp, q.Seq, q.Payload.(*Buffer).Records)
		}
		if ev.OvertakenUpTo > cp.captured && !cp.open {
			// the checkpoint started at this barrier: the buffers it overtook at
			// its sender are still to come
			t.startPersist(idx, f)
			c.captureOf(idx, f.id).upTo = ev.OvertakenUpTo
		}
	}
	t.endReached(idx)
	t.uploadReady()
	if c.blocking[idx] && !c.held[idx] {
		c.blocking[idx] = false
		ch.Resume()
	}
}

// onCancel handles a cancellation barrier.
func (t *Task) onCancel(ig *inputGate, ch *sim.Channel, ev *StreamEvent) {
	if t.ck == nil {
		return
	}
	c := t.ck
	c.actions = c.handler.Cancel(t.channelIndex(ig, ch), ev.Checkpoint, t.rt.w.Now(), c.actions[:0])
	t.execute(c.actions)
	t.uploadReady()
}

// onEndOfPartitionCkpt tells the handler a channel ended.
func (t *Task) onEndOfPartitionCkpt(ig *inputGate, ch *sim.Channel) {
	if t.ck == nil {
		return
	}
	c := t.ck
	c.actions = c.handler.EndOfPartition(t.channelIndex(ig, ch), t.rt.w.Now(), c.actions[:0])
	t.execute(c.actions)
	t.uploadReady()
}

// execute carries out barrier handler actions.
func (t *Task) execute(acts []checkpoint.Action) {
	if !t.keepsContract(acts) {
		return
	}
	c := t.ck
	now := t.rt.w.Now()
	for _, a := range acts {
		switch a.Kind {
		case checkpoint.ActBlock:
			if a.Channel < len(c.held) {
				c.held[a.Channel] = true
			}
			if !c.aligning {
				c.aligning, c.alignBytes = true, 0
			}
		case checkpoint.ActResume:
			c.aligning = false
			for i := range c.held {
				c.held[i] = false
				if c.blocking[i] && i < len(c.chans) {
					c.blocking[i] = false
					c.chans[i].Resume()
				}
			}
		case checkpoint.ActCheckpoint:
			t.takeCheckpoint(a.Checkpoint, a.Unaligned, a.At)
			if !a.Unaligned && a.At > 0 && len(t.outs) > 0 {
				at := a.At
				if at < now {
					at = now
				}
				t.node.Schedule(at, t, evOutputTimeout, a.Checkpoint, 0)
			}
		case checkpoint.ActPersist:
			id := a.Checkpoint
			if id == 0 {
				id = c.latest // the checkpoint just taken in this batch of actions
			}
			if f := c.find(id); f != nil && a.Channel < len(c.chans) {
				t.startPersist(a.Channel, f)
				t.persistCurrentFeedback(a.Channel, f)
			}
		case checkpoint.ActStopPersist:
			if a.Channel < len(c.captures) {
				t.stopPersist(a.Channel, a.Checkpoint)
			}
		case checkpoint.ActPrioritize:
			t.prioritize(a.Channel, a.Checkpoint)
		case checkpoint.ActAbort:
			t.abortLocal(a.Checkpoint, true)
			if a.Decline {
				t.rt.coord.sendMsg(t, &message{kind: msgDecline, task: t.index, sender: t, inc: t.attempt, id: a.Checkpoint,
					failure: checkpoint.ReasonInputEnded})
			}
		case checkpoint.ActAligned:
			if f := c.find(a.Checkpoint); f != nil {
				f.applyFigures(a) // unaligned: taken at the first barrier
			} else {
				c.fig = a
			}
		case checkpoint.ActTimer:
			at := a.At
			if at < now {
				at = now
			}
			t.node.Schedule(at, t, evCkptTimer, 0, 0)
		}
	}
}

// prioritize asks for the barrier of checkpoint id on channel idx to overtake the
// data before it: at the receiver when it is already queued here, otherwise at the
// sender.
func (t *Task) prioritize(idx int, id int64) {
	c := t.ck
	if idx >= len(c.chans) {
		return
	}
	ch := c.chans[idx]
	if _, ok := ch.PrioritizeQueued(isBarrier(id), nil); ok {
		t.prioPending = true
		return
	}
	ch.SendUpstream(id)
}

func isBarrier(id int64) func(sim.Msg) bool {
	return func(m sim.Msg) bool {
		ev, ok := m.Payload.(*StreamEvent)
		return ok && ev.Kind == EvBarrier && ev.Checkpoint == id
	}
}
