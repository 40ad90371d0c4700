// Package recoveryline computes what independent (uncoordinated and
// communication-induced) checkpointing restores after a failure: the
// rollback-dependency graph of the tasks' checkpoints, the recovery line (the
// latest consistent set of checkpoints, one per task) by fixpoint, the checkpoints
// it had to skip, the in-transit messages to replay from the senders' logs, and
// which checkpoints no recovery can ever go behind (for sink commits and log
// truncation). It also finds useless checkpoints (on a Z-cycle), which
// communication-induced checkpointing must never take.
//
// Everything here is a pure function of its inputs. Messages are numbered per
// channel from 1 in send order; a checkpoint records, per output channel, the last
// sequence number its task had sent (and logged) and, per input channel, the last
// one it had processed. A set of checkpoints is consistent when no channel has an
// orphan message: processed by its receiver's checkpoint but not sent by its
// sender's.
package recoveryline

import "fmt"

// Channel is one FIFO channel: output Out of task From to input In of task To
// (outputs and inputs numbered per task).
type Channel struct{ From, Out, To, In int }

// Point is one checkpoint of a task, or its current state.
type Point struct {
	ID int64
	// Sent is, per output channel of the task, the last sequence number sent.
	Sent []int64
	// Processed is, per input channel of the task, the last sequence number
	// processed.
	Processed []int64
}

// History is what recovery knows of a job: its channels and, per task, the
// checkpoints it can restore, oldest first. Points[i][0] is the oldest state task i
// can restore (its initial state, all zero, until logs are truncated).
type History struct {
	Channels []Channel
	Points   [][]Point
	// Current is, per task, its state now when it keeps running, or nil when it
	// failed (its state since its last checkpoint is lost).
	Current []*Point
	// Nodes is, optionally, the node (worker) each task runs on.
	Nodes []int
}

// Validate checks that the history is well formed: every channel names existing
// tasks and channel numbers, every task has a point, and counters never go back.
func (h *History) Validate() error {
	for ci, c := range h.Channels {
		if c.From < 0 || c.From >= len(h.Points) || c.To < 0 || c.To >= len(h.Points) {
			return fmt.Errorf("channel %d: tasks %d -> %d out of range (%d tasks)", ci, c.From, c.To, len(h.Points))
		}
	}
	for i, ps := range h.Points {
		if len(ps) == 0 {
			return fmt.Errorf("task %d has no checkpoint to restore", i)
		}
		for k := 1; k < len(ps); k++ {
			if !below(&ps[k-1], &ps[k]) {
				return fmt.Errorf("task %d: checkpoint %d has a counter below checkpoint %d's", i, ps[k].ID, ps[k-1].ID)
			}
		}
	}
	for _, c := range h.Channels {
		for _, p := range h.Points[c.From] {
			if c.Out >= len(p.Sent) {
				return fmt.Errorf("task %d checkpoint %d: no output channel %d", c.From, p.ID, c.Out)
			}
		}
		for _, p := range h.Points[c.To] {
			if c.In >= len(p.Processed) {
				return fmt.Errorf("task %d checkpoint %d: no input channel %d", c.To, p.ID, c.In)
			}
		}
	}
	return nil
}

// below reports whether every counter of a is at most b's.
func below(a, b *Point) bool {
	for i := range a.Sent {
		if i < len(b.Sent) && a.Sent[i] > b.Sent[i] {
			return false
		}
	}
	for i := range a.Processed {
		if i < len(b.Processed) && a.Processed[i] > b.Processed[i] {
			return false
		}
	}
	return true
}

// point is task i's point at index x: a checkpoint, or its current state at
// x == len(Points[i]).
func (h *History) point(i, x int) *Point {
	if x == len(h.Points[i]) {
		return h.Current[i]
	}
	return &h.Points[i][x]
}

// top is the index of task i's newest state: its current state when it keeps
// running, else its latest checkpoint.
func (h *History) top(i int) int {
	if h.Current != nil && h.Current[i] != nil {
		return len(h.Points[i])
	}
	return len(h.Points[i]) - 1
}

// Line is a recovery line: per task, the index in History.Points of the checkpoint
// to restore (len(Points[i]) for a task that keeps its current state).
type Line struct {
	At []int
	// Useless counts the checkpoints the line skipped: restorable checkpoints
	// newer than the one restored, which rolled back with the failure.
	Useless int
}

// Restored reports whether task i restores a checkpoint (it does not keep running).
func (l Line) Restored(h *History, i int) bool { return l.At[i] < len(h.Points[i]) }

// Replay is one channel's in-transit messages after a recovery: those with
// sequence numbers in (From, To] are re-sent from the sender's log.
type Replay struct {
	Channel  int // index in History.Channels
	From, To int64
}

// Range is how a protocol turns a channel's counters at the recovery line into the
// messages to replay: processed is the receiver's, sent the sender's. The correct
// range is (processed, sent].
type Range func(processed, sent int64) (from, to int64)

// InTransit is the correct Range: every message sent and not processed.
func InTransit(processed, sent int64) (int64, int64) { return processed, sent }

// Replays lists, for every channel whose sender is restored, the messages its log
// must re-send: Range of (receiver's processed, sender's sent) at the line. Empty
// ranges are left out.
func (l Line) Replays(h *History, r Range) []Replay {
	var out []Replay
	for ci, c := range h.Channels {
		if !l.Restored(h, c.From) {
			continue
		}
		from, to := r(h.point(c.To, l.At[c.To]).Processed[c.In], h.point(c.From, l.At[c.From]).Sent[c.Out])
		if to > from {
			out = append(out, Replay{Channel: ci, From: from, To: to})
		}
	}
	return out
}

// Truncation is what no future recovery can need any more, given the checkpoints
// taken so far: Base[i] is the oldest checkpoint task i can ever restore again, and
// LogFrom[c] the last sequence number of channel c that no receiver can ever need
// replayed (the sender may drop it and everything before it from its log).
type Truncation struct {
	Base    []int
	LogFrom []int64
}
