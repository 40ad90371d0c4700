package engine

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/checkpoint/recoveryline"
	"github.com/ckptsim/ckptsim/sim"
)

// Coordinator event kinds of local protocols.
const (
	evCoordLocalLine uint32 = iota + 50 // the line record of restart plan A is written (B: status)
)

// localCoord is the coordinator's side of a local protocol: the checkpoints each
// task reported durable (its restorable history), the floor below which no
// recovery can go (sink commits, log truncation, garbage collection), and the plan
// of the next restart.
type localCoord struct {
	c     *Coordinator
	chans []recoveryline.Channel
	// chanOf[task][out] is the index in chans of a task's output channel.
	chanOf [][]int
	hist   [][]localPoint
	// logOnly holds checkpoints below the floor whose logs may still be replayed.
	logOnly  [][]localPoint
	floor    recoveryline.Truncation
	floorIDs []int64
	version  int64
	// acting is false after a coordinator failover until its first restart: the
	// floor is not acted upon (commits, truncation) before the line record that
	// fences the failed coordinator's plans is durable.
	acting bool
	plan   *localPlan
	plans  int64 // plans made, to match line record completions
}

// localPoint is one durable checkpoint of a task as the coordinator knows it.
type localPoint struct {
	recoveryline.Point
	blob  string // "" for the initial state
	final bool
	// logMax is, per output channel, the highest sequence number in the
	// checkpoint's log delta (0: none).
	logMax []int64
}

// LocalRecovery is what a recovery of a local protocol did: the checkpoint each
// task restored, how many checkpoints the recovery line skipped, and what the
// senders replayed from their logs.
type LocalRecovery struct {
	Line             []int64 // per task: the checkpoint restored (0: initial state; -1: kept running)
	RolledBack       int     // checkpoints newer than the line's that were lost
	ReplayedMessages int64
	ReplayedRecords  int64
}

func newLocalCoord(c *Coordinator) *localCoord { return &localCoord{c: c, acting: true} }

// setup learns the job's channels and starts every task's history with its
// initial state.
func (lc *localCoord) setup() {
	rt := lc.c.rt
	topo := rt.localTopology()
	lc.chans = topo.chans
	lc.chanOf = make([][]int, len(rt.tasks))
	for ci, ch := range lc.chans {
		for len(lc.chanOf[ch.From]) <= ch.Out {
			lc.chanOf[ch.From] = append(lc.chanOf[ch.From], 0)
		}
		lc.chanOf[ch.From][ch.Out] = ci
	}
	lc.hist = make([][]localPoint, len(rt.tasks))
	lc.logOnly = make([][]localPoint, len(rt.tasks))
	for i := range lc.hist {
		lc.hist[i] = []localPoint{lc.initial(i)}
	}
	lc.floorIDs = make([]int64, len(rt.tasks))
}

// initial is task i's initial state: nothing sent, nothing processed.
func (lc *localCoord) initial(i int) localPoint {
	outs, ins := 0, 0
	for _, ch := range lc.chans {
		if ch.From == i {
			outs++
		}
		if ch.To == i {
			ins++
		}
	}
	p := recoveryline.Point{Sent: make([]int64, outs), Processed: make([]int64, ins)}
	return localPoint{Point: p, logMax: make([]int64, outs)}
}

// logFrom is the sequence number up to which task's output channel out may drop
// its log.
func (lc *localCoord) logFrom(task, out int) int64 {
	if task >= len(lc.chanOf) || out >= len(lc.chanOf[task]) || lc.floor.LogFrom == nil {
		return 0
	}
	return lc.floor.LogFrom[lc.chanOf[task][out]]
}

// history is the recovery history: every task's durable checkpoints and, for the
// tasks that keep running, their current counters.
func (lc *localCoord) history(running []bool) *recoveryline.History {
	h := &recoveryline.History{Channels: lc.chans, Points: make([][]recoveryline.Point, len(lc.hist))}
	for _, t := range lc.c.rt.tasks {
		h.Nodes = append(h.Nodes, int(t.node.ID()))
	}
	for i, ps := range lc.hist {
		for _, p := range ps {
			h.Points[i] = append(h.Points[i], p.Point)
		}
	}
	if running != nil {
		h.Current = make([]*recoveryline.Point, len(lc.hist))
		for i, t := range lc.c.rt.tasks {
			if running[i] && t.ls != nil {
				p := t.ls.point(-1)
				h.Current[i] = &p
			}
		}
	}
	return h
}

// sendLocal reports a local checkpoint to the coordinator: durable (ok) or lost.
func (c *Coordinator) sendLocal(t *Task, up *localUpload, ok bool) {
	kind := msgAck
	if !ok {
		kind = msgDecline
	}
	st := up.stats
	c.sendMsg(t, &message{kind: kind, task: t.index, sender: t, inc: t.attempt, id: up.id, snap: up.snap, stats: &st,
		reason: strconv.FormatInt(int64(up.start), 10)})
}

// localReport records a task's local checkpoint: its statistics, and when durable
// its place in the task's history, which may move the floor.
func (lc *localCoord) localReport(m *message, ok bool) {
	c := lc.c
	if m.sender.dead {
		return // cancelled by a failover: the restart plans without it
	}
	now := c.rt.w.Now()
	start, _ := strconv.ParseInt(m.reason, 10, 64)
	st := CheckpointStats{ID: m.id, Status: StatusCompleted, TriggerAt: sim.Time(start), Total: 1, Acknowledged: 1,
		Task: m.sender.name, LatestAck: m.stats.AckAt, CompletedAt: now}
	st.Duration = st.LatestAck.Sub(st.TriggerAt)
	st.StateSize, st.FullSize, st.LogBytes = m.stats.StateBytes, m.stats.FullStateBytes, m.stats.LogBytes
	if m.snap != nil && m.snap.Local != nil {
		st.Forced = m.snap.Local.Forced
	}
	st.Subtasks = []SubtaskCheckpointStats{*m.stats}
	if !ok {
		st.Status, st.Reason, st.Acknowledged = StatusFailed, "upload failed", 0
		c.addStats(st)
		return
	}
	c.addStats(st)
	c.rt.w.TraceNote(0x6c636b, uint64(m.id), uint64(m.task))
	loc := m.snap.Local
	p := localPoint{Point: loc.Point, blob: localBlobName(m.sender.name, m.id), final: loc.Finished,
		logMax: make([]int64, len(loc.Log))}
	for k, msgs := range loc.Log {
		if n := len(msgs); n > 0 {
			p.logMax[k] = msgs[n-1].Seq
		}
	}
	lc.insert(m.task, p)
	lc.advance(false)
}

// insert adds a durable checkpoint to a task's history in id order. One that is
// reported late (over a healed partition), when the floor has passed it already,
// can no longer be restored, but its log delta may still be replayed: the
// checkpoints after it logged only what came after it. It joins the log-only
// checkpoints (collect drops it once no replay can need it).
func (lc *localCoord) insert(task int, p localPoint) {
	ps := lc.hist[task]
	if slices.ContainsFunc(ps, func(q localPoint) bool { return q.ID == p.ID }) ||
		slices.ContainsFunc(lc.logOnly[task], func(q localPoint) bool { return q.ID == p.ID }) {
		return // reported again
	}
	if p.ID < ps[0].ID {
		lo := lc.logOnly[task]
		i, _ := slices.BinarySearchFunc(lo, p.ID, func(q localPoint, id int64) int { return cmp.Compare(q.ID, id) })
		lc.logOnly[task] = slices.Insert(lo, i, p)
		lc.collect()
		return
	}
	i := len(ps)
	for i > 0 && ps[i-1].ID > p.ID {
		i--
	}
	lc.hist[task] = slices.Insert(ps, i, p)
}

// advance recomputes the floor; when it moved, checkpoints below it are dropped
// (their logs kept while a replay may need them) and the tasks are told, so that
// sinks commit and logs are truncated.
func (lc *localCoord) advance(force bool) {
	if !lc.acting {
		return
	}
	rt := lc.c.rt
	tr, err := recoveryline.Floor(lc.history(nil))
	if err != nil {
		rt.jobFailed, rt.failReason = true, "recovery floor: "+err.Error()
		return
	}
	moved := force || lc.floor.LogFrom == nil
	for i, b := range tr.Base {
		if id := lc.hist[i][b].ID; id != lc.floorIDs[i] {
			lc.floorIDs[i], moved = id, true
		}
		lc.logOnly[i] = append(lc.logOnly[i], lc.hist[i][:b]...)
		lc.hist[i] = lc.hist[i][b:]
		tr.Base[i] = 0
	}
	for ci := range tr.LogFrom {
		moved = moved || tr.LogFrom[ci] != lc.floor.LogFrom[ci]
	}
	lc.floor = tr
	if !moved {
		return
	}
	lc.collect()
	lc.version++
	final := true
	for i := range lc.hist {
		final = final && lc.hist[i][0].final
	}
	c := lc.c
	if final && !c.finalDone {
		c.finalDone = true
		c.committed = map[int]bool{}
	}
	if rt.Hooks.fireCheckpointCompleted(&CompletedCheckpoint{ID: lc.version, TriggerAt: rt.w.Now()}) {
		return // a fault swallowed the notifications
	}
	for _, t := range rt.tasks {
		c.tell(t, evLocalFloor, lc.version, 0)
	}
}

// collect deletes the blobs of checkpoints below the floor whose logs no replay
// can need any more.
func (lc *localCoord) collect() {
	store := lc.c.rt.store
	for i, ps := range lc.logOnly {
		keep := ps[:0]
		for _, p := range ps {
			needed := false
			for k, m := range p.logMax {
				needed = needed || m > lc.logFrom(i, k)
			}
			if needed {
				keep = append(keep, p)
			} else if p.blob != "" {
				store.Delete(p.blob)
			}
		}
		lc.logOnly[i] = keep
	}
}

// localLineRecord is the durable record of a restart plan: the checkpoint each
// task restores (-1: it keeps running). A coordinator taking over reads these to
// tell live checkpoints from those of histories that were rolled back.
type localLineRecord struct {
	Attempt int
	Term    uint32
	IDs     []int64
}

func localLineName(attempt int, term uint32) string {
	return fmt.Sprintf("loc/_line/%08d-%08d", attempt, term)
}

// recoverLocal rebuilds the histories from the checkpoint store after a
// coordinator failover: every checkpoint blob, less those that a later restart
// (the line record with the highest term of each attempt) rolled back.
func (lc *localCoord) recoverLocal() {
	rt := lc.c.rt
	lc.plan = nil
	lc.acting = false
	lc.floor = recoveryline.Truncation{}
	records := map[int]*localLineRecord{}
	byName := map[string]int{}
	for i, t := range rt.tasks {
		byName[t.name] = i
	}
	type found struct {
		task int
		p    localPoint
	}
	var points []found
	for _, name := range rt.store.List("loc/") {
		b, _ := rt.store.Lookup(name)
		switch d := b.Data.(type) {
		case *localLineRecord:
			if r := records[d.Attempt]; r == nil || d.Term > r.Term {
				records[d.Attempt] = d
			}
		case *TaskSnapshot:
			i, ok := byName[d.Task]
			if !ok || d.Local == nil {
				continue
			}
			p := localPoint{Point: d.Local.Point, blob: name, final: d.Local.Finished, logMax: make([]int64, len(d.Local.Log))}
			for k, msgs := range d.Local.Log {
				if n := len(msgs); n > 0 {
					p.logMax[k] = msgs[n-1].Seq
				}
			}
			points = append(points, found{i, p})
		}
	}
	for i := range lc.hist {
		lc.hist[i] = []localPoint{lc.initial(i)}
		lc.logOnly[i] = nil
	}
	slices.SortFunc(points, func(a, b found) int {
		if a.task != b.task {
			return a.task - b.task
		}
		return int(a.p.ID - b.p.ID)
	})
	for _, f := range points {
		if lc.rolledBack(records, f.task, f.p.ID) {
			rt.store.Delete(f.p.blob)
			continue
		}
		lc.hist[f.task] = append(lc.hist[f.task], f.p)
	}
}

// rolledBack reports whether a restart after the checkpoint's attempt restored an
// older checkpoint of its task.
func (lc *localCoord) rolledBack(records map[int]*localLineRecord, task int, id int64) bool {
	attempt := int(id / localIDBase)
	for a, r := range records {
		if a > attempt && task < len(r.IDs) && r.IDs[task] >= 0 && id > r.IDs[task] {
			return true
		}
	}
	return false
}

// describe summarises the histories for failure reports.
func (lc *localCoord) describe() string {
	var b strings.Builder
	for i, ps := range lc.hist {
		fmt.Fprintf(&b, "task %d:", i)
		for _, p := range ps {
			fmt.Fprintf(&b, " %d", p.ID)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// DebugLocal describes the coordinator's local-protocol state, for failure reports.
func DebugLocal(rt *Runtime) string {
	lc := rt.coord.local
	if lc == nil {
		return ""
	}
	s := lc.describe()
	s += fmt.Sprintf("floor %v acting %v plan %v finalDone %v committed %v\n", lc.floorIDs, lc.acting, lc.plan != nil, rt.coord.finalDone, rt.coord.committed)
	for _, t := range rt.tasks {
		if t.ls != nil {
			s += fmt.Sprintf("%s: finished %v final %d committed %d due %v uploads %d seqs %v\n", t.name, t.finished, t.ls.final, t.ls.committed, t.ls.due, len(t.ls.uploads), t.ls.point(0))
		}
	}
	return s
}
