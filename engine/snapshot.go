package engine

import (
	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
)

// TaskSnapshot is what one subtask contributes to a checkpoint: its keyed state,
// source offsets, pending sink transactions and, for unaligned checkpoints, the
// in-flight data it persisted. It is immutable once acknowledged.
type TaskSnapshot struct {
	Task    string // task name, e.g. "sum->out[2]"
	Chain   string // chain name without the subtask index
	Subtask int
	// Parallelism of the chain when the snapshot was taken.
	Parallelism int
	State       *state.Snapshot
	// Offsets is the next offset per split of a source task.
	Offsets map[int32]int64
	// Txns are the sink transactions pre-committed and not yet committed, by sink
	// vertex name.
	Txns map[string][]int64
	// InputState holds, per input channel (numbered across gates), the records that
	// were sent before the barrier and not yet processed at snapshot time.
	InputState [][]Record
	// InputGates gives the gate (input edge) of each input channel number.
	InputGates []int
	// OutputState holds, per output and channel, the records the barrier overtook.
	OutputState [][][]Record
	// Local is a local protocol's part of the snapshot (nil for coordinated ones).
	Local *LocalSnapshot
}

// ChannelStateBytes is the size of the persisted in-flight data.
func (s *TaskSnapshot) ChannelStateBytes() int64 {
	var n int64
	for _, ch := range s.InputState {
		for i := range ch {
			n += int64(ch[i].Size)
		}
	}
	for _, out := range s.OutputState {
		for _, ch := range out {
			for i := range ch {
				n += int64(ch[i].Size)
			}
		}
	}
	return n
}

// HasChannelState reports whether any in-flight data was persisted.
func (s *TaskSnapshot) HasChannelState() bool { return s.ChannelStateBytes() > 0 }

// SubtaskCheckpointStats are Flink's per-subtask checkpoint metrics.
type SubtaskCheckpointStats struct {
	Task       string
	Checkpoint int64
	// StartDelay is from the barrier's creation to the first barrier at the task.
	StartDelay sim.Duration
	// Alignment is from the first to the last barrier (0 for sources).
	Alignment sim.Duration
	// Sync and Async are the durations of the snapshot's two phases; Async for
	// unaligned checkpoints includes waiting for the last barrier.
	Sync, Async sim.Duration
	// ProcessedBytes is the data processed during alignment.
	ProcessedBytes int64
	// PersistedBytes is the in-flight data persisted (unaligned, or an aligned
	// head's back-edge log).
	PersistedBytes int64
	// BackEdgeBytes is the part of PersistedBytes logged from back edges (ABS
	// Algorithm 2 at the head of a cycle).
	BackEdgeBytes int64
	// StateBytes is the checkpointed state size (incremental size when
	// incremental), FullStateBytes the full size.
	StateBytes, FullStateBytes int64
	// LogBytes is the message log a local checkpoint uploaded (its delta since the
	// task's previous durable checkpoint).
	LogBytes  int64
	Unaligned bool
	AckAt     sim.Time
}
