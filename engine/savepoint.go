package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/state"
)

// SavepointKind says whether a checkpoint is a savepoint and what the job does
// after it. A savepoint is a checkpoint the user asks for: always aligned (see
// checkpoint.BarrierInfo.Savepoint), with keyed state in the canonical,
// backend-independent format (a heap savepoint restores into pebble and back),
// written under its own path of the checkpoint store (savepoint-N/), never
// subsumed or discarded by the coordinator.
type SavepointKind uint8

// Savepoint kinds.
const (
	// NoSavepoint: a checkpoint.
	NoSavepoint SavepointKind = iota
	// IntermediateSavepoint is taken while the job runs on (flink savepoint). As
	// in Flink 1.15+, it commits no side effects (sinks are not notified: its
	// transactions commit with the next checkpoint) and is no restore point for
	// failover.
	IntermediateSavepoint
	// StopSavepoint stops the job (flink stop): every task, once it snapshotted,
	// takes no more input (Flink's synchronous savepoint); when the savepoint is
	// complete the sinks commit its transactions and the job ends. If the
	// savepoint fails, the tasks go on and the job keeps running.
	StopSavepoint
	// DrainSavepoint stops the job after draining it (flink stop --drain): the
	// sources emit the final watermark before the barrier, so every window fires
	// and its result is in the savepoint's transactions. If it fails the job fails
	// over (it cannot resume a drained pipeline).
	DrainSavepoint
)

func (k SavepointKind) String() string {
	switch k {
	case NoSavepoint:
		return "checkpoint"
	case IntermediateSavepoint:
		return "savepoint"
	case StopSavepoint:
		return "stop-with-savepoint"
	case DrainSavepoint:
		return "stop-with-savepoint --drain"
	}
	return fmt.Sprintf("savepoint-kind(%d)", uint8(k))
}

// MarshalText implements encoding.TextMarshaler.
func (k SavepointKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// stops reports whether the job ends with the savepoint.
func (k SavepointKind) stops() bool { return k == StopSavepoint || k == DrainSavepoint }

// SavepointResult is the outcome of a savepoint the user asked for: for an
// intermediate savepoint, whether it completed; for a stop, whether the job
// stopped with it (its transactions committed, the job ended).
type SavepointResult struct {
	ID     int64
	Kind   SavepointKind
	OK     bool
	Reason string // why it failed
}

func (rt *Runtime) noteSavepoint(r SavepointResult) {
	ok := uint64(0)
	if r.OK {
		ok = 1
	}
	rt.w.TraceNote(0x73617670, uint64(r.ID), ok)
	rt.Hooks.fireSavepoint(r)
}

// ErrLocalSavepoint refuses a savepoint under a protocol whose tasks checkpoint
// on their own (uncoordinated, communication-induced): no barrier aligns them, so
// there is no consistent cut to take on demand, stop at or restore at another
// parallelism.
var ErrLocalSavepoint = errors.New("savepoints need a coordinated protocol (aligned, unaligned, hybrid, atleastonce): " +
	"uncoordinated and communication-induced tasks checkpoint on their own, and no barrier aligns them into a savepoint")

// ErrNotRunning is returned for a savepoint or a cancel asked of a job that is
// not running (restarting, finished, stopped, cancelled or failed).
var ErrNotRunning = errors.New("the job is not running")

// TriggerSavepoint asks the coordinator for a savepoint of kind now and returns
// its checkpoint id; the outcome comes to the OnSavepoint subscribers. Savepoints
// bypass the minimum pause but not the maximum of concurrent checkpoints'
// effect on tasks: a newer checkpoint's barrier subsumes a pending savepoint at a
// task, as in Flink.
func (rt *Runtime) TriggerSavepoint(kind SavepointKind) (int64, error) {
	c := rt.coord
	switch {
	case kind == NoSavepoint || kind > DrainSavepoint:
		return 0, fmt.Errorf("not a savepoint kind: %v", kind)
	case rt.cfg.Protocol == nil:
		return 0, errors.New("savepoints need a checkpoint protocol; checkpointing is not configured")
	case checkpoint.FamilyOf(rt.cfg.Protocol) != checkpoint.Coordinated:
		return 0, ErrLocalSavepoint
	case !rt.running || rt.jobDone || rt.jobFailed:
		return 0, ErrNotRunning
	case !c.node.Up():
		return 0, errors.New("the job manager is down")
	case c.stopping != 0:
		return 0, fmt.Errorf("stop-with-savepoint %d is in progress", c.stopping)
	}
	return c.begin(kind), nil
}

// SavepointOrdinal is the place of savepoint id among the savepoints triggered
// (1 for the first), 0 for a checkpoint.
func (rt *Runtime) SavepointOrdinal(id int64) int {
	for i, sp := range rt.savepointOrder {
		if sp == id {
			return i + 1
		}
	}
	return 0
}

// IsSavepoint reports the savepoint kind of checkpoint id (NoSavepoint for a
// checkpoint): what its trigger and its barriers carry.
func (rt *Runtime) IsSavepoint(id int64) SavepointKind { return rt.savepointKinds[id] }

// snapshotName is where a task's snapshot of checkpoint id lives in the store.
func (rt *Runtime) snapshotName(id int64, task string) string {
	prefix := "chk-" // one allocation where Sprintf made three: a task names its snapshot at every checkpoint
	if rt.savepointKinds[id] != NoSavepoint {
		prefix = "savepoint-"
	}
	return prefix + strconv.FormatInt(id, 10) + "/" + task
}

// metadataName is where the metadata of checkpoint id lives in the store.
func (rt *Runtime) metadataName(id int64) string { return rt.snapshotName(id, "_metadata") }

// Savepoints returns the completed savepoints, oldest first.
func (c *Coordinator) Savepoints() []*CompletedCheckpoint { return c.savepoints }

// LatestSavepoint is the latest completed savepoint, or nil.
func (c *Coordinator) LatestSavepoint() *CompletedCheckpoint {
	if n := len(c.savepoints); n > 0 {
		return c.savepoints[n-1]
	}
	return nil
}

// savepointCompleted finishes a savepoint whose metadata is durable.
func (c *Coordinator) savepointCompleted(p *pendingCheckpoint, cp *CompletedCheckpoint) {
	rt := c.rt
	now := rt.w.Now()
	c.remove(p)
	// The tasks aborted every older pending checkpoint when the savepoint's
	// barrier came (a newer barrier subsumes); Flink's tasks decline them, here
	// the coordinator drops them.
	for _, old := range append([]*pendingCheckpoint(nil), c.pending...) {
		if old.id < p.id && old.savepoint == NoSavepoint {
			c.fail(old, checkpoint.ReasonSubsumed, "subsumed by savepoint")
		}
	}
	c.savepoints = append(c.savepoints, cp)
	st := c.recordCompleted(p, now)
	rt.w.TraceNote(0x7370636d, uint64(p.id), uint64(st.StateSize))
	if !p.savepoint.stops() {
		rt.Hooks.fireCheckpointCompleted(cp) // observers only: an intermediate savepoint notifies no task
		rt.noteSavepoint(SavepointResult{ID: p.id, Kind: p.savepoint, OK: true})
		return
	}
	// A stop: the savepoint is the job's restore point should a failure come
	// before the job ended (Flink keeps synchronous savepoints for recovery); the
	// sinks commit its transactions, then the job ends.
	c.stopPoint = cp
	if c.stopping != p.id {
		// a failover came while its metadata was written: the job restarts from
		// it and runs on
		rt.noteSavepoint(SavepointResult{ID: p.id, Kind: p.savepoint, Reason: "job failover before the job stopped"})
		return
	}
	if rt.Hooks.fireCheckpointCompleted(cp) {
		return // a fault swallowed the notifications
	}
	for _, t := range rt.tasks {
		c.tell(t, evNotify, p.id, 0)
	}
	c.finalDone = true
	c.committed = map[int]bool{}
}

// savepointFailed handles a savepoint that failed: a stop that failed lets the
// tasks go on (they resume on the abort), unless the job was drained.
func (c *Coordinator) savepointFailed(p *pendingCheckpoint, reason string) {
	rt := c.rt
	rt.noteSavepoint(SavepointResult{ID: p.id, Kind: p.savepoint, Reason: reason})
	if c.stopping != p.id {
		return
	}
	c.stopping = 0
	if p.savepoint == DrainSavepoint {
		rt.failover(fmt.Sprintf("stop-with-savepoint --drain %d failed (%s): the drained job restarts", p.id, reason), nil)
	}
}

// stopAborted gives up the stop in progress once its savepoint completed but the
// job did not end (a failover came first): the job restarts and runs on. A
// drained stop is not given up: the restart ends it (endDrained).
func (c *Coordinator) stopAborted(reason string) {
	if c.stopping == 0 {
		return
	}
	id := c.stopping
	c.stopping = 0
	if c.stopPoint != nil && c.stopPoint.ID == id && c.stopPoint.Savepoint == DrainSavepoint {
		return
	}
	for _, t := range c.rt.tasks {
		c.tell(t, evAbortCkpt, id, 0) // the tasks that go on resume
	}
	if c.stopPoint != nil && c.stopPoint.ID == id {
		c.rt.noteSavepoint(SavepointResult{ID: id, Kind: c.stopPoint.Savepoint, Reason: reason})
	}
}

// latestRestorePoint is what a failover restores: the latest of the job's
// completed checkpoints, the savepoint of a stop that did not end the job, and the
// checkpoint the job was started from.
func (c *Coordinator) latestRestorePoint() *CompletedCheckpoint {
	best := c.rt.restoredFrom
	consider := func(cp *CompletedCheckpoint) {
		if cp != nil && cp.ID >= c.rt.jobBase && (best == nil || cp.ID > best.ID) {
			best = cp
		}
	}
	if n := len(c.completed); n > 0 {
		consider(c.completed[n-1])
	}
	consider(c.stopPoint)
	return best
}

// KeyedState returns the keyed state a completed checkpoint holds, by the name of
// the operator heading each chain (as a run's keyed state is compared), sorted.
func (c *CompletedCheckpoint) KeyedState() (map[string][]state.Entry, error) {
	out := map[string][]state.Entry{}
	for _, s := range c.Tasks {
		if s.State == nil {
			continue
		}
		es, err := state.SnapshotEntries(s.State)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %d, %s: %w", c.ID, s.Task, err)
		}
		head, _, _ := strings.Cut(s.Chain, "->")
		out[head] = append(out[head], es...)
	}
	for name, es := range out {
		if len(es) == 0 {
			delete(out, name)
			continue
		}
		state.SortEntries(es)
	}
	return out, nil
}

// SourceOffsets returns the next offset of every source split a completed
// checkpoint holds.
func (c *CompletedCheckpoint) SourceOffsets() map[int32]int64 {
	out := map[int32]int64{}
	for _, s := range c.Tasks {
		for sp, off := range s.Offsets {
			out[sp] = off
		}
	}
	return out
}

// completedDrain is the savepoint of the current job's drained stop when it
// completed but the job has not ended yet (its sinks are committing it), else nil.
func (c *Coordinator) completedDrain() *CompletedCheckpoint {
	if sp := c.stopPoint; sp != nil && c.stopping == sp.ID && sp.Savepoint == DrainSavepoint {
		return sp
	}
	return nil
}

// drainedRestorePoint reports whether cp, what a failover would restore, is a
// drained stop's savepoint of the current job.
func (rt *Runtime) drainedRestorePoint(cp *CompletedCheckpoint) bool {
	return cp != nil && cp.Savepoint == DrainSavepoint && cp.ID >= rt.jobBase
}

// endDrained ends the job stopped with sp, the completed savepoint of a drained
// stop, when a failure comes before the job ended: instead of restoring sp and
// running on (the drain fired every timer and flushed every window, as the end of
// input does, so a job resumed from sp would emit those results again and its
// late records would be lost), the failover commits sp's transactions in the
// sinks, as a restore does, and the job ends as the stop said. Flink does the
// same: the operators of a drained savepoint are restored as finished, and the
// job restored from it ends at once.
func (rt *Runtime) endDrained(sp *CompletedCheckpoint) {
	c := rt.coord
	c.stopping = 0
	c.abortAll("job stopped with savepoint " + fmt.Sprint(sp.ID))
	rt.running = false
	rt.pendingRegions = nil
	rt.commitRestoredTransactions(rt.loadSnapshots(sp))
	rt.w.TraceNote(0x64726e64, uint64(sp.ID), 0)
	rt.stopped(sp)
}
