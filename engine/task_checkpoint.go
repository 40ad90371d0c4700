package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
)

// Task event kinds of checkpointing.
const (
	evTrigger       uint32 = iota + 20 // the coordinator triggers checkpoint A (created B) at a source
	evNotify                           // checkpoint A completed
	evAbortCkpt                        // checkpoint A was aborted by the coordinator
	evCkptTimer                        // the barrier handler's timer
	evUploaded                         // the upload of checkpoint A finished (B: store status)
	evCommitRetry                      // retry the sink commits up to checkpoint A
	evOutputTimeout                    // checkpoint A's aligned barrier times out in the output queues
	evInputTimeout                     // checkpoint A's aligned barrier times out in the input queues
	evLateUpload                       // mutant: upload checkpoint A (size B) after acknowledging it
)

// checkpointing is a task's side of the checkpoint protocol: the barrier handler
// and what executing its actions needs.
type checkpointing struct {
	handler    checkpoint.BarrierHandler
	actions    []checkpoint.Action
	chans      []*sim.Channel // input channels numbered across gates
	gateBase   []int          // first channel number of each gate
	blocking   []bool         // the sender stopped after a blocking barrier
	held       []bool         // the handler keeps the channel blocked
	captures   [][]capture    // per input channel: the checkpoints whose input state it feeds
	inflight   []*inflight    // checkpoints started and not yet acknowledged
	firstAt    map[int64]sim.Time
	created    map[int64]sim.Time
	aligning   bool
	alignBytes int64
	latest     int64 // largest checkpoint id taken
	scratch    []sim.Msg
	// counter is the handler, when it counts the bytes processed during an
	// alignment; fig holds the figures it reported for a checkpoint not taken yet
	counter checkpoint.AlignmentCounter
	fig     checkpoint.Action
}

// inflight is one checkpoint a task has taken and not yet acknowledged.
type inflight struct {
	id          int64
	created     sim.Time
	unaligned   bool
	snap        *TaskSnapshot
	persistOpen int // channels still feeding input state
	syncEnd     sim.Time
	uploading   bool
	overtakeAt  sim.Time // when a forwarded aligned barrier may overtake queued data
	// queuedBarriers counts output channels whose barrier may still time out in
	// the queue: the upload waits until each left or overtook, so that the data
	// it overtakes is this snapshot's output channel state.
	queuedBarriers int
	stats          SubtaskCheckpointStats
}

// applyFigures takes the alignment figures the handler reported (ActAligned) as
// the subtask's start delay, alignment duration and bytes processed during
// alignment, as Flink reports them.
func (f *inflight) applyFigures(a checkpoint.Action) {
	f.stats.StartDelay, f.stats.Alignment, f.stats.ProcessedBytes = a.StartDelay, a.Alignment, a.Bytes
}

func (c *checkpointing) find(id int64) *inflight {
	for _, f := range c.inflight {
		if f.id == id {
			return f
		}
	}
	return nil
}

func (c *checkpointing) drop(id int64) {
	for i, f := range c.inflight {
		if f.id == id {
			c.inflight = append(c.inflight[:i], c.inflight[i+1:]...)
			return
		}
	}
}

// uploadReady starts the upload of every checkpoint whose input state is complete.
// It runs after a whole batch of actions, so that the channels a checkpoint
// persists are known before its upload may start.
func (t *Task) uploadReady() {
	if t.dead {
		return // cancelled while handling this event (a broken contract)
	}
	for _, f := range t.ck.inflight {
		t.maybeUpload(f)
	}
}

// takeCheckpoint forwards the barrier, snapshots the task (the synchronous phase)
// and starts the upload once the input channel state is complete.
func (t *Task) takeCheckpoint(id int64, unaligned bool, overtakeAt sim.Time) {
	c := t.ck
	now := t.rt.w.Now()
	if id <= c.latest {
		return
	}
	c.latest = id
	created, first := c.created[id], c.firstAt[id]
	if _, ok := c.firstAt[id]; !ok {
		first, created = now, now
	}
	delete(c.firstAt, id)
	delete(c.created, id)
	if first < now && t.rt.Hooks.observesPhases() {
		t.notePhase(PhaseSpan{Checkpoint: id, Phase: PhaseAlignment, Start: first, End: now, Unaligned: unaligned,
			ProcessedBytes: c.alignBytes})
	}
	snap := &TaskSnapshot{Task: t.name, Chain: chainName(t.Chain), Subtask: t.Subtask, Parallelism: t.Chain[0].Parallelism,
		InputState: make([][]Record, len(c.chans)), OutputState: make([][][]Record, len(t.outs)),
		InputGates: t.gateOfEachChannel()}
	f := &inflight{id: id, created: created, unaligned: unaligned, snap: snap, overtakeAt: overtakeAt}
	f.stats = SubtaskCheckpointStats{Task: t.name, Checkpoint: id, StartDelay: first.Sub(created),
		Alignment: now.Sub(first), Unaligned: unaligned, ProcessedBytes: c.alignBytes}
	if c.fig.Checkpoint == id {
		f.applyFigures(c.fig) // the handler's, reported just before
		c.fig = checkpoint.Action{}
	}
	c.inflight = append(c.inflight, f)
	if t.finished || t.outputsEnded {
		for oi := range t.outs {
			snap.OutputState[oi] = make([][]Record, len(t.outs[oi].channels))
		}
	} else {
		t.forwardBarrier(f)
	}
	// synchronous phase: operator state, source offsets, sink pre-commit
	if t.state != nil {
		st, err := t.snapshotState(id)
		if err != nil {
			t.fail(fmt.Sprintf("snapshot of checkpoint %d: %v", id, err))
			return
		}
		snap.State = st
		f.stats.StateBytes, f.stats.FullStateBytes = st.IncrementalSize, st.FullSize
	}
	if t.src != nil {
		snap.Offsets = t.SourceOffsets()
		if shift := t.rt.mutation().SourceOffsetShift; shift != 0 {
			for sp := range snap.Offsets {
				snap.Offsets[sp] += shift
			}
		}
	}
	for _, op := range t.ops {
		if s, ok := op.(*sinkOp); ok && s.twoPhase {
			if snap.Txns == nil {
				snap.Txns = map[string][]int64{}
			}
			snap.Txns[s.ctx.Vertex.Name] = s.preCommit(id)
		}
	}
	if unaligned && t.cur != nil && t.curCh != nil {
		// the rest of the buffer being processed was sent before the barrier
		idx := t.channelIndex(t.curGate, t.curCh)
		t.persist(f, idx, t.cur.Records[t.cur.pos:])
		c.captureFor(idx, id).captured = t.curSeq
	}
	sync := sim.Duration(f.stats.FullStateBytes) // 1 GB/s copy: 1 ns per byte
	t.sliceCost += sync
	f.stats.Sync = sync
	f.syncEnd = now.Add(t.scaled(t.sliceCost))
	if t.rt.Hooks.observesPhases() {
		start := min(now.Add(t.scaled(t.sliceCost-sync)), f.syncEnd)
		t.notePhase(PhaseSpan{Checkpoint: id, Phase: PhaseSync, Start: start, End: f.syncEnd, Unaligned: unaligned,
			StateBytes: f.stats.StateBytes})
	}
	t.rt.noteSnapshot(t, id)
	if t.rt.savepointKinds[id].stops() {
		t.suspended = id // a synchronous savepoint: no more input until it completes or is aborted
	}
}

// forwardBarrier sends the barrier on every output: after the buffered data when
// aligned; ahead of it when unaligned, persisting what it overtook. Pointwise
// (forward, broadcast) edges stay aligned, as in Flink.
func (t *Task) forwardBarrier(f *inflight) {
	blocking := !f.unaligned && t.rt.cfg.Protocol.Guarantee() == checkpoint.ExactlyOnce
	for oi, o := range t.outs {
		o.flush()
		f.snap.OutputState[oi] = make([][]Record, len(o.channels))
		for i, ch := range o.channels {
			ev := &StreamEvent{Kind: EvBarrier, Checkpoint: f.id, Time: f.created, Unaligned: f.unaligned, OvertakeAt: f.overtakeAt}
			o.sent[i] = nil
			t.rt.Hooks.fireBarrierSent(t, ch, f.id)
			t.rt.countControl(eventSize)
			if f.unaligned && o.mode != Forward && o.mode != Broadcast {
				t.ck.scratch = ch.SendPriority(sim.Msg{Payload: ev, Size: eventSize}, t.ck.scratch[:0])
				if len(t.ck.scratch) > 0 {
					// set before the barrier can arrive: delivery is a later event
					ev.OutputStateFrom = t.ck.scratch[0].Seq
				}
				if t.rt.mutation().DropOutputState {
					continue
				}
				t.persistOvertaken(f, oi, i, t.ck.scratch)
				continue
			}
			if f.overtakeAt > 0 {
				f.queuedBarriers++ // EventSent counts it down when it leaves
			}
			// a back edge is never aligned: its barrier must not stop the sender
			// (the head waits for it behind data it can only take by sending)
			ch.Send(sim.Msg{Event: true, Payload: ev, Size: eventSize, Blocking: blocking && !o.feedback,
				Overtakes: t.rt.mutation().NonFIFOChannels})
		}
	}
}

// maybeUpload starts the asynchronous phase once the snapshot is taken and no
// channel still feeds its input state.
func (t *Task) maybeUpload(f *inflight) {
	if f.uploading || f.persistOpen > 0 || f.queuedBarriers > 0 || f.snap == nil || t.ck.find(f.id) == nil || t.overtaking {
		return
	}
	f.uploading = true
	size := f.snap.ChannelStateBytes()
	if f.snap.State != nil {
		size += f.snap.State.IncrementalSize
	}
	name := t.rt.snapshotName(f.id, t.name)
	if t.rt.mutation().AckBeforeUpload {
		// mutant: acknowledge now, upload later; a crash before then loses it
		if t.lateSnap == nil {
			t.lateSnap = map[int64]*TaskSnapshot{}
		}
		t.lateSnap[f.id] = f.snap
		t.ackNow(f)
		t.node.After(t.rt.store.Config().Latency+t.rt.store.TransferTime(size), t, evLateUpload, f.id, size)
		return
	}
	t.rt.store.Put(t.node, name, sim.Blob{Size: size, Data: f.snap}, t, evUploaded, f.id)
}

// ackNow acknowledges a checkpoint whose snapshot is (supposedly) durable.
func (t *Task) ackNow(f *inflight) {
	now := t.rt.w.Now()
	start := f.syncEnd
	if start > now {
		start = now
	}
	f.stats.Async = now.Sub(start)
	f.stats.AckAt = now
	if t.rt.Hooks.observesPhases() {
		t.notePhase(PhaseSpan{Checkpoint: f.id, Phase: PhaseAsync, Start: start, End: now, Unaligned: f.unaligned,
			PersistedBytes: f.stats.PersistedBytes, StateBytes: f.stats.StateBytes})
	}
	t.ck.drop(f.id)
	t.rt.coord.send(t, msgAck, f.id, f.snap, &f.stats)
}

// uploaded finishes the asynchronous phase: acknowledge (or decline) to the
// coordinator.
func (t *Task) uploaded(id int64, status int64) {
	c := t.ck
	f := c.find(id)
	if f == nil {
		return
	}
	if status != sim.StoreOK {
		if t.rt.Hooks.observesPhases() {
			now := t.rt.w.Now()
			t.notePhase(PhaseSpan{Checkpoint: id, Phase: PhaseAsync, Start: min(f.syncEnd, now), End: now,
				Unaligned: f.unaligned, PersistedBytes: f.stats.PersistedBytes, StateBytes: f.stats.StateBytes,
				Outcome: "declined"})
		}
		c.drop(id)
		t.rt.coord.send(t, msgDecline, id, nil, nil)
		return
	}
	if t.rt.mutation().SnapshotByReference {
		t.serialiseLate(f)
	}
	t.ackNow(f)
}

// serialiseLate is mutant snapshot-by-reference's: the heap backend's snapshot
// shared the live tables and is serialised only now, as its upload ends, so it
// holds the updates of every record processed since the barrier.
func (t *Task) serialiseLate(f *inflight) {
	if _, heap := t.state.(*state.Heap); !heap || f.snap == nil || f.snap.State == nil {
		return
	}
	if st, err := t.state.Snapshot(f.id, false); err == nil {
		f.snap.State = st
	}
}

// abortLocal forgets checkpoint id at this task; forward sends a cancellation
// barrier downstream.
func (t *Task) abortLocal(id int64, forward bool) {
	c := t.ck
	if t.rt.Hooks.observesPhases() {
		t.noteAborted(id)
	}
	if f := c.find(id); f != nil {
		c.drop(id)
	}
	c.forgetCaptures(id)
	delete(c.firstAt, id)
	delete(c.created, id)
	if id > c.latest {
		c.latest = id
	}
	if forward {
		ev := &StreamEvent{Kind: EvCancelBarrier, Checkpoint: id}
		for _, o := range t.outs {
			o.broadcastEvent(ev)
		}
	}
}

// handleCheckpointEvent handles the checkpoint events of the task's node.
func (t *Task) handleCheckpointEvent(ev sim.Event) {
	c := t.ck
	now := t.rt.w.Now()
	switch ev.Kind {
	case evTrigger:
		if c == nil {
			return
		}
		if t.finished {
			// a finished task snapshots what it has left (FLIP-147) without barriers
			c.firstAt[ev.A] = now
			c.created[ev.A] = sim.Time(ev.B)
			t.takeCheckpoint(ev.A, false, 0)
			t.uploadReady()
			return
		}
		if t.loopWait && (len(t.replay) > 0 || (t.cur != nil && t.curCh == nil)) {
			// a head replaying restored input: the checkpoint waits until the
			// replay is done (the replay precedes everything new, cycle.go)
			t.node.Schedule(max(now, t.busyUntil)+1, t, evTrigger, ev.A, ev.B)
			return
		}
		c.firstAt[ev.A] = now
		c.created[ev.A] = sim.Time(ev.B)
		kind := t.rt.savepointKinds[ev.A]
		if kind == DrainSavepoint && t.src != nil && t.wm < MaxWatermark {
			t.advance(MaxWatermark) // drain: the final watermark goes before the barrier
		}
		c.actions = c.handler.Barrier(0, checkpoint.BarrierInfo{Checkpoint: ev.A, Created: sim.Time(ev.B),
			Savepoint: kind != NoSavepoint}, now, c.actions[:0])
		t.execute(c.actions)
		t.uploadReady()
		t.wake()
	case evCkptTimer:
		c.actions = c.handler.Timer(now, c.actions[:0])
		t.execute(c.actions)
		t.uploadReady()
		t.wake()
	case evUploaded:
		t.uploaded(ev.A, ev.B)
	case evNotify:
		t.notifyComplete(ev.A)
	case evAbortCkpt:
		t.resume(ev.A)
		c.actions = c.handler.Abort(ev.A, now, c.actions[:0])
		t.execute(c.actions)
		t.abortLocal(ev.A, false)
		t.uploadReady()
		t.wake()
	case evCommitRetry:
		t.notifyComplete(ev.A)
	case evLateUpload:
		if b, ok := t.rt.store.Lookup(t.rt.snapshotName(ev.A, t.name)); !ok || b.Data == nil {
			t.rt.store.Put(t.node, t.rt.snapshotName(ev.A, t.name), sim.Blob{Size: ev.B, Data: t.lateSnap[ev.A]}, t, 0, 0)
		}
		delete(t.lateSnap, ev.A)
	case evInputTimeout:
		t.overtakeInputs(ev.A)
		t.wake()
	case evOutputTimeout:
		for _, o := range t.outs {
			for _, ch := range o.channels {
				t.overtakeQueued(ch, ev.A)
			}
		}
	}
}

// notifyComplete commits the sink transactions of checkpoints up to id.
func (t *Task) notifyComplete(id int64) {
	for _, op := range t.ops {
		if s, ok := op.(*sinkOp); ok && s.twoPhase {
			if !s.commitUpTo(id) {
				t.node.After(t.rt.cfg.CommitRetry, t, evCommitRetry, id, 0)
				return
			}
		}
	}
	t.rt.Hooks.fireNotified(t, id)
	if id == t.rt.coord.finalID {
		t.rt.coord.committedFinal(t)
	}
}
