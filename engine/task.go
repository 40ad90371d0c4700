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

// chainLink is the collector of op i: it feeds op i+1, or the outputs after the
// last op.
type chainLink struct {
	t        *Task
	i        int
	next     Operator     // op i+1; nil for the last op
	nextLink *chainLink   // op i+1's collector
	cost     sim.Duration // op i+1's CPU cost per record
}

// linkChain points each link of the chain at the operator it feeds, and sets up
// batches when every operator can take them.
func (t *Task) linkChain() {
	for i := range t.links {
		l := &t.links[i]
		l.t, l.i = t, i
		if n := i + 1; n < len(t.ops) {
			l.next, l.nextLink, l.cost = t.ops[n], &t.links[n], t.costs[n]
		}
	}
	if batching {
		t.batch = newChainBatch(t.ops, t.costs)
	}
}

// batching lets chains take records in batches; tests turn it off to check that
// batches change nothing.
var batching = true

func (c *chainLink) Collect(r *Record) {
	if c.next != nil {
		c.t.sliceCost += c.cost
		c.next.Process(0, r, c.nextLink)
		return
	}
	t := c.t
	t.m.RecordsOut++
	for _, o := range t.outs {
		o.emit(r)
	}
}

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

func chainName(chain []*Vertex) string {
	names := make([]string, len(chain))
	for i, v := range chain {
		names[i] = v.Name
	}
	return strings.Join(names, "->")
}

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
		t.wake()
	case evLoopCheck:
		if int(ev.A) == t.attempt {
			t.checkLoop()
		}
	}
}

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
		if !t.blocked {
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

func (t *Task) scaled(d sim.Duration) sim.Duration {
	if t.Slowdown > 0 && t.Slowdown != 1 {
		return sim.Duration(float64(d) * t.Slowdown)
	}
	return d
}

func (t *Task) outputsAvailable() bool {
	for _, o := range t.outs {
		if !o.part.Available() {
			o.part.NotifyWhenAvailable()
			return false
		}
	}
	return true
}

// steady reports whether run's loop, after a record, would go straight on to the
// next record of the same input with no other work first: the slice has CPU time
// left, no watermark or priority event is due and every output has a free buffer.
// The record loops below continue only while it holds, so batching records into
// one loop does not change what run does.
func (t *Task) steady(quantum sim.Duration) bool {
	if t.sliceCost >= quantum || t.finished || t.failed {
		return false
	}
	if t.cur == nil {
		if t.src == nil || len(t.replay) > 0 {
			return false
		}
	} else if t.curCh == nil {
		return t.outputsReady() // restored channel state: run checks only the outputs
	}
	return !t.wmDue && !t.prioPending && t.outputsReady()
}

// outputsReady is outputsAvailable without asking to be notified.
func (t *Task) outputsReady() bool {
	for _, o := range t.outs {
		if !o.part.Available() {
			return false
		}
	}
	return true
}

// processRecords runs records of the current buffer through the chain until the
// buffer is done or run would do something else before the next record.
func (t *Task) processRecords(quantum sim.Duration) {
	b := t.cur
	for {
		if rs, size := t.dataRun(b, quantum); len(rs) > 0 {
			n := t.runBatch(t.curInput, rs, size)
			b.pos += n
			t.m.RecordsIn += int64(n)
		} else {
			t.processOne(b)
		}
		if b.pos == len(b.Records) {
			if t.curCh != nil {
				t.curCh.Recycle()
				t.rt.pool.put(b)
			}
			t.cur = nil
			return
		}
		if t.cur != b || !t.steady(quantum) {
			return
		}
	}
}

// dataRun is the run of data records from b's position on that may go through the
// chain as one batch, and the largest size among them (none when the chain takes
// no batches or a marker is next).
func (t *Task) dataRun(b *Buffer, quantum sim.Duration) ([]Record, int32) {
	if t.batch == nil {
		return nil, 0
	}
	rs := b.Records[b.pos:min(len(b.Records), b.pos+maxBatch)]
	var size int32
	for i := range rs {
		if rs[i].Split <= splitIdle {
			rs = rs[:i]
			break
		}
		size = max(size, rs[i].Size)
	}
	return rs[:min(len(rs), t.batchLimit(quantum, size))], size
}

// processOne runs the next record of b, the current buffer, through the chain.
func (t *Task) processOne(b *Buffer) {
	r := &b.Records[b.pos]
	b.pos++
	if r.Split > splitIdle {
		t.m.RecordsIn++
		t.sliceCost += t.costs[0]
		t.ops[0].Process(t.curInput, r, &t.links[0])
	} else {
		t.onMarker(t.curGate, t.curCh.GateIndex(), r)
	}
}

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
// end-of-partition to every consumer.
func (t *Task) finish() {
	if t.finished {
		return
	}
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

// maxBatch is the most records a chain takes in one batch.
const maxBatch = 128

// chainBatch is what a chain needs to take records in batches: its operators as
// batchOps, the most CPU time one record can cost, and a scratch run per operator.
type chainBatch struct {
	ops  []batchOp
	cost sim.Duration // upper bound of one record's cost: the sum over the chain
	// sized is set when the records leaving the chain are no larger than the ones
	// entering it, or when the one operator that resizes them has only forwarding
	// operators before it: it can stop after a record it made larger, and the
	// records after that one were not touched.
	sized   bool
	scratch [][]Record
}

// newChainBatch returns the batch setup of a chain, or nil when an operator cannot
// take batches.
func newChainBatch(ops []Operator, costs []sim.Duration) *chainBatch {
	cb := &chainBatch{sized: true}
	touched := false // an operator before this one did more than forward records
	for i, op := range ops {
		bo, ok := op.(batchOp)
		if !ok || !bo.batchable() {
			return nil
		}
		if bo.resizes() && touched {
			cb.sized = false
		}
		if _, fwd := op.(forwardOp); !fwd {
			touched = true
		}
		cb.ops = append(cb.ops, bo)
		cb.cost += costs[i]
	}
	return cb
}

// batchLimit is how many records, none larger than size bytes (0: of any size),
// may go through the chain as one batch now: as many as run's loop would surely
// take one at a time. Before each record run checks that the slice has CPU time
// left and that every output has a free buffer; a record costs at most the
// chain's cost, and output.batchLimit bounds the buffers records take. (Nothing
// else that run checks can change while records are processed.)
func (t *Task) batchLimit(quantum sim.Duration, size int32) int {
	n := maxBatch
	if c := t.batch.cost; c > 0 {
		left := quantum - t.sliceCost
		n = min(n, int((left+c-1)/c))
	}
	if !t.batch.sized {
		size = 0
	}
	for _, o := range t.outs {
		n = min(n, o.batchLimit(size))
	}
	return max(n, 0)
}

// runBatch takes rs through the chain operator by operator, then writes the
// results to the outputs in order, and returns how many records of rs it took:
// all of them, unless the operator that resizes records made one larger than
// sizeCap (see chainBatch.sized). It has the effects of taking the records one at
// a time: the operators' states are their own, so only the order within each
// operator matters, and only the outputs, which come last, touch the network.
func (t *Task) runBatch(input int, rs []Record, sizeCap int32) int {
	cb := t.batch
	if !cb.sized {
		sizeCap = 0
	}
	taken := len(rs)
	var cost, before sim.Duration // before: the cost of the forwarding operators so far
	for i, op := range cb.ops {
		if len(rs) == 0 {
			break
		}
		if cb.scratch == nil {
			cb.scratch = make([][]Record, len(cb.ops))
		}
		if len(cb.scratch[i]) < len(rs) {
			cb.scratch[i] = make([]Record, maxBatch)
		}
		out, took := op.processBatch(input, rs, cb.scratch[i], sizeCap)
		if took < len(rs) { // only forwarding operators came before: they give back the rest
			cost -= before * sim.Duration(taken-took)
			taken = took
		}
		cost += t.costs[i] * sim.Duration(took)
		before += t.costs[i]
		rs, input = out, 0
	}
	t.sliceCost += cost
	t.m.RecordsOut += int64(len(rs))
	if len(t.outs) == 1 {
		t.outs[0].emitBatch(rs)
		return taken
	}
	for i := range rs {
		for _, o := range t.outs {
			o.emit(&rs[i])
		}
	}
	return taken
}
