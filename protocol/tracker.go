package protocol

import (
	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
)

// maxPendingTracked is how many checkpoints the tracker follows at once (Flink's
// CheckpointBarrierTracker keeps 50).
const maxPendingTracked = 50

// tracker is the at-least-once barrier handler: it counts barriers per checkpoint
// and never blocks a channel.
type tracker struct {
	channels  int
	abortEOP  bool // an end of partition aborts every pending checkpoint
	ended     []bool
	pending   []tracked // ascending checkpoint ids
	latest    int64     // newest checkpoint seen in a barrier, cancellation or abort
	alignment           // the figures of the latest checkpoint's alignment
}

type tracked struct {
	id   int64
	seen []bool
	n    int
}

func newTracker(cfg checkpoint.HandlerConfig) *tracker {
	return &tracker{channels: cfg.Channels, abortEOP: cfg.AbortOnEndOfPartition, ended: make([]bool, cfg.Channels)}
}

// Pending implements checkpoint.BarrierHandler: the oldest checkpoint being tracked.
func (t *tracker) Pending() (int64, bool) {
	if len(t.pending) == 0 {
		return 0, false
	}
	return t.pending[0].id, true
}

// Barrier implements checkpoint.BarrierHandler.
func (t *tracker) Barrier(ch int, b checkpoint.BarrierInfo, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	id := b.Checkpoint
	i := 0
	for i < len(t.pending) && t.pending[i].id != id {
		i++
	}
	if i == len(t.pending) {
		// As in Flink, only a checkpoint newer than every one seen is tracked: an
		// older one was taken, aborted or subsumed, or some channel already
		// passed its barrier.
		if id <= t.latest {
			return out
		}
		t.latest = id
		t.alignment.begin(id, b.Created, now) // the latest checkpoint is the one measured
		if len(t.pending) >= maxPendingTracked {
			t.pending = t.pending[1:] // forgotten silently, as Flink's tracker does
			i--
		}
		t.pending = append(t.pending, tracked{id: id, seen: make([]bool, t.channels)})
	}
	p := &t.pending[i]
	if !p.seen[ch] {
		p.seen[ch] = true
		p.n++
	}
	return t.complete(now, out)
}

// complete takes the newest checkpoint whose barriers all arrived. Older pending
// ones are subsumed and forgotten silently, as in Flink's CheckpointBarrierTracker:
// no abort, no cancellation barrier downstream, where a tracker still counting them
// may yet complete them (their barriers are on their way).
func (t *tracker) complete(now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	for i := len(t.pending) - 1; i >= 0; i-- {
		p := t.pending[i]
		n := p.n
		for c, e := range t.ended {
			if e && !p.seen[c] {
				n++
			}
		}
		if n < t.channels {
			continue
		}
		out = t.alignment.end(p.id, now, out) // only the latest checkpoint's is measured
		out = append(out, checkpoint.Action{Kind: checkpoint.ActCheckpoint, Checkpoint: p.id})
		t.pending = append(t.pending[:0], t.pending[i+1:]...)
		return out
	}
	return out
}

// Cancel implements checkpoint.BarrierHandler: as Flink's tracker, a cancellation
// aborts its checkpoint and every older pending one; it is forwarded once.
func (t *tracker) Cancel(ch int, id int64, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	from := len(out)
	out = t.cancel(id, out)
	for _, a := range out[from:] {
		t.alignment.resetFor(a.Checkpoint) // an abort drops its alignment
	}
	return out
}

func (t *tracker) cancel(id int64, out []checkpoint.Action) []checkpoint.Action {
	for len(t.pending) > 0 && t.pending[0].id < id {
		out = append(out, checkpoint.Action{Kind: checkpoint.ActAbort, Checkpoint: t.pending[0].id})
		t.pending = t.pending[1:]
	}
	if len(t.pending) > 0 && t.pending[0].id == id {
		t.pending = t.pending[1:]
		return append(out, checkpoint.Action{Kind: checkpoint.ActAbort, Checkpoint: id})
	}
	if id > t.latest {
		t.latest = id // its barriers are ignored from now on
		out = append(out, checkpoint.Action{Kind: checkpoint.ActAbort, Checkpoint: id})
	}
	return out
}

// EndOfPartition implements checkpoint.BarrierHandler.
func (t *tracker) EndOfPartition(ch int, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	t.ended[ch] = true
	if t.abortEOP {
		// checkpoints-after-tasks-finish: false: every pending checkpoint is
		// declined (CHECKPOINT_DECLINED_INPUT_END_OF_STREAM)
		for _, p := range t.pending {
			out = append(out, checkpoint.Action{Kind: checkpoint.ActAbort, Checkpoint: p.id, Decline: true})
		}
		t.pending = t.pending[:0]
		t.alignment.reset()
		return out
	}
	return t.complete(now, out)
}

// Timer implements checkpoint.BarrierHandler; the tracker sets none.
func (t *tracker) Timer(now sim.Time, out []checkpoint.Action) []checkpoint.Action { return out }

// Abort implements checkpoint.BarrierHandler: the task aborted the checkpoint already,
// the tracker forgets it.
func (t *tracker) Abort(id int64, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	for i, p := range t.pending {
		if p.id == id {
			t.pending = append(t.pending[:i], t.pending[i+1:]...)
			break
		}
	}
	if id > t.latest {
		t.latest = id // a checkpoint not seen yet: ignore its barriers
	}
	return out
}
