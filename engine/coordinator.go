package engine

import (
	"fmt"
	"strings"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
)

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

// msgKind is what a task tells the coordinator.
type msgKind uint8

const (
	msgAck msgKind = iota + 1
	msgDecline
	msgFailed
	msgFinished
)

// message is one message from a task to the coordinator, kept in the inbox until
// it arrives.
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

// pendingCheckpoint is a checkpoint (or savepoint) triggered and neither
// completed nor aborted: the acknowledgements so far.
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

// newCoordinator creates the coordinator of rt on node.
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

// enabled reports whether the job checkpoints at all.
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
			rt.failover(fmt.Sprintf("heartbeat of %s timed out (unreachable)", w.Name()), rt.tasksOn(w))
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

// sendMsg delivers m from task t to the coordinator over the network.
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

// retry is an rpc waiting to be sent again after a cut link.
type retry struct {
	c        *Coordinator
	from, to *sim.Node
	inc      uint32
	h        sim.Handler
	kind     uint32
	a, b     int64
}

// Handle implements sim.Handler: send again, unless the receiver restarted.
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
		// the tasks that died with that incarnation of the worker fail, unless a
		// restart replaced them since (a failover the crash caused sooner, as a
		// broken connection does): then the timeout has nothing left to fail
		if n := c.rt.w.Node(sim.NodeID(ev.A)); !n.Up() || n.Incarnation() != uint32(ev.B) {
			if lost := c.rt.lostTasks(n, uint32(ev.B)); len(lost) > 0 {
				c.rt.failover(fmt.Sprintf("heartbeat of %s timed out", n.Name()), lost)
			}
		}
	}
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
