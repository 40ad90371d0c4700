package protocol

import (
	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
)

// alignment measures one alignment as Flink's CheckpointBarrierHandler does: it
// starts at a checkpoint's first barrier (markAlignmentStart), counts the bytes
// processed until its last barrier (addProcessedBytes) and reports the figures
// when it ends (markAlignmentEnd). One alignment at a time: a newer one replaces
// it, an abort drops it (resetAlignment).
type alignment struct {
	on      bool
	id      int64
	created sim.Time
	start   sim.Time
	bytes   int64
}

// begin starts measuring the alignment of checkpoint id.
func (a *alignment) begin(id int64, created, now sim.Time) {
	*a = alignment{on: true, id: id, created: created, start: now}
}

// end reports the alignment of checkpoint id, if it is the one being measured.
func (a *alignment) end(id int64, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	if !a.on || a.id != id {
		return out
	}
	a.on = false
	return append(out, checkpoint.Action{Kind: checkpoint.ActAligned, Checkpoint: id,
		StartDelay: max(0, a.start.Sub(a.created)), Alignment: now.Sub(a.start), Bytes: a.bytes})
}

// reset drops the alignment being measured.
func (a *alignment) reset() { a.on = false }

// resetFor drops the alignment being measured when it is checkpoint id's: an
// abort of an older checkpoint leaves a newer one's alignment running
// (CheckpointBarrierTrackerTest testNextFirstCheckpointBarrierOvertakesCancellationBarrier).
func (a *alignment) resetFor(id int64) {
	if a.id == id {
		a.on = false
	}
}

// Processed implements checkpoint.AlignmentCounter.
func (a *alignment) Processed(ch int, bytes int64) {
	if a.on {
		a.bytes += bytes
	}
}
