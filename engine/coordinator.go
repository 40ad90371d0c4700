package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
)

// CheckpointConfig is the checkpointing configuration, with Flink's meanings.
type CheckpointConfig struct {
	Interval          sim.Duration // execution.checkpointing.interval; 0 disables checkpoints
	Timeout           sim.Duration // .timeout (default 10 min)
	MinPause          sim.Duration // .min-pause
	MaxConcurrent     int          // .max-concurrent-checkpoints (default 1)
	TolerableFailures int          // .tolerable-failed-checkpoints
	AlignedTimeout    sim.Duration // .aligned-checkpoint-timeout (hybrid)
	Incremental       bool         // .incremental
	// NoCheckpointsAfterTasksFinish is .checkpoints-after-tasks-finish set to
	// false: no checkpoint is triggered while some but not all tasks finished,
	// and an end of partition aborts a pending checkpoint at its consumer.
	NoCheckpointsAfterTasksFinish bool
	Retention                     Retention // .externalized-checkpoint-retention
}

// CheckpointStatus is the fate of a checkpoint.
type CheckpointStatus string

// Checkpoint statuses.
const (
	StatusInProgress CheckpointStatus = "IN_PROGRESS"
	StatusCompleted  CheckpointStatus = "COMPLETED"
	StatusFailed     CheckpointStatus = "FAILED"
	// StatusLost: the job manager crashed while the checkpoint was in flight; the
	// new one knows only the completed checkpoints in the store.
	StatusLost CheckpointStatus = "LOST"
)

// CheckpointStats are Flink's per-checkpoint metrics.
type CheckpointStats struct {
	ID     int64
	Status CheckpointStatus
	// Failure is why a failed checkpoint failed; Reason says it in words, with
	// what caused it (the task that declined, the failure that caused the
	// failover).
	Failure      checkpoint.FailureReason
	Reason       string
	TriggerAt    sim.Time
	LatestAck    sim.Time
	CompletedAt  sim.Time
	Acknowledged int
	Total        int
	// Duration is end to end: trigger to last acknowledgement.
	Duration sim.Duration
	// StateSize is the checkpointed data size (the delta when incremental), FullSize
	// the full state size.
	StateSize, FullSize int64
	// ProcessedData is the in-flight data processed during alignment; PersistedData
	// the in-flight data persisted (> 0 only for unaligned checkpoints).
	ProcessedData, PersistedData int64
	Unaligned                    bool
	// Savepoint says whether it is a savepoint, and of which kind.
	Savepoint SavepointKind
	Subtasks  []SubtaskCheckpointStats
	// Task is set for a local protocol's checkpoints: each is one task's own.
	// Forced says a communication-induced protocol forced it; LogBytes is the
	// message log it uploaded.
	Task     string
	Forced   bool
	LogBytes int64
}

// CompletedCheckpoint is a durable restore point: what every task snapshotted.
type CompletedCheckpoint struct {
	ID        int64
	TriggerAt sim.Time
	Tasks     []*TaskSnapshot
	// Savepoint says whether it is a savepoint, and of which kind.
	Savepoint SavepointKind
	// MaxParallelism is the job's number of key groups when it was taken: a job
	// restored from it must have the same.
	MaxParallelism int
}

// Task returns the snapshot of the named task.
func (c *CompletedCheckpoint) Task(name string) *TaskSnapshot {
	for _, t := range c.Tasks {
		if t.Task == name {
			return t
		}
	}
	return nil
}

// Coordinator event kinds.
const (
	evCoordTrigger   uint32 = iota + 40 // periodic trigger timer
	evCoordMsg                          // a message from a task arrived (A = message id)
	evCoordTimeout                      // checkpoint A expired
	evCoordMetadata                     // metadata of checkpoint A written (B = status)
	evCoordRestart                      // restart the job now
	evCoordLost                         // the heartbeat of worker A timed out
	evCoordHeartbeat                    // check that every worker is reachable
)

type msgKind uint8

const (
	msgAck msgKind = iota + 1
	msgDecline
	msgFailed
	msgFinished
)

type message struct {
	kind   msgKind
	task   int   // index in the task list
	sender *Task // the task instance that sent it (a restarted task is a new one)
	inc    int   // attempt the task belongs to
	id     int64
	snap   *TaskSnapshot
	stats  *SubtaskCheckpointStats
	reason string
	// failure is why a task declined, when not that its upload failed.
	failure checkpoint.FailureReason
}

type pendingCheckpoint struct {
	id        int64
	triggerAt sim.Time
	acks      []*TaskSnapshot
	acked     int
	stats     CheckpointStats
	writing   bool
	savepoint SavepointKind
}

// Coordinator is the checkpoint coordinator and failover manager on the
// coordinator node ("job manager"): it triggers checkpoints, collects
// acknowledgements, completes or aborts checkpoints, writes completed checkpoint
// metadata durably to the checkpoint store, and restarts the job after failures.
type Coordinator struct {
	rt        *Runtime
	node      *sim.Node
	cfg       CheckpointConfig
	nextID    int64
	pending   []*pendingCheckpoint
	completed []*CompletedCheckpoint
	lastDone  sim.Time
	failedRun int // consecutive failed checkpoints
	inbox     map[int64]*message
	nextMsg   int64
	armed     bool
	stats     []CheckpointStats
	// folded is how many stats entries have had their subtasks folded into
	// older (stats_history.go)
	folded      int
	older       SubtaskSummary
	finalID     int64 // the checkpoint that ends a finished job
	monitoring  bool
	unreachable []sim.Time // since when each worker is cut off (0: reachable)
	// finished marks the tasks (by index) that reported finishing.
	finished map[int]bool
	// finalDone is set when the final checkpoint completed; committed marks the
	// tasks that processed its notification.
	finalDone bool
	committed map[int]bool
	// stopping is the stop-with-savepoint in progress (0: none); stopPoint is
	// the completed savepoint of a stop, a restore point until the job ended.
	stopping   int64
	stopPoint  *CompletedCheckpoint
	savepoints []*CompletedCheckpoint
	// local is the coordinator's side of a local protocol (nil otherwise).
	local *localCoord
}

func newCoordinator(rt *Runtime, node *sim.Node) *Coordinator {
	c := &Coordinator{rt: rt, node: node, cfg: rt.cfg.Checkpoint, nextID: 1, inbox: map[int64]*message{}, finished: map[int]bool{}}
	node.OnCrash(c.crashed)
	if rt.local() != nil {
		c.local = newLocalCoord(c)
	}
	node.OnRestart(c.recover)
	return c
}

// crashed runs when the coordinator's node crashes: the checkpoints in flight are
// lost with its memory (the statistics record them; nothing else reads them
// before the node restarts).
func (c *Coordinator) crashed() {
	now := c.rt.w.Now()
	for _, p := range c.pending {
		st := p.stats
		st.Status = StatusLost
		st.Reason = "the job manager crashed"
		if p.writing {
			st.Reason = "the job manager crashed while writing the checkpoint's metadata"
		}
		st.CompletedAt = now
		st.Duration = now.Sub(st.TriggerAt)
		c.addStats(st)
	}
	c.pending = nil
}

// InProgress returns the statistics of the checkpoints in flight now (at the end
// of a run: triggered, neither completed, failed nor lost).
func (c *Coordinator) InProgress() []CheckpointStats {
	out := make([]CheckpointStats, len(c.pending))
	for i, p := range c.pending {
		out[i] = p.stats
	}
	return out
}

// Stats returns the statistics of every checkpoint so far, in trigger order.
func (c *Coordinator) Stats() []CheckpointStats { return c.stats }

// Completed returns the completed checkpoints that are retained, oldest first.
func (c *Coordinator) Completed() []*CompletedCheckpoint { return c.completed }

// Latest is the latest completed checkpoint, or nil.
func (c *Coordinator) Latest() *CompletedCheckpoint {
	if len(c.completed) == 0 {
		return nil
	}
	return c.completed[len(c.completed)-1]
}

// restorePoint is the checkpoint a restart restores: the latest, as its snapshots
// are in the checkpoint store.
func (c *Coordinator) restorePoint() *CompletedCheckpoint {
	cp := c.latestRestorePoint()
	if cp == nil {
		return nil
	}
	if n := len(c.completed); c.rt.mutation().RestoreStale && n > 1 && cp == c.completed[n-1] {
		cp = c.completed[n-2] // mutant: one checkpoint too old
	}
	return c.rt.loadSnapshots(cp)
}

func (c *Coordinator) enabled() bool { return c.cfg.Interval > 0 && c.rt.cfg.Protocol != nil }

// start arms the periodic trigger and the heartbeat monitor.
func (c *Coordinator) start() {
	if c.enabled() && !c.armed && c.local == nil { // local protocols' tasks checkpoint on their own
		c.armed = true
		c.node.After(c.cfg.Interval, c, evCoordTrigger, 0, 0)
	}
	if !c.monitoring {
		c.monitoring = true
		c.node.After(c.rt.cfg.HeartbeatTimeout/4, c, evCoordHeartbeat, 0, 0)
	}
}

// heartbeat notices workers the coordinator cannot reach: one cut off for the
// heartbeat timeout is declared lost and its tasks fail over.
func (c *Coordinator) heartbeat() {
	rt := c.rt
	now := rt.w.Now()
	if c.unreachable == nil {
		c.unreachable = make([]sim.Time, len(rt.workers))
	}
	for i, w := range rt.workers {
		if !rt.net.Partitioned(c.node.ID(), w.ID()) {
			c.unreachable[i] = 0
			continue
		}
		if c.unreachable[i] == 0 {
			c.unreachable[i] = now
		}
		if now.Sub(c.unreachable[i]) >= rt.cfg.HeartbeatTimeout {
			c.unreachable[i] = now
			rt.failover(fmt.Sprintf("heartbeat of %s timed out (unreachable)", w.Name()), rt.lostTasks(w))
		}
	}
	if !rt.jobDone && !rt.jobFailed {
		c.node.After(rt.cfg.HeartbeatTimeout/4, c, evCoordHeartbeat, 0, 0)
	} else {
		c.monitoring = false
	}
}

// send delivers a message from a task to the coordinator over the network; it is
// lost if the link is cut or either node crashes first.
func (c *Coordinator) send(t *Task, kind msgKind, id int64, snap *TaskSnapshot, st *SubtaskCheckpointStats) {
	c.sendMsg(t, &message{kind: kind, task: t.index, sender: t, inc: t.attempt, id: id, snap: snap, stats: st})
}

func (c *Coordinator) sendMsg(t *Task, m *message) {
	if !c.node.Up() {
		return
	}
	if m.kind == msgAck || m.kind == msgDecline {
		c.rt.countControl(rpcSize)
	}
	c.nextMsg++
	c.inbox[c.nextMsg] = m
	c.rpc(t.node, c.node, c, evCoordMsg, c.nextMsg, 0)
}

// tell delivers a coordinator event to a task over the network.
func (c *Coordinator) tell(t *Task, kind uint32, a, b int64) {
	c.rt.countControl(rpcSize)
	c.rpc(c.node, t.node, t, kind, a, b)
}

// rpcRetry is the pause between attempts to send a control message across a cut
// link, as TCP retransmits: a message is lost only when an end crashes.
const rpcRetry = 100 * sim.Millisecond

// rpc sends a control message from one node to an event of another. The arrival is
// node-bound to the receiver's current incarnation; across a cut link it is
// retried (from the sender, so a crashed sender's messages die with it).
func (c *Coordinator) rpc(from, to *sim.Node, h sim.Handler, kind uint32, a, b int64) {
	if at, ok := c.rt.net.Deliver(from, to, rpcSize); ok {
		to.Schedule(at, h, kind, a, b)
		return
	}
	from.After(rpcRetry, &retry{c: c, from: from, to: to, inc: to.Incarnation(), h: h, kind: kind, a: a, b: b}, 0, 0, 0)
}

type retry struct {
	c        *Coordinator
	from, to *sim.Node
	inc      uint32
	h        sim.Handler
	kind     uint32
	a, b     int64
}

func (r *retry) Handle(sim.Event) {
	if r.to.Up() && r.to.Incarnation() == r.inc {
		r.c.rpc(r.from, r.to, r.h, r.kind, r.a, r.b)
	}
}

// Handle implements sim.Handler.
func (c *Coordinator) Handle(ev sim.Event) {
	switch ev.Kind {
	case evCoordTrigger:
		c.armed = false
		c.trigger()
		c.start()
	case evCoordMsg:
		m := c.inbox[ev.A]
		delete(c.inbox, ev.A)
		if m != nil {
			c.receive(m)
		}
	case evCoordTimeout:
		if p := c.find(ev.A); p != nil && !p.writing {
			c.fail(p, checkpoint.ReasonExpired, "expired")
		}
	case evCoordMetadata:
		c.metadataWritten(ev.A, ev.B)
	case evCoordRestart:
		c.rt.restart()
	case evCoordHeartbeat:
		c.heartbeat()
	case evCoordLocalLine:
		c.lineWritten(ev.A, ev.B)
	case evCoordLost:
		if n := c.rt.w.Node(sim.NodeID(ev.A)); !n.Up() || n.Incarnation() != uint32(ev.B) {
			c.rt.failover(fmt.Sprintf("heartbeat of %s timed out", n.Name()), c.rt.lostTasks(n))
		}
	}
}

func (c *Coordinator) find(id int64) *pendingCheckpoint {
	for _, p := range c.pending {
		if p.id == id {
			return p
		}
	}
	return nil
}

// trigger starts a checkpoint if the configuration allows one now: sources get the
// trigger (and finished tasks snapshot directly).
func (c *Coordinator) trigger() {
	rt := c.rt
	now := rt.w.Now()
	if !rt.running || rt.jobDone || len(c.pending) >= max(1, c.cfg.MaxConcurrent) {
		return
	}
	if len(c.completed) > 0 && now.Sub(c.lastDone) < c.cfg.MinPause {
		return
	}
	if c.cfg.NoCheckpointsAfterTasksFinish && len(c.finished) > 0 && len(c.finished) < len(rt.tasks) {
		return // Flink's NOT_ALL_REQUIRED_TASKS_RUNNING: tried again at the next interval
	}
	if c.stopping != 0 {
		return // the periodic trigger pauses while the job stops with a savepoint
	}
	c.begin(NoSavepoint)
}

// triggerWaiting triggers, at a head that began waiting for its loop to drain,
// the pending checkpoints it never saw a barrier of: its forward inputs ended, so
// none will come (as for a finished task).
func (c *Coordinator) triggerWaiting(t *Task) {
	if c.local != nil || t.ck == nil {
		return
	}
	cur, aligning := t.ck.handler.Pending()
	for _, p := range c.pending {
		if p.acks[t.index] == nil && p.id > t.ck.latest && (!aligning || cur != p.id) {
			c.tell(t, evTrigger, p.id, int64(p.triggerAt))
		}
	}
}

// begin starts checkpoint (or savepoint) kind now: sources get the trigger (and
// finished tasks snapshot directly). It returns the checkpoint's id.
func (c *Coordinator) begin(kind SavepointKind) int64 {
	rt := c.rt
	now := rt.w.Now()
	id := c.nextID
	c.nextID++
	if kind.stops() {
		c.stopping, c.finalID = id, id
	} else if len(c.finished) == len(rt.tasks) && c.finalID == 0 {
		c.finalID = id
	}
	if kind != NoSavepoint {
		rt.savepointKinds[id] = kind
		rt.savepointOrder = append(rt.savepointOrder, id)
	}
	p := &pendingCheckpoint{id: id, triggerAt: now, acks: make([]*TaskSnapshot, len(rt.tasks)), savepoint: kind}
	p.stats = CheckpointStats{ID: id, Status: StatusInProgress, TriggerAt: now, Total: len(rt.tasks), Savepoint: kind}
	c.pending = append(c.pending, p)
	rt.w.TraceNote(0x747267, uint64(id), 0)
	rt.Hooks.fireCheckpointTriggered(id)
	for _, t := range rt.tasks {
		if t.src != nil || t.finished || t.loopWait {
			c.tell(t, evTrigger, id, int64(now))
		}
	}
	timeout := c.cfg.Timeout
	if timeout <= 0 {
		timeout = 10 * sim.Minute
	}
	c.node.After(timeout, c, evCoordTimeout, id, 0)
	return id
}

func (c *Coordinator) receive(m *message) {
	rt := c.rt
	if m.task >= len(rt.tasks) || rt.tasks[m.task] != m.sender {
		return // from a task that was cancelled or restarted since
	}
	switch m.kind {
	case msgFailed:
		rt.failover(m.reason, []*Task{m.sender})
	case msgFinished:
		if c.local != nil {
			c.finished[m.task] = true // the final local checkpoint follows
			return
		}
		t := rt.tasks[m.task]
		// a task that finished still owes the checkpoints it never saw a barrier of
		for _, p := range c.pending {
			if p.acks[m.task] == nil {
				c.tell(t, evTrigger, p.id, int64(p.triggerAt))
			}
		}
		c.finished[m.task] = true
		if len(c.finished) == len(rt.tasks) {
			c.trigger() // the final checkpoint commits what the sinks wrote
		}
	case msgDecline:
		if c.local != nil {
			c.local.localReport(m, false)
			return
		}
		if p := c.find(m.id); p != nil {
			if m.failure == checkpoint.ReasonInputEnded {
				c.fail(p, m.failure, "input of "+rt.tasks[m.task].name+" ended")
			} else {
				c.fail(p, checkpoint.ReasonDeclined, "declined by "+rt.tasks[m.task].name)
			}
		}
	case msgAck:
		if c.local != nil {
			c.local.localReport(m, true)
			return
		}
		p := c.find(m.id)
		if p == nil || p.acks[m.task] != nil {
			return
		}
		p.acks[m.task] = m.snap
		p.acked++
		rt.Hooks.fireAckReceived(m.sender, m.id)
		st := p.stats
		st.Acknowledged = p.acked
		if m.stats != nil {
			st.LatestAck = rt.w.Now()
			st.StateSize += m.stats.StateBytes
			st.FullSize += m.stats.FullStateBytes
			st.ProcessedData += m.stats.ProcessedBytes
			st.PersistedData += m.stats.PersistedBytes
			st.Unaligned = st.Unaligned || m.stats.Unaligned
			if st.Subtasks == nil { // one per task: no slack to grow into
				st.Subtasks = make([]SubtaskCheckpointStats, 0, len(p.acks))
			}
			st.Subtasks = append(st.Subtasks, *m.stats)
		}
		p.stats = st
		need := len(p.acks)
		if rt.mutation().CompleteWithoutAllAcks && need > 1 {
			need-- // mutant: one acknowledgement short is good enough
		}
		if p.acked >= need {
			c.writeMetadata(p)
		}
	}
}

// writeMetadata stores the completed checkpoint durably; it completes when the
// write is.
func (c *Coordinator) writeMetadata(p *pendingCheckpoint) {
	if p.writing {
		return
	}
	p.writing = true
	cp := &CompletedCheckpoint{ID: p.id, TriggerAt: p.triggerAt, Savepoint: p.savepoint, MaxParallelism: c.rt.job.MaxParallelism}
	for _, s := range p.acks {
		if s != nil {
			cp.Tasks = append(cp.Tasks, s)
		}
	}
	c.rt.store.Put(c.node, c.rt.metadataName(p.id), sim.Blob{Size: 1024, Data: cp}, c, evCoordMetadata, p.id)
	c.rt.Hooks.fireMetadataWriting(p.id)
	if c.rt.mutation().NotifyBeforeMetadata {
		for _, t := range c.rt.tasks { // mutant: completion announced before it is durable
			c.tell(t, evNotify, p.id, 0)
		}
	}
}

func (c *Coordinator) metadataWritten(id int64, status int64) {
	p := c.find(id)
	if p == nil {
		return
	}
	if status != sim.StoreOK {
		c.fail(p, checkpoint.ReasonFinalizeFailed, "metadata write failed")
		return
	}
	blob, _ := c.rt.store.Lookup(c.rt.metadataName(id))
	cp := blob.Data.(*CompletedCheckpoint)
	if p.savepoint != NoSavepoint {
		c.savepointCompleted(p, cp)
		return
	}
	now := c.rt.w.Now()
	c.remove(p)
	// older pending checkpoints are subsumed
	for _, old := range append([]*pendingCheckpoint(nil), c.pending...) {
		if old.id < id {
			c.fail(old, checkpoint.ReasonSubsumed, "subsumed")
		}
	}
	c.completed = append(c.completed, cp)
	c.discardSubsumed()
	c.lastDone = now
	c.failedRun = 0
	st := c.recordCompleted(p, now)
	c.rt.w.TraceNote(0x636d706c, uint64(id), uint64(st.StateSize))
	if c.rt.Hooks.fireCheckpointCompleted(cp) {
		return // a fault swallowed the notifications
	}
	for _, t := range c.rt.tasks {
		c.tell(t, evNotify, id, 0)
	}
	if id == c.finalID {
		c.finalDone = true // the job ends once every task has committed it
		c.committed = map[int]bool{}
	}
}

// retainedCheckpoints is how many completed checkpoints the coordinator keeps,
// with their snapshots in the checkpoint store (Flink's
// state.checkpoints.num-retained, 1 by default): the latest, which a failover
// restores, and the one before, which the restore-stale mutant restores instead.
// Older ones are discarded when a newer one completes, so that neither the
// coordinator nor the store grows with the length of a run.
const retainedCheckpoints = 2

// discardSubsumed drops the completed checkpoints beyond the retained ones and
// discards their snapshots and metadata from the checkpoint store. The job's
// first restore point is kept: a new job manager restores it until the job
// completes a checkpoint of its own (recover). Savepoints are never discarded.
func (c *Coordinator) discardSubsumed() {
	n := len(c.completed) - retainedCheckpoints
	if n <= 0 {
		return
	}
	for _, old := range c.completed[:n] {
		if old == c.rt.restoredFrom || old.Savepoint != NoSavepoint {
			continue
		}
		for _, s := range old.Tasks {
			c.rt.store.Discard(c.rt.snapshotName(old.ID, s.Task))
		}
		c.rt.store.Discard(c.rt.metadataName(old.ID))
	}
	c.completed = append(c.completed[:0], c.completed[n:]...)
}

// recordCompleted records the statistics of a checkpoint (or savepoint) that
// completed now and returns them.
func (c *Coordinator) recordCompleted(p *pendingCheckpoint, now sim.Time) CheckpointStats {
	st := p.stats
	st.Status = StatusCompleted
	st.CompletedAt = now
	if st.LatestAck == 0 {
		st.LatestAck = now
	}
	st.Duration = st.LatestAck.Sub(st.TriggerAt)
	sort.Slice(st.Subtasks, func(i, j int) bool { return st.Subtasks[i].Task < st.Subtasks[j].Task })
	c.addStats(st)
	return st
}

// committedFinal records that a task processed the final checkpoint's
// notification (its sink transactions are committed); the job finishes when all
// have.
func (c *Coordinator) committedFinal(t *Task) {
	if !c.finalDone || c.rt.tasks[t.index] != t {
		return
	}
	c.committed[t.index] = true
	if len(c.committed) == len(c.rt.tasks) {
		if c.stopping != 0 && c.stopping == c.finalID {
			c.rt.stopped(c.stopPoint)
			return
		}
		c.rt.finishJob()
	}
}

func (c *Coordinator) remove(p *pendingCheckpoint) {
	for i, q := range c.pending {
		if q == p {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return
		}
	}
}

// fail aborts a pending checkpoint; failures that count may fail the job.
func (c *Coordinator) fail(p *pendingCheckpoint, why checkpoint.FailureReason, reason string) {
	c.remove(p)
	st := p.stats
	st.Status = StatusFailed
	st.Failure, st.Reason = why, reason
	st.CompletedAt = c.rt.w.Now()
	st.Duration = st.CompletedAt.Sub(st.TriggerAt)
	c.addStats(st)
	c.rt.w.TraceNote(0x6661696c, uint64(p.id), 0)
	if p.id == c.finalID {
		c.finalID = 0 // the next periodic trigger takes another final checkpoint
	}
	for _, t := range c.rt.tasks {
		c.tell(t, evAbortCkpt, p.id, 0)
	}
	if p.savepoint != NoSavepoint {
		c.savepointFailed(p, reason) // savepoint failures never count (Flink's CheckpointFailureManager)
		return
	}
	if !why.Counts() {
		return
	}
	c.failedRun++
	if c.failedRun > c.cfg.TolerableFailures {
		c.failedRun = 0
		c.rt.failover(fmt.Sprintf("exceeded checkpoint tolerable failure threshold (%s)", reason), nil)
	}
}

// writing reports whether a checkpoint's metadata write is in flight.
func (c *Coordinator) writing() bool {
	for _, p := range c.pending {
		if p.writing {
			return true
		}
	}
	return false
}

// abortAll fails every pending checkpoint that can still fail (job failover).
func (c *Coordinator) abortAll(reason string) {
	c.finalDone = false
	for _, p := range append([]*pendingCheckpoint(nil), c.pending...) {
		if p.writing {
			// every task acknowledged and the metadata is being written: the
			// checkpoint will complete (the restart waits for it)
			continue
		}
		c.remove(p)
		st := p.stats
		st.Status = StatusFailed
		st.Failure, st.Reason = checkpoint.ReasonJobFailover, reason
		st.CompletedAt = c.rt.w.Now()
		st.Duration = st.CompletedAt.Sub(st.TriggerAt)
		c.addStats(st)
		if p.savepoint != NoSavepoint {
			c.rt.noteSavepoint(SavepointResult{ID: p.id, Kind: p.savepoint, Reason: reason})
		}
	}
	c.finalID = 0
	c.stopAborted("job failover: " + reason)
}

// recover runs when the coordinator node restarts (HA): everything it knew is gone
// except what is in the checkpoint store; it reloads the latest completed
// checkpoint and restarts the job from it.
func (c *Coordinator) recover() {
	c.pending = nil
	c.inbox = map[int64]*message{}
	c.armed = false
	c.monitoring = false
	c.unreachable = nil
	c.finalID = 0
	c.finished = map[int]bool{}
	c.completed = nil
	if c.local != nil {
		c.local.recoverLocal()
		c.rt.coordinatorFailover()
		return
	}
	c.stopAborted("job manager failover")
	c.stopPoint = nil
	latest := c.rt.restoredFrom // the job's first restore point, kept in its HA data
	for _, name := range append(c.rt.store.List("chk-"), c.rt.store.List("savepoint-")...) {
		if !strings.HasSuffix(name, "/_metadata") {
			continue
		}
		b, _ := c.rt.store.Lookup(name)
		cp, ok := b.Data.(*CompletedCheckpoint)
		// intermediate savepoints are no restore points; neither is anything
		// older than the job's first restore point (another job's)
		if !ok || cp.Savepoint == IntermediateSavepoint || cp.ID < c.rt.jobBase || (latest != nil && cp.ID <= latest.ID) {
			continue
		}
		latest = cp
	}
	if latest != nil {
		for i := range c.stats {
			if st := &c.stats[i]; st.ID == latest.ID && st.Status == StatusLost {
				st.Reason += "; its metadata reached the store, so the new job manager restores from it"
			}
		}
		c.completed = []*CompletedCheckpoint{latest}
		if latest.ID >= c.nextID {
			c.nextID = latest.ID + 1
		}
	}
	c.rt.coordinatorFailover()
}
