package engine

import (
	"fmt"
	"strings"

	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
)

// Task event kinds.
const (
	evRun      uint32 = iota + 1 // run the mailbox: process input for one slice
	evFlush                      // the buffer timeout expired: flush output buffers
	evSourceWM                   // periodic source watermark
	evWake                       // a rate-limited source has a record due
)

// TaskMetrics are a task's counters, as Flink's task metrics.
type TaskMetrics struct {
	RecordsIn, RecordsOut int64
	BuffersIn, BuffersOut int64
	// Busy is simulated CPU time spent on records and timers.
	Busy sim.Duration
	// Backpressured is time spent waiting for an output buffer.
	Backpressured sim.Duration
	// Started and Ended bound the task's life (Ended is zero while it runs).
	Started, Ended sim.Time
}

// Idle is the time neither busy nor backpressured, up to now.
func (m TaskMetrics) Idle(now sim.Time) sim.Duration {
	end := m.Ended
	if end == 0 {
		end = now
	}
	return end.Sub(m.Started) - m.Busy - m.Backpressured
}

// Task is one parallel instance of a chain of operators: a mailbox state machine
// driven only by simulator events. It takes network buffers from its input gates,
// runs their records through the chain in slices of simulated CPU time, and writes
// results into output buffers; when no output buffer is free it is backpressured.
type Task struct {
	rt      *Runtime
	name    string
	Chain   []*Vertex
	Subtask int
	node    *sim.Node
	ops     []Operator
	costs   []sim.Duration
	links   []chainLink
	batch   *chainBatch // set when every operator of the chain takes runs of records
	ctxs    []*OpContext
	state   state.Backend
	gates   []*inputGate
	outs    []*output
	src     *sourceState

	// Slowdown multiplies the task's CPU costs (a straggler); 1 is normal.
	Slowdown float64

	scheduled  bool
	lostWith   uint32 // the incarnation of its worker it died with (0: none)
	busyUntil  sim.Time
	sliceCost  sim.Duration
	cur        *Buffer
	curCh      *sim.Channel
	curGate    *inputGate
	curSeq     int64
	curInput   int
	nextGate   int
	wm         sim.Time
	finished   bool
	failed     bool
	blocked    bool
	bpSince    sim.Time
	flushArmed bool
	wmDue      bool
	// prioPending is set when a priority event arrived and may not be taken yet.
	prioPending bool
	// loopWait is set on the head of a cycle whose forward inputs ended: it
	// waits for its loop to drain (engine/cycle.go).
	loopWait bool
	// outputsEnded: the task sent end-of-partition downstream (endOutputs).
	outputsEnded bool
	// loopDone: the head's loop drained and its outputs ended (cycle.go).
	loopDone bool

	index   int  // position in the attempt's task list
	region  int  // pipelined region (see computeRegions)
	attempt int  // deployment the task belongs to
	dead    bool // cancelled or crashed: its events are ignored
	ck      *checkpointing
	ls      *localState  // the local protocol's side, when one runs
	replay  []replayItem // restored channel state still to process
	// overtaking is set while a queued barrier is being made to overtake data.
	overtaking bool
	// suspended is the stop-with-savepoint the task took its snapshot of: it takes
	// no input until the savepoint completes (the job ends) or is aborted.
	suspended int64
	// lateSnap holds snapshots a mutant acknowledged before uploading them.
	lateSnap map[int64]*TaskSnapshot

	m TaskMetrics
}

// Name is the task's name: its chain and subtask index, e.g. "source->map[2]".
func (t *Task) Name() string { return t.name }

// Node is the worker node the task runs on.
func (t *Task) Node() *sim.Node { return t.node }

// World is the world the task runs in.
func (t *Task) World() *sim.World { return t.rt.w }

// Metrics returns the task's counters, including a backpressure period still going on.
func (t *Task) Metrics() TaskMetrics {
	m := t.m
	if now := t.rt.w.Now(); t.blocked && now > t.bpSince {
		m.Backpressured += now.Sub(t.bpSince)
	}
	return m
}

// Finished reports whether the task consumed all its input and ended.
func (t *Task) Finished() bool { return t.finished }

// Failed reports whether the task failed (a broken channel, a crash).
func (t *Task) Failed() bool { return t.failed }

// Watermark is the task's current event time.
func (t *Task) Watermark() sim.Time { return t.wm }

// State is the task's keyed state backend, nil when no operator is keyed.
func (t *Task) State() state.Backend { return t.state }

// Aligning reports whether the task has taken a first barrier of a checkpoint and
// is waiting for the others.
func (t *Task) Aligning() bool {
	if t.ck == nil {
		return false
	}
	_, ok := t.ck.handler.Pending()
	return ok
}

// PendingCommits is the number of sink transactions the task pre-committed and has
// not committed yet.
func (t *Task) PendingCommits() int {
	n := 0
	for _, op := range t.ops {
		if s, ok := op.(*sinkOp); ok {
			n += len(s.pending)
		}
	}
	return n
}

// HasTwoPhaseSink reports whether the task's chain ends in a two-phase-commit sink.
func (t *Task) HasTwoPhaseSink() bool {
	for _, op := range t.ops {
		if s, ok := op.(*sinkOp); ok && s.twoPhase {
			return true
		}
	}
	return false
}

// OutputChannels lists the channels the task writes to.
func (t *Task) OutputChannels() []*sim.Channel {
	var out []*sim.Channel
	for _, o := range t.outs {
		out = append(out, o.channels...)
	}
	return out
}

// Operators are the operator instances of the chain.
func (t *Task) Operators() []Operator { return t.ops }

// chainName names a chain by its vertices, "source->map".
func chainName(chain []*Vertex) string {
	names := make([]string, len(chain))
	for i, v := range chain {
		names[i] = v.Name
	}
	return strings.Join(names, "->")
}

// runNow takes a mailbox step at once when the task is idle (not busy and none
// scheduled), which is what a wake would schedule for now, without the event;
// otherwise it wakes the task.
func (t *Task) runNow() {
	if !t.scheduled && t.busyUntil <= t.rt.w.Now() {
		t.run()
		return
	}
	t.wake()
}

// wake schedules a mailbox step, at once or when the task is no longer busy,
// unless one is scheduled or the task cannot run.
func (t *Task) wake() {
	if t.scheduled || t.failed || t.dead || t.suspended != 0 || (t.finished && len(t.replay) == 0) {
		return
	}
	at := t.rt.w.Now()
	if t.busyUntil > at {
		at = t.busyUntil
	}
	t.scheduled = true
	t.node.Schedule(at, t, evRun, int64(t.Subtask), 0)
}

// Handle implements sim.Handler for the task's mailbox and timers.
func (t *Task) Handle(ev sim.Event) {
	if t.dead {
		return
	}
	defer t.recoverIOError()
	if ev.Kind >= evLocalTimer && t.ls != nil {
		t.handleLocalEvent(ev)
		return
	}
	if ev.Kind >= evTrigger {
		t.handleCheckpointEvent(ev)
		return
	}
	switch ev.Kind {
	case evRun:
		t.scheduled = false
		t.run()
	case evFlush:
		t.flushArmed = false
		if !t.finished {
			for _, o := range t.outs {
				o.flush()
			}
		}
	case evSourceWM:
		if !t.finished && !t.failed {
			t.wmDue = true
			t.wake()
			t.node.After(t.src.gen.spec.WatermarkInterval, t, evSourceWM, 0, 0)
		}
	case evWake:
		t.src.wakeArmed = false
		t.runNow()
	case evLoopCheck:
		if int(ev.A) == t.attempt {
			t.checkLoop()
		}
	}
}

// armFlusher arms the buffer timeout, unless it is armed or every buffer leaves
// at once.
func (t *Task) armFlusher() {
	if !t.flushArmed && !t.rt.flushAll { // flushAll: every buffer leaves at once
		t.flushArmed = true
		t.node.After(t.rt.cfg.BufferTimeout, t, evFlush, 0, 0)
	}
}

// run is one mailbox step: it processes input until the slice's CPU time reaches
// the quantum, the input runs dry or the outputs are full, then stays busy for the
// CPU time it used.
func (t *Task) run() {
	if t.failed || t.suspended != 0 || (t.finished && len(t.replay) == 0) {
		return
	}
	now := t.rt.w.Now()
	t.sliceCost = 0
	quantum := t.rt.cfg.Quantum
	// a task restored finished (local protocols) still re-sends its logged messages
	for t.sliceCost < quantum && (!t.finished || len(t.replay) > 0) && !t.failed {
		if t.ls != nil && t.ls.due && t.cur == nil {
			t.localTimer()
			continue
		}
		if t.cur == nil && len(t.replay) > 0 {
			if !t.outputsAvailable() {
				if !t.blocked {
					t.blocked = true
					t.bpSince = now.Add(t.scaled(t.sliceCost))
				}
				break
			}
			t.nextReplay()
			continue
		}
		if t.cur != nil && t.curCh == nil {
			// restored input channel state comes before any new input
			if !t.outputsAvailable() {
				if !t.blocked {
					t.blocked = true
					t.bpSince = now.Add(t.scaled(t.sliceCost))
				}
				break
			}
			t.processRecords(quantum)
			continue
		}
		if t.wmDue {
			t.wmDue = false
			t.sourceWatermark()
			continue
		}
		if t.prioPending {
			if ig, ch, m, ok := t.pollPriority(); ok {
				t.onMessage(ig, ch, m)
				continue
			}
			t.prioPending = false
		}
		if (t.cur != nil || t.src != nil) && !t.outputsAvailable() {
			if !t.blocked {
				t.blocked = true
				t.bpSince = now.Add(t.scaled(t.sliceCost))
			}
			break
		}
		if t.cur != nil {
			t.processRecords(quantum)
			continue
		}
		if t.src != nil {
			if !t.sourceRecords(quantum) {
				break
			}
			continue
		}
		ig, ch, m, ok := t.poll()
		if !ok {
			break
		}
		t.onMessage(ig, ch, m)
	}
	if t.sliceCost > 0 {
		d := t.scaled(t.sliceCost)
		t.m.Busy += d
		t.busyUntil = now.Add(d)
		// the next step is due when the quantum ran out; when the input ran dry
		// instead, whatever brings new work wakes the task (at busyUntil at the
		// earliest)
		if !t.blocked && t.sliceCost >= quantum {
			t.scheduled = true
			t.node.Schedule(t.busyUntil, t, evRun, int64(t.Subtask), 0)
		}
	}
	if t.finished {
		t.m.Ended = t.busyUntil
		if t.m.Ended < now {
			t.m.Ended = now
		}
	}
}

// scaled is d, a CPU cost, under the task's Slowdown.
func (t *Task) scaled(d sim.Duration) sim.Duration {
	if t.Slowdown > 0 && t.Slowdown != 1 {
		return sim.Duration(float64(d) * t.Slowdown)
	}
	return d
}

// outputsAvailable reports whether every output has a free buffer, asking to be
// notified by the first that has none.
func (t *Task) outputsAvailable() bool {
	for _, o := range t.outs {
		if !o.part.Available() {
			o.part.NotifyWhenAvailable()
			return false
		}
	}
	return true
}

// maybeFinish finishes the task once every input channel ended (or waits for its
// loop to drain when only back edges are open).
func (t *Task) maybeFinish() {
	for _, ig := range t.gates {
		if ig.nEnded < len(ig.wm) {
			if t.forwardEnded() {
				t.waitLoop() // only back edges are open: wait for the loop to drain
			}
			return
		}
	}
	t.finish()
}

// finish ends the task: final watermark, operators' Finish, remaining buffers and
// end-of-partition to every consumer (endOutputs), then its inputs close.
func (t *Task) finish() {
	if t.finished {
		return
	}
	t.endOutputs()
	t.finished = true
	for _, ig := range t.gates {
		ig.g.Close()
	}
	t.m.Ended = t.rt.w.Now()
	if t.ls != nil {
		t.ls.acts = t.ls.h.Finished(t.rt.w.Now(), t.ls.acts[:0])
		t.executeLocal(t.ls.acts)
	}
	t.rt.taskFinished(t)
}

// endOutputs is the first half of finish: final watermark, operators' Finish,
// remaining buffers and end-of-partition to every consumer. The head of a drained
// cycle does it before its back edges end (cycle.go).
func (t *Task) endOutputs() {
	if t.outputsEnded {
		return
	}
	t.outputsEnded = true
	if t.wm < MaxWatermark {
		t.advance(MaxWatermark)
	}
	for i, op := range t.ops {
		op.Finish(&t.links[i])
	}
	if t.ls != nil {
		t.localEndOfPartition()
	} else {
		eop := &StreamEvent{Kind: EvEndOfPartition}
		for _, o := range t.outs {
			o.broadcastEvent(eop)
		}
	}
}

// recoverIOError turns a failed read of the state backend's disk into a task
// failure (as an IOException fails a Flink task); other panics stay panics.
func (t *Task) recoverIOError() {
	if r := recover(); r != nil {
		e, ok := r.(*state.IOError)
		if !ok {
			panic(r)
		}
		t.fail(e.Error())
	}
}

// fail fails the task for reason, once, unless it finished or is dead.
func (t *Task) fail(reason string) {
	if t.failed || t.finished || t.dead {
		return
	}
	t.failed = true
	t.rt.taskFailed(t, reason)
}

// Describe summarises the task's state for failure reports: mailbox, blocked and
// persisting channels, queues and credits, the checkpoint being aligned.
func (t *Task) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s on %s: finished=%v failed=%v dead=%v scheduled=%v blocked=%v busyUntil=%v cur=%v replay=%d wm=%v\n",
		t.name, t.node.Name(), t.finished, t.failed, t.dead, t.scheduled, t.blocked, t.busyUntil, t.cur != nil, len(t.replay), t.wm)
	if t.ck != nil {
		id, pending := t.ck.handler.Pending()
		fmt.Fprintf(&b, "  checkpoint: latest=%d pending=%v/%d inflight=%d\n", t.ck.latest, pending, id, len(t.ck.inflight))
	}
	for gi, ig := range t.gates {
		for _, ch := range ig.g.Channels() {
			idx := ch.GateIndex()
			if t.ck != nil {
				idx = t.channelIndex(ig, ch)
			}
			fmt.Fprintf(&b, "  in gate %d ch %d: queued=%d inUse=%d ended=%v", gi, idx, ch.QueuedIn(), ch.InUse(), ig.ended[ch.GateIndex()])
			if t.ck != nil && idx < len(t.ck.held) {
				fmt.Fprintf(&b, " held=%v blocking=%v persisting=%v", t.ck.held[idx], t.ck.blocking[idx], t.ck.persisting(idx))
			}
			fmt.Fprintf(&b, " sender: queued=%d credit=%d blocked=%v broken=%v bufsize=%d\n", ch.QueuedOut(), ch.Credit(), ch.Blocked(), ch.Broken(), ch.BufferSize())
		}
	}
	for oi, o := range t.outs {
		fmt.Fprintf(&b, "  out %d: pool %d/%d\n", oi, o.part.InUse(), o.part.PoolSize())
	}
	return b.String()
}
