// Package myprotocol is a checkpoint protocol written outside ckptsim, as a user
// of the testbed writes one: aligned checkpoints with a twist. A task never holds
// more than MaxBlocked channels blocked: the barrier that would block one channel
// too many turns the checkpoint unaligned (unless it is the last one), which
// bounds how far alignment backpressure spreads on a wide fan-in, by count rather
// than by time. Its tests run ckptsim's whole battery on it (package check).
package myprotocol

import (
	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
)

// Capped is aligned, but never holds more than MaxBlocked channels blocked.
type Capped struct{ MaxBlocked int }

// Name implements checkpoint.Protocol.
func (Capped) Name() string { return "aligned-capped" }

// Guarantee implements checkpoint.Protocol.
func (Capped) Guarantee() checkpoint.Guarantee { return checkpoint.ExactlyOnce }

// NewHandler implements checkpoint.Protocol.
func (p Capped) NewHandler(cfg checkpoint.HandlerConfig) checkpoint.BarrierHandler {
	return &capped{max: max(1, p.MaxBlocked), got: make([]bool, cfg.Channels), ended: make([]bool, cfg.Channels)}
}

// capped is the per-task state machine: inputs in, actions out.
type capped struct {
	max, count, blocked int   // cap; channels with their barrier or ended; channels blocked
	current, highest    int64 // the checkpoint being collected (0: none); the newest id seen
	unaligned           bool  // current turned unaligned
	got, ended          []bool
	// skipPersist is the bug of the broken variant (see Broken).
	skipPersist bool
}

func (h *capped) Pending() (int64, bool) { return h.current, h.current != 0 }

func (h *capped) Barrier(ch int, b checkpoint.BarrierInfo, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	id := b.Checkpoint
	if id < h.highest || (id == h.highest && h.current != id) {
		return out // stale: completed, aborted or subsumed
	}
	if h.current != 0 && id > h.current {
		out = h.drop(true, out) // subsumed by a newer checkpoint
	}
	if h.current == 0 {
		h.start(id)
	}
	if h.got[ch] || h.ended[ch] {
		return out // a duplicate
	}
	h.got[ch] = true
	h.count++
	last := h.count == len(h.got)
	switch {
	case h.unaligned:
		out = append(out, checkpoint.Action{Kind: checkpoint.ActStopPersist, Channel: ch})
	case b.Unaligned || (!last && h.blocked == h.max && !b.Savepoint):
		// an overtaking barrier, or one block too many: snapshot now, resume, and
		// persist the channels still missing their barrier (never for a savepoint,
		// which is always aligned: it holds no channel state)
		h.unaligned = true
		out = append(out, checkpoint.Action{Kind: checkpoint.ActCheckpoint, Checkpoint: id, Unaligned: true},
			checkpoint.Action{Kind: checkpoint.ActResume})
		for i := range h.got {
			if !h.got[i] && !h.ended[i] && !h.skipPersist {
				out = append(out, checkpoint.Action{Kind: checkpoint.ActPersist, Channel: i})
			}
		}
	default:
		h.blocked++
		out = append(out, checkpoint.Action{Kind: checkpoint.ActBlock, Channel: ch})
	}
	return h.maybeComplete(out)
}

// start begins collecting checkpoint id; channels that ended count as arrived.
func (h *capped) start(id int64) {
	h.current, h.highest, h.unaligned, h.blocked, h.count = id, id, false, 0, 0
	for i := range h.got {
		h.got[i] = false
		if h.ended[i] {
			h.count++
		}
	}
}

func (h *capped) maybeComplete(out []checkpoint.Action) []checkpoint.Action {
	if h.current == 0 || h.count < len(h.got) {
		return out
	}
	if !h.unaligned {
		out = append(out, checkpoint.Action{Kind: checkpoint.ActCheckpoint, Checkpoint: h.current},
			checkpoint.Action{Kind: checkpoint.ActResume})
	}
	h.current = 0
	return out
}

// drop forgets the current checkpoint; abort tells the task (it does not know yet).
func (h *capped) drop(abort bool, out []checkpoint.Action) []checkpoint.Action {
	if abort {
		out = append(out, checkpoint.Action{Kind: checkpoint.ActAbort, Checkpoint: h.current})
	}
	if !h.unaligned {
		out = append(out, checkpoint.Action{Kind: checkpoint.ActResume})
	}
	for i := range h.got {
		if h.unaligned && !h.got[i] && !h.ended[i] && !h.skipPersist {
			out = append(out, checkpoint.Action{Kind: checkpoint.ActStopPersist, Channel: i})
		}
	}
	h.current = 0
	return out
}

func (h *capped) Cancel(ch int, id int64, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	if id < h.highest || (id == h.highest && h.current != id) {
		return out
	}
	if h.current != 0 {
		cur := h.current
		if out = h.drop(true, out); id == cur {
			return out
		}
	}
	h.highest = id // newer than any seen: forward its cancellation once
	return append(out, checkpoint.Action{Kind: checkpoint.ActAbort, Checkpoint: id})
}

func (h *capped) EndOfPartition(ch int, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	if h.ended[ch] {
		return out
	}
	h.ended[ch] = true
	if h.current == 0 || h.got[ch] {
		return out
	}
	h.count++
	if h.unaligned && !h.skipPersist {
		out = append(out, checkpoint.Action{Kind: checkpoint.ActStopPersist, Channel: ch})
	}
	return h.maybeComplete(out)
}

func (h *capped) Timer(now sim.Time, out []checkpoint.Action) []checkpoint.Action { return out }

func (h *capped) Abort(id int64, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	if h.current != 0 && id > h.current {
		out = h.drop(true, out) // a newer checkpoint was aborted: subsumed
	}
	h.highest = max(h.highest, id)
	if h.current != 0 && h.current == id {
		out = h.drop(false, out) // the task aborted it already
	}
	return out
}
