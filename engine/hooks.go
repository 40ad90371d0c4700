package engine

import "github.com/ckptsim/ckptsim/sim"

// Hooks let fault injection observe the runtime at interesting moments. A hook
// returning true suppresses what would happen next.
type Hooks struct {
	// SnapshotTaken runs after a task's synchronous snapshot phase.
	SnapshotTaken func(t *Task, checkpoint int64)
	// CheckpointCompleted runs when a checkpoint is durable, before the tasks are
	// notified; true swallows the notifications.
	CheckpointCompleted func(cp *CompletedCheckpoint) bool
	// Deployed runs after an attempt's tasks are deployed (restored but not started).
	Deployed func(attempt int)
	// MetadataWriting runs when every task acknowledged a checkpoint and the
	// coordinator starts writing its metadata to the checkpoint store: the
	// checkpoint completes when the write is durable.
	MetadataWriting func(checkpoint int64)
	// FirstBarrier runs when a task with several input channels takes the first
	// barrier of a checkpoint: it is aligning (or persisting, when unaligned).
	FirstBarrier func(t *Task, checkpoint int64)

	// The hooks below only observe (the Chrome trace export uses them): they must
	// not change the runtime, schedule events or fold anything into the trace.

	// CheckpointTriggered runs when the coordinator triggers a checkpoint.
	CheckpointTriggered func(checkpoint int64)
	// BarrierSent runs when a task sends the barrier of a checkpoint on one of its
	// output channels.
	BarrierSent func(t *Task, ch *sim.Channel, checkpoint int64)
	// BarrierReceived runs when a task takes the barrier of a checkpoint from one
	// of its input channels.
	BarrierReceived func(t *Task, ch *sim.Channel, checkpoint int64)
	// PhaseEnded runs when a phase of a subtask's checkpoint (alignment, sync,
	// async) ends, completed or cut short (p.Outcome says which).
	PhaseEnded func(p PhaseSpan)
	// Restored runs when a task of a new attempt restored its part of a completed
	// checkpoint; channelRecords is the in-flight data it will replay first.
	Restored func(t *Task, checkpoint int64, channelRecords int)
	// AckReceived runs when the coordinator accepts a task's acknowledgement of a
	// pending checkpoint.
	AckReceived func(t *Task, checkpoint int64)
	// Notified runs when a task has processed the notification that a checkpoint
	// completed: its two-phase-commit sinks committed the transactions up to it.
	Notified func(t *Task, checkpoint int64)
}
