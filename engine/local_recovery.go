package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/checkpoint/recoveryline"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
)

// localTopo is the job's channels between tasks for the current deployment.
type localTopo struct {
	attempt  int
	sender   map[*sim.Channel]int
	receiver map[*sim.Channel]taskInput
	chans    []recoveryline.Channel
}

type taskInput struct{ task, input int }

// localTopology numbers every task's input channels (across its gates) and output
// channels (across its outputs), and lists the channels between tasks. The
// numbering is the same in every deployment of the job.
func (rt *Runtime) localTopology() *localTopo {
	if rt.topo != nil && rt.topo.attempt == rt.attempt {
		return rt.topo
	}
	tp := &localTopo{attempt: rt.attempt, sender: map[*sim.Channel]int{}, receiver: map[*sim.Channel]taskInput{}}
	for _, t := range rt.tasks {
		n := 0
		for _, ig := range t.gates {
			for _, ch := range ig.g.Channels() {
				tp.receiver[ch] = taskInput{t.index, n}
				n++
			}
		}
	}
	for _, t := range rt.tasks {
		k := 0
		for _, o := range t.outs {
			for _, ch := range o.channels {
				tp.sender[ch] = t.index
				r := tp.receiver[ch]
				tp.chans = append(tp.chans, recoveryline.Channel{From: t.index, Out: k, To: r.task, In: r.input})
				k++
			}
		}
	}
	rt.topo = tp
	return tp
}

// localPlan is what a restart of a local protocol restores: per task, its
// checkpoint of the recovery line and its log.
type localPlan struct {
	serial  int64
	attempt int
	tasks   []*localRestore // by task index; nil: the task keeps running
	durable bool
	rec     LocalRecovery
	restart []bool
	// prev is, for the mutation SeqNotRewound, each task's failed incarnation.
	prev []*localState
}

// localRestore is one task's part of a plan.
type localRestore struct {
	id   int64
	snap *TaskSnapshot // nil: the initial state
	// logs is, per output channel, the task's log as its checkpoints hold it;
	// replay the range of it to re-send, (from, to].
	logs   [][]LoggedMessage
	replay [][2]int64
	// replayTo is, per input channel, the sequence number up to which messages
	// are replayed to the task (0: none).
	replayTo []int64
	finished bool
}

// localReady prepares the restart of a local protocol: it computes the recovery
// line of the tasks to restart and writes its line record; the restart goes on
// once the record is durable.
func (c *Coordinator) localReady() bool {
	lc := c.local
	rt := c.rt
	if lc.plan != nil {
		return lc.plan.durable
	}
	restart := make([]bool, len(rt.tasks))
	for i, t := range rt.tasks {
		restart[i] = !rt.running || len(rt.pendingRegions) == 0 || inRegions(t.region, rt.pendingRegions)
	}
	plan, err := lc.makePlan(restart)
	if err != nil {
		rt.jobFailed, rt.failReason = true, "recovery line: "+err.Error()
		return false
	}
	lc.plans++
	plan.serial, plan.attempt = lc.plans, rt.attempt+1
	lc.plan = plan
	rec := &localLineRecord{Attempt: plan.attempt, Term: c.node.Incarnation(), IDs: plan.rec.Line}
	rt.store.Put(c.node, localLineName(rec.Attempt, rec.Term), sim.Blob{Size: int64(64 + 8*len(rec.IDs)), Data: rec},
		c, evCoordLocalLine, plan.serial)
	return false
}

// lineWritten goes on with the restart once its line record is durable.
func (c *Coordinator) lineWritten(serial, status int64) {
	lc := c.local
	if lc.plan == nil || lc.plan.serial != serial {
		return // a later failure replaced the plan
	}
	if status != sim.StoreOK {
		lc.plan = nil
		c.node.After(rpcRetry, c, evCoordRestart, 0, 0)
		return
	}
	lc.plan.durable = true
	c.rt.restart()
}

// makePlan computes the recovery line after the failure of the tasks in restart
// and gathers what each of them restores.
func (lc *localCoord) makePlan(restart []bool) (*localPlan, error) {
	rt := lc.c.rt
	running := make([]bool, len(restart))
	for i := range restart {
		running[i] = !restart[i]
	}
	h := lc.history(running)
	planner := rt.local().Recovery()
	line, err := planner.Line(h)
	if err != nil {
		return nil, err
	}
	plan := &localPlan{tasks: make([]*localRestore, len(restart)), restart: restart}
	plan.rec.Line = make([]int64, len(restart))
	plan.rec.RolledBack = line.Useless
	for i := range restart {
		plan.rec.Line[i] = -1
		if !line.Restored(h, i) {
			continue
		}
		p := lc.hist[i][line.At[i]]
		rs := &localRestore{id: p.ID, replayTo: make([]int64, len(p.Processed))}
		if p.blob != "" {
			b, ok := rt.store.Lookup(p.blob)
			snap, _ := b.Data.(*TaskSnapshot)
			if !ok || snap == nil || snap.Local == nil {
				return nil, fmt.Errorf("checkpoint %d of task %d is not in the store", p.ID, i)
			}
			rs.snap = snap
			rs.finished = snap.Local.Finished
		}
		rs.logs = lc.logsUpTo(i, line.At[i], p.Sent)
		rs.replay = make([][2]int64, len(p.Sent))
		plan.tasks[i] = rs
		plan.rec.Line[i] = p.ID
	}
	for _, r := range planner.Replays(h, line) {
		ch := lc.chans[r.Channel]
		plan.tasks[ch.From].replay[ch.Out] = [2]int64{r.From, r.To}
		if rs := plan.tasks[ch.To]; rs != nil {
			rs.replayTo[ch.In] = r.To
		}
		for _, m := range plan.tasks[ch.From].logs[ch.Out] {
			if m.Seq > r.From && m.Seq <= r.To {
				plan.rec.ReplayedMessages++
				plan.rec.ReplayedRecords += int64(dataRecords(m.Records))
			}
		}
	}
	return plan, nil
}

// dataRecords counts the data records among recs (not watermarks or markers).
func dataRecords(recs []Record) int {
	n := 0
	for i := range recs {
		if recs[i].Split > splitIdle {
			n++
		}
	}
	return n
}

// logsUpTo gathers task i's log from the deltas of its checkpoints up to history
// index at (and of those below the floor kept for their logs): per output channel,
// every message up to sent, in order. A task's next delta starts where its last
// durable checkpoint's ended, whether or not the coordinator heard of that one (a
// report can be dropped by a failover, or die with its sender); so the deltas of
// the durable checkpoints of the same deployment missing between two known ones
// (or before the first) are read from the store too, else their messages would
// never be replayed.
func (lc *localCoord) logsUpTo(i, at int, sent []int64) [][]LoggedMessage {
	rt := lc.c.rt
	logs := make([][]LoggedMessage, len(sent))
	last := make([]int64, len(sent))
	addBlob := func(name string) {
		b, _ := rt.store.Lookup(name)
		snap, _ := b.Data.(*TaskSnapshot)
		if snap == nil || snap.Local == nil {
			return
		}
		for k, msgs := range snap.Local.Log {
			for _, m := range msgs {
				if k < len(logs) && m.Seq > last[k] && m.Seq <= sent[k] {
					logs[k] = append(logs[k], m)
					last[k] = m.Seq
				}
			}
		}
	}
	prev := int64(0)
	add := func(p localPoint) {
		if p.blob == "" {
			return
		}
		from := p.ID/localIDBase*localIDBase + 1
		if prev/localIDBase == p.ID/localIDBase {
			from = prev + 1
		}
		for id := from; id < p.ID; id++ {
			addBlob(localBlobName(rt.tasks[i].name, id)) // unreported: absent from the history
		}
		prev = p.ID
		addBlob(p.blob)
	}
	for _, p := range lc.logOnly[i] {
		add(p)
	}
	for _, p := range lc.hist[i][:at+1] {
		add(p)
	}
	return logs
}

// applyPlan makes the plan the coordinator's history: the checkpoints of the
// restarted tasks newer than their line are gone (deleted from the store).
func (lc *localCoord) applyPlan(plan *localPlan) {
	store := lc.c.rt.store
	for i, rs := range plan.tasks {
		if rs == nil {
			continue
		}
		ps := lc.hist[i]
		k := 0
		for k < len(ps) && ps[k].ID <= rs.id {
			k++
		}
		for _, p := range ps[k:] {
			store.Delete(p.blob)
		}
		lc.hist[i] = ps[:k]
	}
}

// settleLocal commits the sink transactions the restored checkpoints closed and
// aborts the other prepared ones of the restarted sinks.
func (rt *Runtime) settleLocal(plan *localPlan) {
	cp := &CompletedCheckpoint{}
	restarted := map[int]bool{}
	for i, rs := range plan.tasks {
		if rs == nil {
			continue
		}
		restarted[i] = true
		if rs.snap != nil {
			cp.Tasks = append(cp.Tasks, rs.snap)
		}
	}
	subtasks := map[string]map[int]bool{}
	for i, t := range rt.tasks {
		if !restarted[i] {
			continue
		}
		for _, v := range t.Chain {
			if v.Kind == KindSink {
				if subtasks[v.Name] == nil {
					subtasks[v.Name] = map[int]bool{}
				}
				subtasks[v.Name][t.Subtask] = true
			}
		}
	}
	rt.settleTransactions(cp, func(sink string, subtask int) bool { return subtasks[sink][subtask] })
}

// restoreLocal loads a task's checkpoint of the recovery line: state, source
// offsets, channel counters, log, and the messages to replay before any new
// output.
func (t *Task) restoreLocal(rs *localRestore) {
	ls := t.ls
	if s := rs.snap; s != nil {
		if t.state != nil && s.State != nil {
			if err := t.state.Restore([]*state.Snapshot{s.State}); err != nil {
				t.fail(fmt.Sprintf("restore %s: %v", t.name, err))
				return
			}
		}
		for _, op := range t.ops {
			if r, ok := op.(Restorer); ok {
				r.Restored()
			}
		}
		t.SetSourceOffsets(s.Offsets)
		p := s.Local.Point
		for k := range ls.outs {
			ls.outs[k].seq = p.Sent[k]
		}
		for k := range ls.ins {
			ls.ins[k].processed = p.Processed[k]
		}
		copy(ls.durable, p.Sent)
		ls.durableID = rs.id
		for oi, o := range t.outs {
			if oi < len(s.Local.Routing) {
				o.rr = s.Local.Routing[oi]
			}
		}
		if t.src != nil && s.Local.SourceNext < len(t.src.splits) {
			t.src.rr = s.Local.SourceNext
		}
		for gi, ig := range t.gates {
			for i := range ig.ended {
				if k := ls.inBase[gi] + i; k < len(s.Local.Ended) && s.Local.Ended[k] && !ig.ended[i] {
					ig.ended[i] = true // its end of partition will not come again
					ig.nEnded++
				}
			}
		}
	}
	n := 0
	for k := range ls.outs {
		lo := &ls.outs[k]
		lo.log.restore(rs.logs[k])
		for i := range rs.logs[k] {
			m := &rs.logs[k][i] // the checkpoint's copy: never changed
			if m.Seq > rs.replay[k][0] && m.Seq <= rs.replay[k][1] {
				t.replay = append(t.replay, replayItem{output: lo.o, channel: lo.i, logged: m})
				n += len(m.Records)
			}
		}
	}
	if plan := t.rt.coord.local.plan; plan != nil && plan.prev != nil && t.index < len(plan.prev) && plan.prev[t.index] != nil {
		t.keepFailedLog(plan.prev[t.index]) // mutant: counters and logs not rewound
	}
	if rs.finished {
		t.finished = true
		ls.final = rs.id
		ls.committed = rs.id
	}
	if !t.finished && t.hasFeedback() && t.forwardEnded() {
		t.waitLoop() // the ends of its forward inputs will not come again
	}
	t.rt.Hooks.fireRestored(t, rs.id, n)
}

// resend re-sends a logged message on its channel with its sequence number and
// stamp: part of a recovery's replay, it is not logged again.
func (o *output) resend(i int, m *LoggedMessage) {
	t := o.t
	if m.EOP {
		ev := &StreamEvent{Kind: EvEndOfPartition, Seq: m.Seq, Epoch: t.ls.epoch, Stamp: m.Stamp}
		o.channels[i].Send(sim.Msg{Event: true, Payload: ev, Size: eventSize + int32(8*len(m.Stamp))})
		return
	}
	if o.cur[i] != nil {
		o.send(i)
	}
	if !o.part.Acquire() {
		o.part.AcquireOverdraft()
	}
	b := t.rt.pool.get()
	for k := range m.Records {
		b.push(&m.Records[k])
	}
	b.Seq, b.Epoch = m.Seq, t.ls.epoch
	b.Stamp = append(b.Stamp[:0], m.Stamp...)
	o.sent[i] = nil
	t.m.BuffersOut++
	t.rt.localStats.ProtocolBytes += int64(8 * len(b.Stamp))
	o.channels[i].Send(sim.Msg{Payload: b, Size: int32(b.Bytes + 8*len(b.Stamp))})
}

// localBeforeDeploy readies a deployment of a local protocol: the useless
// checkpoint check of the execution that failed, the sink transactions settled as
// the recovery line says. It returns the plan the deployment restores (nil for
// coordinated protocols).
func (rt *Runtime) localBeforeDeploy() *localPlan {
	lc := rt.coord.local
	if lc == nil || lc.plan == nil {
		return nil
	}
	plan := lc.plan
	if rt.mutation().SeqNotRewound {
		plan.prev = make([]*localState, len(rt.tasks))
		for i, t := range rt.tasks {
			plan.prev[i] = t.ls
		}
	}
	rt.localTrace.check(rt, fmt.Sprintf("before the restart at %v", rt.w.Now()))
	rt.settleLocal(plan)
	return plan
}

// localAfterDeploy makes the restored line the coordinator's history and records
// the recovery.
func (rt *Runtime) localAfterDeploy(plan *localPlan) {
	lc := rt.coord.local
	if lc == nil || plan == nil {
		return
	}
	lc.plan = nil
	lc.applyPlan(plan)
	rt.localTrace.rollBack(plan)
	if n := len(rt.recoveries); n > 0 {
		rec := plan.rec
		rt.recoveries[n-1].Local = &rec
	}
	lc.acting = true
	lc.advance(true) // the new tasks hear of the floor, which may be the end
}

// keepFailedLog is the mutation SeqNotRewound: the task goes on numbering from its
// failed incarnation's counters and keeps the messages that incarnation logged
// after the restored checkpoint.
func (t *Task) keepFailedLog(old *localState) {
	for k := range t.ls.outs {
		if k >= len(old.outs) {
			return
		}
		lo, prev := &t.ls.outs[k], &old.outs[k]
		for i := 0; i < prev.log.len(); i++ {
			if m := prev.log.message(i); m.Seq > lo.seq {
				lo.log.add(m.Seq, m.Records, m.Stamp, m.EOP)
			}
		}
		lo.seq = max(lo.seq, prev.seq)
	}
}
