package checkpoint

import "github.com/ckptsim/ckptsim/sim"

// HandlerConfig describes the inputs of one task to its barrier handler.
type HandlerConfig struct {
	// Channels is the number of input channels, numbered across the task's gates.
	Channels int
	// Pointwise marks channels of forward and broadcast edges, which Flink keeps
	// aligned even for unaligned checkpoints.
	Pointwise []bool
	// AlignedTimeout is execution.checkpointing.aligned-checkpoint-timeout for
	// protocols that switch from aligned to unaligned.
	AlignedTimeout sim.Duration
	// AbortOnEndOfPartition is execution.checkpointing.checkpoints-after-tasks-finish
	// set to false: an end of partition while a checkpoint is pending aborts it
	// (Flink's CHECKPOINT_DECLINED_INPUT_END_OF_STREAM) instead of counting as that
	// channel's barrier.
	AbortOnEndOfPartition bool
	// Feedback marks the channels of back edges (the task is the head of a
	// cycle); nil when there are none. Only protocols that SupportsFeedback are
	// given one.
	Feedback []bool
}

// BarrierInfo is what a handler learns of a barrier.
type BarrierInfo struct {
	Checkpoint int64
	Created    sim.Time // when the coordinator triggered the checkpoint
	Unaligned  bool     // the barrier was sent as an overtaking (unaligned) barrier
	// Savepoint marks the barrier of a savepoint. A savepoint is always aligned
	// (Flink's forced alignment): an exactly-once handler blocks each channel at
	// its barrier and takes the checkpoint aligned once every barrier arrived,
	// whatever its protocol does for checkpoints (no overtaking, no in-flight
	// data, no aligned-checkpoint timeout). An at-least-once handler tracks it as
	// any checkpoint (Flink's CheckpointBarrierTracker). The engine holds every
	// handler to this: an unaligned ActCheckpoint, an ActCheckpoint with At, an
	// ActPersist or an ActPrioritize for a savepoint fails the job for good with
	// a message naming the savepoint and the task.
	Savepoint bool
}

// BarrierHandler is the per-task core of a protocol: a pure state machine. Each
// method receives one input and appends the resulting actions to out; it never
// calls the simulator or the task.
type BarrierHandler interface {
	// Barrier handles the barrier of a checkpoint arriving on channel ch.
	Barrier(ch int, b BarrierInfo, now sim.Time, out []Action) []Action
	// Cancel handles a cancellation barrier of checkpoint id on channel ch.
	Cancel(ch int, id int64, now sim.Time, out []Action) []Action
	// EndOfPartition handles the end of channel ch.
	EndOfPartition(ch int, now sim.Time, out []Action) []Action
	// Timer handles a timer the handler asked for with ActTimer.
	Timer(now sim.Time, out []Action) []Action
	// Abort tells the handler that the task aborted checkpoint id (coordinator
	// abort, subsumption); it forgets the checkpoint.
	Abort(id int64, now sim.Time, out []Action) []Action
	// Pending is the checkpoint the handler is aligning, if any.
	Pending() (id int64, ok bool)
}

// AlignmentCounter is implemented by handlers that count the bytes a task
// processes during an alignment (Flink's CheckpointBarrierHandler.addProcessedBytes),
// to report them with ActAligned. The engine calls Processed for every data buffer
// the task takes from channel ch.
type AlignmentCounter interface {
	Processed(ch int, bytes int64)
}
