package engine

import (
	"fmt"
	"github.com/ckptsim/ckptsim/checkpoint"

	"github.com/ckptsim/ckptsim/checkpoint/recoveryline"
	"github.com/ckptsim/ckptsim/sim"
)

// Task event kinds of local protocols.
const (
	evLocalTimer    uint32 = iota + 30 // the local handler's timer
	evLocalUploaded                    // the upload of local checkpoint A finished (B: store status)
	evLocalFloor                       // the coordinator's floor moved
)

// localIDBase separates the deployments in local checkpoint ids: checkpoint n of
// attempt a is a*localIDBase+n, so ids grow along each task's history and never
// repeat across recoveries.
const localIDBase = 1_000_000

// localState is a task's side of a local protocol: its handler, the sequence
// numbers and logs of its output channels, what it processed of its input
// channels, and the checkpoints it is uploading.
type localState struct {
	h      checkpoint.LocalHandler
	acts   []checkpoint.LocalAction
	outs   []localOut
	ins    []localIn
	inBase []int // first input number of each gate
	epoch  int
	count  int64 // checkpoints taken in this attempt
	// due is set when the timer fired while a buffer was half processed: the
	// handler hears of it at the next message boundary.
	due bool
	// durable is, per output, the last sequence number in a durable checkpoint's
	// log: the next checkpoint's log delta starts after it.
	durable   []int64
	durableID int64
	uploads   []*localUpload
	final     int64 // the final checkpoint's id (0: not taken)
	file      *logFile
	committed int64 // the sink transactions up to this checkpoint are committed
}

type localOut struct {
	o       *output
	i       int // channel number in o
	to, in  int // receiving task and its input number
	seq     int64
	log     msgLog
	scratch []Record
}

type localIn struct {
	from      int
	processed int64
}

type localUpload struct {
	id    int64
	snap  *TaskSnapshot
	stats SubtaskCheckpointStats
	start sim.Time
	bytes int64 // uploaded: state delta plus log delta
}

// LocalSnapshot is what a local checkpoint adds to a task snapshot: its point
// (last sequence number sent and processed per channel), the messages logged since
// the task's previous durable checkpoint, the protocol's state, and whether it is
// the task's final checkpoint.
type LocalSnapshot struct {
	Point    recoveryline.Point
	Log      [][]LoggedMessage // per output channel
	Handler  []uint64
	Finished bool
	Forced   bool
	// Ended marks the input channels whose end of partition was processed.
	Ended []bool
	// Routing is each output's round-robin position (rebalance) and SourceNext a
	// source's next split to read: the task resumes routing as it left off, so
	// the messages it sends after a recovery go where its logged ones went.
	Routing    []int
	SourceNext int
}

// local reports whether the runtime runs a local protocol.
func (rt *Runtime) local() checkpoint.LocalProtocol {
	lp, _ := rt.cfg.Protocol.(checkpoint.LocalProtocol)
	return lp
}

// initLocal sets up a task's local protocol state once the job's channels exist,
// restoring the task's part of the recovery plan when there is one.
func (t *Task) initLocal(lp checkpoint.LocalProtocol) {
	rt := t.rt
	topo := rt.localTopology()
	ls := &localState{epoch: rt.attempt}
	for gi, ig := range t.gates {
		ig.index = gi
		ls.inBase = append(ls.inBase, len(ls.ins))
		for _, ch := range ig.g.Channels() {
			ls.ins = append(ls.ins, localIn{from: topo.sender[ch]})
		}
	}
	var outs, ins []int
	for _, o := range t.outs {
		o.base = len(ls.outs)
		for i, ch := range o.channels {
			r := topo.receiver[ch]
			ls.outs = append(ls.outs, localOut{o: o, i: i, to: r.task, in: r.input})
			outs = append(outs, r.task)
		}
	}
	for _, in := range ls.ins {
		ins = append(ins, in.from)
	}
	ls.durable = make([]int64, len(ls.outs))
	cfg := checkpoint.LocalConfig{Task: t.index, Tasks: len(rt.tasks), Outputs: outs, Inputs: ins,
		Interval: rt.cfg.Checkpoint.Interval, Seed: sim.NewRand(rt.w.Seed(), fmt.Sprintf("local/%s/%d", t.name, rt.attempt)).Uint64()}
	plan := rt.coord.local.plan
	var rs *localRestore
	if plan != nil {
		rs = plan.tasks[t.index]
	}
	if rs != nil && rs.snap != nil && rs.snap.Local != nil {
		cfg.Restored = rs.snap.Local.Handler
	}
	ls.h = lp.NewLocal(cfg)
	t.ls = ls
	if err := t.openLog(); err != nil {
		t.fail(fmt.Sprintf("message log: %v", err))
	}
	if rs != nil {
		t.restoreLocal(rs)
	}
}

// openLog opens the task's message log on its worker's disk, removing what
// earlier deployments of the task left there.
func (t *Task) openLog() error {
	d := t.rt.diskOf(t.node)
	if d == nil {
		return nil
	}
	fs := d.FS()
	for a := 1; a < t.rt.attempt; a++ {
		_ = fs.RemoveAll(fmt.Sprintf("log/%s-a%d", t.name, a))
	}
	f, err := newLogFile(fs, fmt.Sprintf("log/%s-a%d", t.name, t.rt.attempt), len(t.ls.outs))
	if err != nil {
		return err
	}
	t.ls.file = f
	return nil
}

// startLocal lets the handler arm its timer when the task starts.
func (t *Task) startLocal() {
	ls := t.ls
	ls.acts = ls.h.Start(t.rt.w.Now(), ls.acts[:0])
	t.executeLocal(ls.acts)
}

// localSend gives a data buffer about to leave on channel i of o its sequence
// number, epoch and stamp, and logs it. It returns the stamp's size in bytes, which
// travels with the buffer.
func (t *Task) localSend(o *output, i int, b *Buffer) int32 {
	ls := t.ls
	k := o.base + i
	lo := &ls.outs[k]
	lo.seq++
	b.Seq, b.Epoch = lo.seq, ls.epoch
	b.Stamp = ls.h.Stamp(k, b.Stamp[:0])
	t.logMessage(k, lo.seq, b.Records, b.Stamp, false)
	return int32(8 * len(b.Stamp))
}

// localEndOfPartition sends end of partition on every output channel as a logged
// message of its own.
func (t *Task) localEndOfPartition() {
	ls := t.ls
	for _, o := range t.outs {
		for i, ch := range o.channels {
			if o.cur[i] != nil {
				o.send(i)
			}
			k := o.base + i
			lo := &ls.outs[k]
			lo.seq++
			ev := &StreamEvent{Kind: EvEndOfPartition, Seq: lo.seq, Epoch: ls.epoch}
			ev.Stamp = ls.h.Stamp(k, nil)
			t.logMessage(k, lo.seq, nil, ev.Stamp, true)
			t.rt.localStats.ProtocolBytes += int64(8 * len(ev.Stamp))
			ch.Send(sim.Msg{Event: true, Payload: ev, Size: eventSize + int32(8*len(ev.Stamp))})
		}
	}
}

// logMessage appends one message to channel k's log, in memory and on disk. Writing
// it costs the task 1 ns per byte, as copying state into a snapshot does.
func (t *Task) logMessage(k int, seq int64, recs []Record, stamp []uint64, eop bool) {
	ls := t.ls
	n := ls.outs[k].log.add(seq, recs, stamp, eop)
	t.rt.localStats.LoggedBytes += n
	t.sliceCost += sim.Duration(n)
	if ls.file != nil {
		if err := ls.file.write(k, ls.count, seq, recs, eop); err != nil {
			t.fail(fmt.Sprintf("message log write: %v", err))
		}
	}
}

// localReceive runs before a message of input channel (ig, ch) is processed. It
// drops messages of an older recovery epoch, lets the handler force a checkpoint
// first, and then counts the message processed. It reports whether the message is
// to be processed.
func (t *Task) localReceive(ig *inputGate, ch *sim.Channel, seq int64, epoch int, stamp []uint64) bool {
	ls := t.ls
	if epoch < ls.epoch {
		t.rt.localStats.StaleDropped++
		return false
	}
	idx := ls.inBase[ig.index] + ch.GateIndex()
	ls.acts = ls.h.Receive(idx, stamp, t.rt.w.Now(), ls.acts[:0])
	t.executeLocal(ls.acts)
	ls.ins[idx].processed = seq
	return true
}

// localTimer is the handler's timer at a message boundary.
func (t *Task) localTimer() {
	ls := t.ls
	ls.due = false
	if t.finished || t.failed || t.dead {
		return
	}
	ls.acts = ls.h.Timer(t.rt.w.Now(), ls.acts[:0])
	t.executeLocal(ls.acts)
}

func (t *Task) executeLocal(acts []checkpoint.LocalAction) {
	for _, a := range acts {
		switch a.Kind {
		case checkpoint.LocalCheckpoint:
			t.localCheckpoint(a.Forced)
		case checkpoint.LocalTimer:
			at := max(a.At, t.rt.w.Now())
			t.node.Schedule(at, t, evLocalTimer, 0, 0)
		}
	}
}

// point is the task's counters now.
func (ls *localState) point(id int64) recoveryline.Point {
	p := recoveryline.Point{ID: id, Sent: make([]int64, len(ls.outs)), Processed: make([]int64, len(ls.ins))}
	for k := range ls.outs {
		p.Sent[k] = ls.outs[k].seq
	}
	for k := range ls.ins {
		p.Processed[k] = ls.ins[k].processed
	}
	return p
}

// localCheckpoint takes a local checkpoint now, at a message boundary: what the task
// produced so far leaves first (it is logged), then the synchronous snapshot of
// state, source offsets and sink pre-commit with the counters of every channel and
// the messages logged since the last durable checkpoint; then the upload.
func (t *Task) localCheckpoint(forced bool) {
	ls := t.ls
	rt := t.rt
	if t.failed || t.dead {
		return
	}
	start := rt.w.Now().Add(t.scaled(t.sliceCost))
	for _, o := range t.outs {
		o.flush()
		clear(o.sent) // nothing is added to a logged buffer
	}
	ls.count++
	id := int64(ls.epoch)*localIDBase + ls.count
	snap := &TaskSnapshot{Task: t.name, Chain: chainName(t.Chain), Subtask: t.Subtask, Parallelism: t.Chain[0].Parallelism,
		InputGates: t.gateOfEachChannel()}
	snap.Local = &LocalSnapshot{Point: ls.point(id), Handler: ls.h.Save(nil), Finished: t.finished, Forced: forced,
		Log: make([][]LoggedMessage, len(ls.outs))}
	for _, ig := range t.gates {
		snap.Local.Ended = append(snap.Local.Ended, ig.ended...)
	}
	for _, o := range t.outs {
		snap.Local.Routing = append(snap.Local.Routing, o.rr)
	}
	if t.src != nil {
		snap.Local.SourceNext = t.src.rr
	}
	up := &localUpload{id: id, snap: snap, start: start}
	up.stats = SubtaskCheckpointStats{Task: t.name, Checkpoint: id}
	for k := range ls.outs {
		lo := &ls.outs[k]
		snap.Local.Log[k] = lo.log.copyRange(ls.durable[k], lo.seq)
		for i := range snap.Local.Log[k] {
			up.stats.LogBytes += snap.Local.Log[k][i].Bytes()
		}
	}
	if t.state != nil {
		st, err := t.state.Snapshot(id, rt.cfg.Checkpoint.Incremental)
		if err != nil {
			t.fail(fmt.Sprintf("snapshot of checkpoint %d: %v", id, err))
			return
		}
		snap.State = st
		up.stats.StateBytes, up.stats.FullStateBytes = st.IncrementalSize, st.FullSize
	}
	if t.src != nil {
		snap.Offsets = t.SourceOffsets()
	}
	for _, op := range t.ops {
		if s, ok := op.(*sinkOp); ok && s.twoPhase {
			if snap.Txns == nil {
				snap.Txns = map[string][]int64{}
			}
			snap.Txns[s.ctx.Vertex.Name] = s.preCommit(id)
		}
	}
	sync := sim.Duration(up.stats.FullStateBytes) // 1 GB/s copy: 1 ns per byte
	t.sliceCost += sync
	up.stats.Sync = sync
	if forced {
		rt.localStats.Forced++
	} else {
		rt.localStats.Basic++
	}
	if ls.file != nil {
		if err := ls.file.rotate(); err != nil {
			t.fail(fmt.Sprintf("message log sync: %v", err))
			return
		}
	}
	rt.localTrace.taken(t.index, snap.Local.Point)
	if t.finished {
		ls.final = id
	}
	rt.noteSnapshot(t, id)
	up.bytes = up.stats.StateBytes + up.stats.LogBytes
	ls.uploads = append(ls.uploads, up)
	rt.store.Put(t.node, localBlobName(t.name, id), sim.Blob{Size: up.bytes, Data: snap}, t, evLocalUploaded, id)
}

func localBlobName(task string, id int64) string { return fmt.Sprintf("loc/%s/%d", task, id) }

// localUploaded finishes a local checkpoint: durable, it is reported to the
// coordinator, and its log delta becomes the base of the next one.
func (t *Task) localUploaded(id int64, status int64) {
	ls := t.ls
	var up *localUpload
	for i, u := range ls.uploads {
		if u.id == id {
			up = u
			ls.uploads = append(ls.uploads[:i], ls.uploads[i+1:]...)
			break
		}
	}
	if up == nil {
		return
	}
	now := t.rt.w.Now()
	if status != sim.StoreOK && id == ls.final {
		// the final checkpoint is the job's end: upload it again until it is durable
		ls.uploads = append(ls.uploads, up)
		t.rt.store.Put(t.node, localBlobName(t.name, id), sim.Blob{Size: up.bytes, Data: up.snap}, t, evLocalUploaded, id)
		return
	}
	up.stats.Async = now.Sub(min(up.start.Add(up.stats.Sync), now))
	up.stats.AckAt = now
	if status == sim.StoreOK && id > ls.durableID {
		ls.durableID = id
		copy(ls.durable, up.snap.Local.Point.Sent)
	}
	t.rt.coord.sendLocal(t, up, status == sim.StoreOK)
}

// handleLocalEvent handles the local protocol's events of the task's node.
func (t *Task) handleLocalEvent(ev sim.Event) {
	switch ev.Kind {
	case evLocalTimer:
		if t.cur != nil {
			t.ls.due = true // at the end of the buffer being processed
			return
		}
		t.localTimer()
		t.wake()
	case evLocalUploaded:
		t.localUploaded(ev.A, ev.B)
	case evLocalFloor:
		t.applyFloor()
	}
}

// applyFloor truncates the logs up to what no receiver can ever need again and
// commits the sink transactions of checkpoints no recovery can go behind.
func (t *Task) applyFloor() {
	ls := t.ls
	c := t.rt.coord.local
	if c == nil || c.floor.Base == nil || t.index >= len(c.floorIDs) {
		return
	}
	for k := range ls.outs {
		upTo := c.logFrom(t.index, k)
		ls.outs[k].log.truncate(upTo)
		if ls.file != nil {
			if err := ls.file.truncate(k, upTo); err != nil {
				t.fail(fmt.Sprintf("message log truncation: %v", err))
				return
			}
		}
	}
	id := c.floorIDs[t.index]
	if id > ls.committed && !t.commitLocal(id) {
		return
	}
	if t.rt.coord.finalDone {
		t.rt.coord.committedFinal(t)
	}
}

// commitLocal commits the task's sink transactions up to checkpoint id; it reports
// false when a commit failed (it is retried).
func (t *Task) commitLocal(id int64) bool {
	for _, op := range t.ops {
		if s, ok := op.(*sinkOp); ok && s.twoPhase {
			if !s.commitUpTo(id) {
				t.node.After(t.rt.cfg.CommitRetry, t, evLocalFloor, 0, 0)
				return false
			}
		}
	}
	t.ls.committed = id
	return true
}

// LogBytes is the size of the task's message logs now (0 without a local
// protocol).
func (t *Task) LogBytes() int64 {
	if t.ls == nil {
		return 0
	}
	var n int64
	for k := range t.ls.outs {
		n += t.ls.outs[k].log.bytes
	}
	return n
}
