package engine

import "github.com/ckptsim/ckptsim/sim"

// Hooks are the moments of a run that others observe or act on: fault injection,
// the Chrome trace export, checkers. Each moment takes any number of
// subscribers (Runtime.Hooks.OnX(fn)), called in the order they subscribed, so
// one subscriber never replaces another and the order in which tools attach does
// not decide which of them see a moment.
//
// Subscribers of SnapshotTaken, CheckpointCompleted, Deployed, MetadataWriting and
// FirstBarrier may
// act (a fault injector schedules faults there). The others only observe: they
// must not change the runtime, schedule events or fold anything into the trace.
type Hooks struct {
	snapshotTaken       []func(t *Task, checkpoint int64)
	checkpointCompleted []func(cp *CompletedCheckpoint) bool
	deployed            []func(attempt int)
	metadataWriting     []func(checkpoint int64)
	firstBarrier        []func(t *Task, checkpoint int64)
	checkpointTriggered []func(checkpoint int64)
	barrierSent         []func(t *Task, ch *sim.Channel, checkpoint int64)
	barrierReceived     []func(t *Task, ch *sim.Channel, checkpoint int64)
	phaseEnded          []func(p PhaseSpan)
	restored            []func(t *Task, checkpoint int64, channelRecords int)
	savepoint           []func(r SavepointResult)
	ackReceived         []func(t *Task, checkpoint int64)
	notified            []func(t *Task, checkpoint int64)
}

// OnSnapshotTaken subscribes fn to the end of a task's synchronous snapshot phase.
func (h *Hooks) OnSnapshotTaken(fn func(t *Task, checkpoint int64)) {
	h.snapshotTaken = append(h.snapshotTaken, fn)
}

// OnCheckpointCompleted subscribes fn to the moment a checkpoint is durable,
// before the tasks are notified. When any subscriber returns true (each one runs),
// the notifications are swallowed.
func (h *Hooks) OnCheckpointCompleted(fn func(cp *CompletedCheckpoint) bool) {
	h.checkpointCompleted = append(h.checkpointCompleted, fn)
}

// OnDeployed subscribes fn to the moment an attempt's tasks are deployed
// (restored but not started): the first deployment, a restart, a region restart.
func (h *Hooks) OnDeployed(fn func(attempt int)) { h.deployed = append(h.deployed, fn) }

// OnMetadataWriting subscribes fn to the moment every task acknowledged a
// checkpoint and the coordinator starts writing its metadata to the checkpoint
// store: the checkpoint completes when the write is durable.
func (h *Hooks) OnMetadataWriting(fn func(checkpoint int64)) {
	h.metadataWriting = append(h.metadataWriting, fn)
}

// OnFirstBarrier subscribes fn to the moment a task with several input channels
// takes the first barrier of a checkpoint: it is aligning (or persisting, when
// unaligned).
func (h *Hooks) OnFirstBarrier(fn func(t *Task, checkpoint int64)) {
	h.firstBarrier = append(h.firstBarrier, fn)
}

// OnCheckpointTriggered subscribes fn (an observer) to the coordinator's trigger
// of a checkpoint.
func (h *Hooks) OnCheckpointTriggered(fn func(checkpoint int64)) {
	h.checkpointTriggered = append(h.checkpointTriggered, fn)
}

// OnBarrierSent subscribes fn (an observer) to a task sending the barrier of a
// checkpoint on one of its output channels.
func (h *Hooks) OnBarrierSent(fn func(t *Task, ch *sim.Channel, checkpoint int64)) {
	h.barrierSent = append(h.barrierSent, fn)
}

// OnBarrierReceived subscribes fn (an observer) to a task taking the barrier of a
// checkpoint from one of its input channels.
func (h *Hooks) OnBarrierReceived(fn func(t *Task, ch *sim.Channel, checkpoint int64)) {
	h.barrierReceived = append(h.barrierReceived, fn)
}

// OnPhaseEnded subscribes fn (an observer) to the end of a phase of a subtask's
// checkpoint (alignment, sync, async), completed or cut short (p.Outcome says
// which).
func (h *Hooks) OnPhaseEnded(fn func(p PhaseSpan)) { h.phaseEnded = append(h.phaseEnded, fn) }

// OnRestored subscribes fn (an observer) to a task of a new attempt restoring its
// part of a completed checkpoint; channelRecords is the in-flight data it will
// replay first.
func (h *Hooks) OnRestored(fn func(t *Task, checkpoint int64, channelRecords int)) {
	h.restored = append(h.restored, fn)
}

// OnAckReceived subscribes fn (an observer) to the coordinator accepting a task's
// acknowledgement of a pending checkpoint.
func (h *Hooks) OnAckReceived(fn func(t *Task, checkpoint int64)) {
	h.ackReceived = append(h.ackReceived, fn)
}

// OnNotified subscribes fn (an observer) to a task having processed the
// notification that a checkpoint completed: its two-phase-commit sinks committed
// the transactions up to it.
func (h *Hooks) OnNotified(fn func(t *Task, checkpoint int64)) {
	h.notified = append(h.notified, fn)
}

func (h *Hooks) fireSnapshotTaken(t *Task, id int64) {
	for _, fn := range h.snapshotTaken {
		fn(t, id)
	}
}

// fireCheckpointCompleted runs every subscriber and reports whether any swallows
// the notifications.
func (h *Hooks) fireCheckpointCompleted(cp *CompletedCheckpoint) bool {
	swallow := false
	for _, fn := range h.checkpointCompleted {
		swallow = fn(cp) || swallow
	}
	return swallow
}

func (h *Hooks) fireDeployed(attempt int) {
	for _, fn := range h.deployed {
		fn(attempt)
	}
}

func (h *Hooks) fireMetadataWriting(id int64) {
	for _, fn := range h.metadataWriting {
		fn(id)
	}
}

func (h *Hooks) fireFirstBarrier(t *Task, id int64) {
	for _, fn := range h.firstBarrier {
		fn(t, id)
	}
}

func (h *Hooks) fireCheckpointTriggered(id int64) {
	for _, fn := range h.checkpointTriggered {
		fn(id)
	}
}

func (h *Hooks) fireBarrierSent(t *Task, ch *sim.Channel, id int64) {
	for _, fn := range h.barrierSent {
		fn(t, ch, id)
	}
}

func (h *Hooks) fireBarrierReceived(t *Task, ch *sim.Channel, id int64) {
	for _, fn := range h.barrierReceived {
		fn(t, ch, id)
	}
}

// observesPhases reports whether anyone subscribed to phase ends: the spans cost
// something to build.
func (h *Hooks) observesPhases() bool { return len(h.phaseEnded) > 0 }

func (h *Hooks) firePhaseEnded(p PhaseSpan) {
	for _, fn := range h.phaseEnded {
		fn(p)
	}
}

func (h *Hooks) observesRestores() bool { return len(h.restored) > 0 }

func (h *Hooks) fireRestored(t *Task, id int64, records int) {
	for _, fn := range h.restored {
		fn(t, id, records)
	}
}

func (h *Hooks) fireAckReceived(t *Task, id int64) {
	for _, fn := range h.ackReceived {
		fn(t, id)
	}
}

func (h *Hooks) fireNotified(t *Task, id int64) {
	for _, fn := range h.notified {
		fn(t, id)
	}
}

// OnSavepoint subscribes fn to the outcome of every savepoint: an intermediate
// one completed or failed, a stop ended the job or failed (the actions driver
// waits for it). fn may act (trigger the next savepoint, resubmit the job) but
// only from a later event.
func (h *Hooks) OnSavepoint(fn func(r SavepointResult)) { h.savepoint = append(h.savepoint, fn) }

func (h *Hooks) fireSavepoint(r SavepointResult) {
	for _, fn := range h.savepoint {
		fn(r)
	}
}
