package engine

import "github.com/ckptsim/ckptsim/sim"

// This file exposes, to the external test package only (the engine-level
// scripts in scripts_test.go), what a task's checkpoint side keeps to itself:
// its input channels as the barrier handler numbers them, the channels it holds
// blocked, the checkpoints in flight with the channel state captured so far,
// and the channel state a restored task replays.

// CaptureView is one checkpoint's capture of one input channel.
type CaptureView struct {
	Checkpoint int64
	// Open: buffers polled from the channel are persisted for the checkpoint.
	Open bool
	// UpTo is the send sequence number of the last buffer its barrier overtook
	// at the sender (0: none); Captured the last one persisted.
	UpTo, Captured int64
}

// InFlightView is a checkpoint a task took and has not acknowledged yet.
type InFlightView struct {
	Checkpoint int64
	Unaligned  bool
	Uploading  bool
	// PersistOpen counts the input channels still feeding its input state,
	// QueuedBarriers its aligned barriers that may still time out in an output
	// queue.
	PersistOpen, QueuedBarriers int
	Snapshot                    *TaskSnapshot
}

// ReplayView is one piece of restored channel state a new task replays before
// any new input: output state re-sent on output Output's channel Channel, or
// input state of input channel Channel (Output -1). Channel -1: redistributed
// (the checkpoint was taken at another parallelism).
type ReplayView struct {
	Output, Channel int
	Records         []Record
}

// InputChannelsForTest lists the task's input channels numbered across its
// gates, as its barrier handler numbers them (nil without a protocol).
func (t *Task) InputChannelsForTest() []*sim.Channel {
	if t.ck == nil {
		return nil
	}
	return t.ck.chans
}

// HeldForTest lists the input channels the barrier handler keeps blocked.
func (t *Task) HeldForTest() []int {
	if t.ck == nil {
		return nil
	}
	var out []int
	for i, h := range t.ck.held {
		if h {
			out = append(out, i)
		}
	}
	return out
}

// PendingForTest is the checkpoint the barrier handler is collecting barriers of.
func (t *Task) PendingForTest() (int64, bool) {
	if t.ck == nil {
		return 0, false
	}
	return t.ck.handler.Pending()
}

// CapturesForTest lists the captures of input channel idx.
func (t *Task) CapturesForTest(idx int) []CaptureView {
	if t.ck == nil || idx >= len(t.ck.captures) {
		return nil
	}
	var out []CaptureView
	for _, cp := range t.ck.captures[idx] {
		if t.ck.find(cp.id) != nil {
			out = append(out, CaptureView{Checkpoint: cp.id, Open: cp.open, UpTo: cp.upTo, Captured: cp.captured})
		}
	}
	return out
}

// InFlightForTest lists the checkpoints taken and not yet acknowledged.
func (t *Task) InFlightForTest() []InFlightView {
	if t.ck == nil {
		return nil
	}
	var out []InFlightView
	for _, f := range t.ck.inflight {
		out = append(out, InFlightView{Checkpoint: f.id, Unaligned: f.unaligned, Uploading: f.uploading,
			PersistOpen: f.persistOpen, QueuedBarriers: f.queuedBarriers, Snapshot: f.snap})
	}
	return out
}

// ReplayForTest lists the restored channel state the task has still to replay.
func (t *Task) ReplayForTest() []ReplayView {
	var out []ReplayView
	for _, it := range t.replay {
		v := ReplayView{Output: -1, Channel: it.channel, Records: it.recs}
		if it.output != nil {
			for oi, o := range t.outs {
				if o == it.output {
					v.Output = oi
				}
			}
		}
		out = append(out, v)
	}
	return out
}
