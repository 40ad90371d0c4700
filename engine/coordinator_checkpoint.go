package engine

import (
	"fmt"
	"sort"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
)

// find is the pending checkpoint id, or nil.
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

// receive handles a task's message: an acknowledgement (completing the
// checkpoint once every task acknowledged), a decline, a failure or a finish.
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

// metadataWritten runs when the metadata write of checkpoint id ended with
// status: the checkpoint completes (tasks are notified) or fails.
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

// remove drops p from the pending checkpoints.
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
