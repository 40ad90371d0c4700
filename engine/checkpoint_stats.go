package engine

import (
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
