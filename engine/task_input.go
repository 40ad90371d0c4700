package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim"
)

// inputGate is one input of the chain head: a gate and the per-channel watermark
// status of its channels.
type inputGate struct {
	g      *sim.Gate
	index  int // position among the task's gates
	part   Partitioning
	input  int
	wm     []sim.Time
	idle   []bool
	ended  []bool
	nEnded int
	// feedback marks a back edge; from is the producing vertex.
	feedback bool
	from     *Vertex
}

// pollPriority takes the first priority event (an overtaking barrier) of any gate.
func (t *Task) pollPriority() (*inputGate, *sim.Channel, sim.Msg, bool) {
	for _, ig := range t.gates {
		if ch, m, ok := ig.g.PollPriority(); ok {
			return ig, ch, m, true
		}
	}
	return nil, nil, sim.Msg{}, false
}

// poll takes the next message from the gates, round robin over gates.
func (t *Task) poll() (*inputGate, *sim.Channel, sim.Msg, bool) {
	n := len(t.gates)
	for k := 0; k < n; k++ {
		ig := t.gates[(t.nextGate+k)%n]
		if ch, m, ok := ig.g.Poll(); ok {
			t.nextGate = (t.nextGate + k + 1) % n
			return ig, ch, m, true
		}
	}
	return nil, nil, sim.Msg{}, false
}

// onMessage takes one message of an input channel: a buffer becomes the current
// buffer, an event (barrier, cancellation, end of partition) is handled at once.
func (t *Task) onMessage(ig *inputGate, ch *sim.Channel, m sim.Msg) {
	if !m.Event {
		b := m.Payload.(*Buffer)
		t.m.BuffersIn++
		if t.ls != nil && !t.localReceive(ig, ch, b.Seq, b.Epoch, b.Stamp) {
			ch.Recycle()
			t.rt.pool.put(b)
			return
		}
		t.persistBuffer(ig, ch, m)
		if len(b.Records) == 0 {
			ch.Recycle()
			t.rt.pool.put(b)
			return
		}
		t.cur, t.curCh, t.curGate, t.curInput, t.curSeq = b, ch, ig, ig.input, m.Seq
		return
	}
	ev := m.Payload.(*StreamEvent)
	i := ch.GateIndex()
	switch ev.Kind {
	case EvBarrier:
		t.onBarrier(ig, ch, m, ev)
	case EvCancelBarrier:
		t.onCancel(ig, ch, ev)
	case EvEndOfPartition:
		if t.ls != nil && !t.localReceive(ig, ch, ev.Seq, ev.Epoch, ev.Stamp) {
			return
		}
		if !ig.ended[i] {
			ig.ended[i] = true
			ig.nEnded++
		}
		t.onEndOfPartitionCkpt(ig, ch)
		t.updateWatermark()
		t.maybeFinish()
	}
}

// onMarker handles a watermark or idleness marker of channel i.
func (t *Task) onMarker(ig *inputGate, i int, r *Record) {
	if r.Split == splitIdle {
		ig.idle[i] = true
	} else {
		if r.Time > ig.wm[i] {
			ig.wm[i] = r.Time
		}
		ig.idle[i] = false
	}
	t.updateWatermark()
}

// updateWatermark recomputes the task's event time: the minimum over channels that
// are neither idle nor ended; all ended means the end of event time.
func (t *Task) updateWatermark() {
	wm := MaxWatermark
	active := false
	allEnded := true
	for _, ig := range t.gates {
		if ig.feedback {
			continue // a back edge's watermark never holds the head back (cycle.go)
		}
		for i := range ig.wm {
			if ig.ended[i] {
				continue
			}
			allEnded = false
			if ig.idle[i] {
				continue
			}
			active = true
			if ig.wm[i] < wm {
				wm = ig.wm[i]
			}
		}
	}
	if !active && !allEnded {
		return
	}
	if wm > t.wm {
		t.advance(wm)
	}
}

// advance moves event time to wm through the chain, then tells the consumers.
func (t *Task) advance(wm sim.Time) {
	t.wm = wm
	for i, op := range t.ops {
		op.Watermark(wm, &t.links[i])
	}
	for _, o := range t.outs {
		o.broadcastMarker(splitWatermark, wm)
	}
}

// InputAvailable implements sim.GateListener.
func (t *Task) InputAvailable(_ *sim.Gate, priority bool) {
	if priority {
		t.prioPending = true
	}
	t.wake()
}

// ChannelBroken implements sim.GateListener and sim.PartitionListener: a lost
// connection fails the task.
func (t *Task) ChannelBroken(ch *sim.Channel) {
	t.fail(fmt.Sprintf("channel %d broken", ch.ID()))
}

// BufferAvailable implements sim.PartitionListener: backpressure ends.
func (t *Task) BufferAvailable(*sim.Partition) {
	if t.dead {
		return
	}
	if t.blocked {
		t.blocked = false
		t.m.Backpressured += t.rt.w.Now().Sub(t.bpSince)
	}
	t.wake()
}
