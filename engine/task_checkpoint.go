package engine

import (
	"fmt"
	"slices"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
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
	persisting []int64        // checkpoint whose input state the channel feeds
	captured   []int64        // send sequence number of the last buffer persisted per channel
	capturedIn []int64        // the checkpoint captured refers to
	upTo       []int64        // persist until this sequence number (overtaken at the sender)
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

// CheckpointPhase is a phase of a subtask's checkpoint, as Flink reports them.
type CheckpointPhase uint8

// Checkpoint phases.
const (
	// PhaseAlignment is from the first barrier to the snapshot (waiting for the
	// barriers of the other input channels).
	PhaseAlignment CheckpointPhase = iota + 1
	// PhaseSync is the synchronous snapshot: operator state, offsets, pre-commit.
	PhaseSync
	// PhaseAsync is from the synchronous snapshot to the acknowledgement: the
	// persistence of in-flight data (unaligned) and the upload.
	PhaseAsync
)

func (p CheckpointPhase) String() string {
	switch p {
	case PhaseAlignment:
		return "alignment"
	case PhaseSync:
		return "sync"
	case PhaseAsync:
		return "async"
	}
	return "?"
}

// PhaseSpan is one phase of one subtask's checkpoint, for observers
// (Hooks.OnPhaseEnded, Task.OpenCheckpointPhases).
type PhaseSpan struct {
	Task       *Task
	Checkpoint int64
	Phase      CheckpointPhase
	Start, End sim.Time
	Unaligned  bool
	// ProcessedBytes is the in-flight data processed during alignment,
	// PersistedBytes the in-flight data persisted, StateBytes the checkpointed
	// state (the delta when incremental).
	ProcessedBytes, PersistedBytes, StateBytes int64
	// Outcome is empty when the phase completed, else why it ended early:
	// "aborted" or "declined" (the upload failed).
	Outcome string
}

func (t *Task) notePhase(p PhaseSpan) {
	if t.rt.Hooks.observesPhases() {
		p.Task = t
		t.rt.Hooks.firePhaseEnded(p)
	}
}

// OpenCheckpointPhases lists the checkpoint phases the task is in, ending now: the
// alignments it started and the snapshots it took and has not acknowledged (their
// async phase). Observers call it once a task is cancelled or its worker crashed,
// to close what the task never finished.
func (t *Task) OpenCheckpointPhases() []PhaseSpan {
	c := t.ck
	if c == nil {
		return nil
	}
	now := t.rt.w.Now()
	ids := make([]int64, 0, len(c.firstAt))
	for id := range c.firstAt {
		if id > c.latest {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []PhaseSpan
	for _, id := range ids {
		out = append(out, PhaseSpan{Task: t, Checkpoint: id, Phase: PhaseAlignment, Start: c.firstAt[id], End: now,
			ProcessedBytes: c.alignBytes})
	}
	for _, f := range c.inflight {
		start := min(f.syncEnd, now)
		out = append(out, PhaseSpan{Task: t, Checkpoint: f.id, Phase: PhaseAsync, Start: start, End: now,
			Unaligned: f.unaligned, PersistedBytes: f.stats.PersistedBytes, StateBytes: f.stats.StateBytes})
	}
	return out
}

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
	var pointwise []bool
	for gi, ig := range t.gates {
		ig.index = gi
		c.gateBase = append(c.gateBase, len(c.chans))
		for _, ch := range ig.g.Channels() {
			c.chans = append(c.chans, ch)
			pointwise = append(pointwise, ig.part == Forward || ig.part == Broadcast)
		}
	}
	n := len(c.chans)
	if n == 0 {
		n = 1 // a source: the coordinator's trigger is its only barrier
		pointwise = []bool{true}
	}
	c.blocking = make([]bool, n)
	c.held = make([]bool, n)
	c.persisting = make([]int64, n)
	c.captured = make([]int64, n)
	c.capturedIn = make([]int64, n)
	c.upTo = make([]int64, n)
	c.handler = p.NewHandler(checkpoint.HandlerConfig{Channels: n, Pointwise: pointwise, AlignedTimeout: t.rt.cfg.Checkpoint.AlignedTimeout,
		AbortOnEndOfPartition: t.rt.cfg.Checkpoint.NoCheckpointsAfterTasksFinish})
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
	if ev.OvertakenUpTo > 0 {
		// the barrier overtook buffers at its sender: they follow it and are input
		// state, so the channel's persistence ends with the last of them
		c.upTo[idx] = ev.OvertakenUpTo
	}
	c.actions = c.handler.Barrier(idx, checkpoint.BarrierInfo{Checkpoint: ev.Checkpoint, Created: ev.Time, Unaligned: ev.Unaligned,
		Savepoint: t.rt.savepointKinds[ev.Checkpoint] != NoSavepoint}, now, c.actions[:0])
	t.execute(c.actions)
	if f := c.find(ev.Checkpoint); f != nil && f.unaligned {
		for _, q := range overtaken {
			t.capture(f, idx, q.Seq, q.Payload.(*Buffer).Records)
		}
		if c.upTo[idx] > t.capturedSeq(idx, f.id) && c.persisting[idx] == 0 {
			c.persisting[idx] = f.id
			f.persistOpen++
		}
	}
	if c.persisting[idx] == 0 || c.upTo[idx] <= t.capturedSeq(idx, c.persisting[idx]) {
		if c.upTo[idx] > 0 && c.persisting[idx] != 0 {
			c.upTo[idx] = 0
			t.stopPersist(idx)
		}
		c.upTo[idx] = 0
	}
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
			if f := c.find(id); f != nil && a.Channel < len(c.chans) && c.persisting[a.Channel] == 0 {
				c.persisting[a.Channel] = f.id
				f.persistOpen++
			}
		case checkpoint.ActStopPersist:
			if a.Channel < len(c.upTo) && c.upTo[a.Channel] > t.capturedSeq(a.Channel, c.persisting[a.Channel]) {
				break // overtaken buffers still to come end the persistence
			}
			t.stopPersist(a.Channel)
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

// uploadReady starts the upload of every checkpoint whose input state is complete.
// It runs after a whole batch of actions, so that the channels a checkpoint
// persists are known before its upload may start.
func (t *Task) uploadReady() {
	for _, f := range t.ck.inflight {
		t.maybeUpload(f)
	}
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
	if t.finished {
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
		c.captured[idx], c.capturedIn[idx] = t.curSeq, id
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
			ch.Send(sim.Msg{Event: true, Payload: ev, Size: eventSize, Blocking: blocking})
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
	t.ackNow(f)
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
	for i, p := range c.persisting {
		if p == id {
			c.persisting[i] = 0
			c.upTo[i] = 0
		}
	}
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

// noteAborted reports the phases of checkpoint id that its abort cuts short.
func (t *Task) noteAborted(id int64) {
	c := t.ck
	now := t.rt.w.Now()
	if first, ok := c.firstAt[id]; ok && id > c.latest {
		t.notePhase(PhaseSpan{Checkpoint: id, Phase: PhaseAlignment, Start: first, End: now, ProcessedBytes: c.alignBytes,
			Outcome: "aborted"})
	}
	if f := c.find(id); f != nil {
		t.notePhase(PhaseSpan{Checkpoint: id, Phase: PhaseAsync, Start: min(f.syncEnd, now), End: now, Unaligned: f.unaligned,
			PersistedBytes: f.stats.PersistedBytes, StateBytes: f.stats.StateBytes, Outcome: "aborted"})
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
