package protocol

import (
	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
)

// Uncoordinated is independent checkpointing with sender-side message logging, as
// CheckMate's UNC: every task checkpoints on its own jittered timer, logs every
// message it sends with a per-channel sequence number, and records per checkpoint
// the last sequence number sent and processed on each channel. Recovery restores
// the recovery line (the latest consistent set of checkpoints, found by fixpoint
// over the rollback-dependency graph) and replays each channel's in-transit
// messages from the sender's log.
type Uncoordinated struct{}

// Name implements engine.Protocol.
func (Uncoordinated) Name() string { return UncoordinatedName }

// Guarantee implements engine.Protocol.
func (Uncoordinated) Guarantee() checkpoint.Guarantee { return checkpoint.ExactlyOnce }

// NewHandler implements engine.Protocol; local protocols have no barrier handler.
func (Uncoordinated) NewHandler(checkpoint.HandlerConfig) checkpoint.BarrierHandler { return nil }

// SupportsFeedback implements checkpoint.FeedbackSupport: a local protocol
// needs no barriers; its message logs replay what a back edge carried.
func (Uncoordinated) SupportsFeedback() bool { return true }

// Family implements checkpoint.LocalProtocol.
func (Uncoordinated) Family() checkpoint.Family { return checkpoint.Uncoordinated }

// NewLocal implements checkpoint.LocalProtocol.
func (Uncoordinated) NewLocal(cfg checkpoint.LocalConfig) checkpoint.LocalHandler {
	return &uncoordinated{timer: newBasicTimer(cfg)}
}

// Recovery implements checkpoint.LocalProtocol.
func (Uncoordinated) Recovery() checkpoint.RecoveryPlanner { return lineRecovery{} }

// uncoordinated checkpoints whenever its timer fires, and at the end.
type uncoordinated struct {
	timer basicTimer
}

func (u *uncoordinated) Start(now sim.Time, out []checkpoint.LocalAction) []checkpoint.LocalAction {
	u.timer.taken(now)
	return u.timer.arm(out)
}

func (u *uncoordinated) Timer(now sim.Time, out []checkpoint.LocalAction) []checkpoint.LocalAction {
	if now < u.timer.due() {
		return u.timer.arm(out) // a timer of an earlier period
	}
	u.timer.taken(now)
	out = append(out, checkpoint.LocalAction{Kind: checkpoint.LocalCheckpoint})
	return u.timer.arm(out)
}

func (u *uncoordinated) Stamp(_ int, dst []uint64) []uint64 { return dst }

func (u *uncoordinated) Receive(_ int, _ []uint64, _ sim.Time, out []checkpoint.LocalAction) []checkpoint.LocalAction {
	return out
}

func (u *uncoordinated) Finished(now sim.Time, out []checkpoint.LocalAction) []checkpoint.LocalAction {
	return append(out, checkpoint.LocalAction{Kind: checkpoint.LocalCheckpoint})
}

func (u *uncoordinated) Save(dst []uint64) []uint64 { return dst }
