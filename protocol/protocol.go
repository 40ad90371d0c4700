// Package protocol holds ckptsim's checkpoint protocols: the barrier handlers that
// decide, per task, which channels block, when to snapshot and what in-flight data
// becomes channel state. Each handler is a pure state machine (inputs in, actions
// out), registered with the engine by name.
package protocol

import "github.com/ckptsim/ckptsim/checkpoint"

func init() {
	checkpoint.Register(Aligned{})
	checkpoint.Register(Unaligned{})
	checkpoint.Register(Hybrid{})
	checkpoint.Register(AtLeastOnceProtocol{})
	checkpoint.Register(Uncoordinated{})
	checkpoint.Register(CIC{})
}

// Aligned is exactly-once asynchronous barrier snapshotting (Carbone et al. 2015):
// each channel blocks at its barrier until every input has it, then the task
// snapshots and forwards the barrier. No in-flight data is persisted.
type Aligned struct{}

// Name implements checkpoint.Protocol.
func (Aligned) Name() string { return AlignedName }

// Guarantee implements checkpoint.Protocol.
func (Aligned) Guarantee() checkpoint.Guarantee { return checkpoint.ExactlyOnce }

// SupportsFeedback implements checkpoint.FeedbackSupport: on a cycle the head
// logs its back edges as ABS's Algorithm 2 (protocol/cycle.go).
func (Aligned) SupportsFeedback() bool { return true }

// NewHandler implements checkpoint.Protocol.
func (Aligned) NewHandler(cfg checkpoint.HandlerConfig) checkpoint.BarrierHandler {
	return newSingle(cfg, modeAligned)
}

// Unaligned is FLIP-76: at the first barrier the task checkpoints at once, its
// barrier overtakes queued output buffers (which become output channel state) and
// every input buffer that arrives before a channel's own barrier becomes input
// channel state.
type Unaligned struct{}

// Name implements checkpoint.Protocol.
func (Unaligned) Name() string { return UnalignedName }

// Guarantee implements checkpoint.Protocol.
func (Unaligned) Guarantee() checkpoint.Guarantee { return checkpoint.ExactlyOnce }

// SupportsFeedback implements checkpoint.FeedbackSupport: a back edge is an
// input like any other, persisted from the snapshot until its barrier comes back.
func (Unaligned) SupportsFeedback() bool { return true }

// NewHandler implements checkpoint.Protocol.
func (Unaligned) NewHandler(cfg checkpoint.HandlerConfig) checkpoint.BarrierHandler {
	return newSingle(cfg, modeUnaligned)
}

// Hybrid is aligned checkpoints with a timeout
// (execution.checkpointing.aligned-checkpoint-timeout): a checkpoint starts aligned
// and turns unaligned once the time since the barrier's creation exceeds the
// timeout, when a late barrier arrives or by an active timer. Timeout 0 is always
// unaligned.
type Hybrid struct{}

// Name implements checkpoint.Protocol.
func (Hybrid) Name() string { return HybridName }

// Guarantee implements checkpoint.Protocol.
func (Hybrid) Guarantee() checkpoint.Guarantee { return checkpoint.ExactlyOnce }

// NewHandler implements checkpoint.Protocol.
func (Hybrid) NewHandler(cfg checkpoint.HandlerConfig) checkpoint.BarrierHandler {
	if cfg.AlignedTimeout <= 0 {
		return newSingle(cfg, modeUnaligned)
	}
	return newSingle(cfg, modeHybrid)
}

// AtLeastOnceProtocol is Flink's CheckpointBarrierTracker: barriers are counted,
// never block, and the task snapshots when the last one arrives. Records after a
// barrier on an early channel are in the snapshot's effects, so they are replayed
// after a restore: duplicates.
type AtLeastOnceProtocol struct{}

// Name implements checkpoint.Protocol.
func (AtLeastOnceProtocol) Name() string { return AtLeastOnceName }

// Guarantee implements checkpoint.Protocol.
func (AtLeastOnceProtocol) Guarantee() checkpoint.Guarantee { return checkpoint.AtLeastOnce }

// NewHandler implements checkpoint.Protocol.
func (AtLeastOnceProtocol) NewHandler(cfg checkpoint.HandlerConfig) checkpoint.BarrierHandler {
	return newTracker(cfg)
}
