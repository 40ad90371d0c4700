// Package mutant holds deliberately broken checkpoint protocols, selectable as
// "mutant/NAME" and never a default. Each claims exactly-once and breaks it in one
// precise way; the property suite must catch every one of them.
package mutant

import (
	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/sim"
)

// Mutant is a broken protocol: a correct base protocol whose barrier handler drops
// some actions, and/or engine mutations.
type Mutant struct {
	name string
	// Doc says what is broken.
	Doc  string
	base checkpoint.Protocol
	drop checkpoint.ActionKind // actions the handler never emits (0: none)
	mut  checkpoint.Mutation
	// wrap, when set, changes the base handler's actions.
	wrap func(checkpoint.BarrierHandler) checkpoint.BarrierHandler
	// Cyclic marks a mutant only a job with a back edge can catch.
	Cyclic bool
}

// Name implements checkpoint.Protocol.
func (m *Mutant) Name() string { return "mutant/" + m.name }

// Guarantee implements checkpoint.Protocol: mutants claim exactly once, so the oracles
// hold them to it.
func (m *Mutant) Guarantee() checkpoint.Guarantee { return checkpoint.ExactlyOnce }

// SupportsFeedback implements checkpoint.FeedbackSupport as the base does.
func (m *Mutant) SupportsFeedback() bool { return checkpoint.SupportsFeedback(m.base) }

// Mutation implements checkpoint.Mutant.
func (m *Mutant) Mutation() checkpoint.Mutation { return m.mut }

// NewHandler implements checkpoint.Protocol.
func (m *Mutant) NewHandler(cfg checkpoint.HandlerConfig) checkpoint.BarrierHandler {
	h := m.base.NewHandler(cfg)
	if m.wrap != nil {
		h = m.wrap(h)
	}
	if m.drop == 0 {
		return h
	}
	return &dropping{BarrierHandler: h, drop: m.drop}
}

// All lists the mutants.
var All = []*Mutant{
	{name: "aligned-no-block", Doc: "aligned checkpoints that never block a channel at its barrier",
		base: protocol.Aligned{}, drop: checkpoint.ActBlock},
	{name: "unaligned-drop-input-state", Doc: "unaligned checkpoints that forget the input buffers before each channel's barrier",
		base: protocol.Unaligned{}, drop: checkpoint.ActPersist, mut: checkpoint.Mutation{DropInputState: true}},
	{name: "unaligned-drop-output-state", Doc: "unaligned checkpoints that forget the output buffers the barrier overtook",
		base: protocol.Unaligned{}, mut: checkpoint.Mutation{DropOutputState: true}},
	{name: "sink-early-commit", Doc: "sinks commit at pre-commit, before the checkpoint completes",
		base: protocol.Aligned{}, mut: checkpoint.Mutation{SinkEarlyCommit: true}},
	{name: "restore-stale-checkpoint", Doc: "recovery restores the checkpoint before the latest",
		base: protocol.Aligned{}, mut: checkpoint.Mutation{RestoreStale: true}},
	{name: "source-offset-off-by-one", Doc: "sources record an offset one past the truth",
		base: protocol.Aligned{}, mut: checkpoint.Mutation{SourceOffsetShift: 1}},
	{name: "ack-before-upload", Doc: "tasks acknowledge before their upload is durable",
		base: protocol.Aligned{}, mut: checkpoint.Mutation{AckBeforeUpload: true}},
	{name: "complete-without-all-acks", Doc: "the coordinator completes a checkpoint one acknowledgement short",
		base: protocol.Aligned{}, mut: checkpoint.Mutation{CompleteWithoutAllAcks: true}},
	{name: "unaligned-overtaken-drop-last", Doc: "a barrier that overtakes output buffers at its sender persists all of them but the last",
		base: protocol.Unaligned{}, mut: checkpoint.Mutation{OvertakenDropLast: true}},
	{name: "notify-before-metadata", Doc: "the coordinator notifies completion once every task acknowledged, before the checkpoint's metadata is durable",
		base: protocol.Aligned{}, mut: checkpoint.Mutation{NotifyBeforeMetadata: true}},
	{name: "aligned-early-release", Doc: "aligned checkpoints that let a blocked channel go when the next channel's barrier arrives",
		base: protocol.Aligned{}, wrap: func(h checkpoint.BarrierHandler) checkpoint.BarrierHandler { return &earlyRelease{BarrierHandler: h} }},
	// CheckMate's coordinated protocol on its cyclic query (CHECKMATE-NOTES.md, 9)
	{name: "aligned-no-backedge-log", Doc: "aligned checkpoints on a cycle without ABS's back-edge log: the feedback records in flight at a head's snapshot are lost on restore",
		base: protocol.Aligned{}, drop: checkpoint.ActPersist, Cyclic: true},
	{name: "snapshot-by-reference", Doc: "the heap backend's snapshot shares the live state and is serialised when its upload ends, after later records changed it (not atomic)",
		base: protocol.Aligned{}, mut: checkpoint.Mutation{SnapshotByReference: true}},
	{name: "non-fifo-channels", Doc: "the network is not FIFO: a barrier overtakes the data buffer sent just before it while that buffer is on the wire, under aligned checkpoints that assume FIFO",
		base: protocol.Aligned{}, mut: checkpoint.Mutation{NonFIFOChannels: true}},
}

func init() {
	for _, m := range All {
		checkpoint.Register(m)
	}
}

// dropping filters one kind of action out of a correct handler.
type dropping struct {
	checkpoint.BarrierHandler
	drop checkpoint.ActionKind
}

func (d *dropping) filter(out []checkpoint.Action, from int) []checkpoint.Action {
	keep := out[:from]
	for _, a := range out[from:] {
		if a.Kind != d.drop {
			keep = append(keep, a)
		}
	}
	return keep
}

func (d *dropping) Barrier(ch int, b checkpoint.BarrierInfo, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	return d.filter(d.BarrierHandler.Barrier(ch, b, now, out), len(out))
}

func (d *dropping) Cancel(ch int, id int64, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	return d.filter(d.BarrierHandler.Cancel(ch, id, now, out), len(out))
}

func (d *dropping) EndOfPartition(ch int, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	return d.filter(d.BarrierHandler.EndOfPartition(ch, now, out), len(out))
}

func (d *dropping) Timer(now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	return d.filter(d.BarrierHandler.Timer(now, out), len(out))
}

func (d *dropping) Abort(id int64, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	return d.filter(d.BarrierHandler.Abort(id, now, out), len(out))
}

// earlyRelease resumes the channels blocked so far whenever another channel's
// barrier blocks it and the alignment is not complete: only the channel whose
// barrier came last stays blocked (with two channels it is correct; from three on
// the earlier channels deliver records after their barrier into the snapshot).
type earlyRelease struct {
	checkpoint.BarrierHandler
	blocked int // channels blocked since the alignment started
}

func (e *earlyRelease) Barrier(ch int, b checkpoint.BarrierInfo, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	from := len(out)
	out = e.BarrierHandler.Barrier(ch, b, now, out)
	block := -1
	for i, a := range out[from:] {
		switch a.Kind {
		case checkpoint.ActCheckpoint, checkpoint.ActResume, checkpoint.ActAbort:
			e.blocked = 0
			if a.Kind != checkpoint.ActAbort {
				return out // alignment done: nothing to release early
			}
		case checkpoint.ActBlock:
			block = from + i
		}
	}
	if block < 0 {
		return out
	}
	e.blocked++
	if e.blocked < 2 {
		return out // the first channel of the alignment: nothing to release
	}
	out = append(out, checkpoint.Action{})
	copy(out[block+1:], out[block:])
	out[block] = checkpoint.Action{Kind: checkpoint.ActResume}
	e.blocked = 1
	return out
}

// reset notes the end of an alignment in the actions of any other input.
func (e *earlyRelease) reset(out []checkpoint.Action, from int) []checkpoint.Action {
	for _, a := range out[from:] {
		if a.Kind == checkpoint.ActResume || a.Kind == checkpoint.ActCheckpoint || a.Kind == checkpoint.ActAbort {
			e.blocked = 0
		}
	}
	return out
}

func (e *earlyRelease) Cancel(ch int, id int64, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	return e.reset(e.BarrierHandler.Cancel(ch, id, now, out), len(out))
}

func (e *earlyRelease) EndOfPartition(ch int, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	return e.reset(e.BarrierHandler.EndOfPartition(ch, now, out), len(out))
}

func (e *earlyRelease) Timer(now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	return e.reset(e.BarrierHandler.Timer(now, out), len(out))
}

func (e *earlyRelease) Abort(id int64, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	return e.reset(e.BarrierHandler.Abort(id, now, out), len(out))
}

// Processed implements checkpoint.AlignmentCounter for the wrapped handler.
func (d *dropping) Processed(ch int, bytes int64) { countProcessed(d.BarrierHandler, ch, bytes) }

// Processed implements checkpoint.AlignmentCounter for the wrapped handler.
func (e *earlyRelease) Processed(ch int, bytes int64) { countProcessed(e.BarrierHandler, ch, bytes) }

func countProcessed(h checkpoint.BarrierHandler, ch int, bytes int64) {
	if c, ok := h.(checkpoint.AlignmentCounter); ok {
		c.Processed(ch, bytes)
	}
}
