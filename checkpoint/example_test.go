package checkpoint_test

import (
	"fmt"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
)

// eager is a protocol of its own, as a module outside ckptsim would write one: it
// blocks each channel at its barrier and checkpoints once all have it (aligned),
// ignoring cancellations and timers to stay short.
type eager struct{}

func (eager) Name() string                    { return "example/eager" }
func (eager) Guarantee() checkpoint.Guarantee { return checkpoint.ExactlyOnce }
func (eager) NewHandler(cfg checkpoint.HandlerConfig) checkpoint.BarrierHandler {
	return &eagerHandler{n: cfg.Channels, seen: map[int]bool{}}
}

// eagerHandler is the per-task state machine: inputs in, actions out.
type eagerHandler struct {
	n       int
	current int64
	seen    map[int]bool
}

func (h *eagerHandler) Barrier(ch int, b checkpoint.BarrierInfo, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	if b.Checkpoint < h.current {
		return out // an older checkpoint's barrier: taken or given up already
	}
	if b.Checkpoint > h.current {
		h.current, h.seen = b.Checkpoint, map[int]bool{}
	}
	h.seen[ch] = true
	out = append(out, checkpoint.Action{Kind: checkpoint.ActBlock, Channel: ch})
	if len(h.seen) == h.n {
		out = append(out, checkpoint.Action{Kind: checkpoint.ActCheckpoint, Checkpoint: h.current},
			checkpoint.Action{Kind: checkpoint.ActResume})
	}
	return out
}

func (h *eagerHandler) Cancel(ch int, id int64, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	return out
}

func (h *eagerHandler) EndOfPartition(ch int, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	return out
}

func (h *eagerHandler) Timer(now sim.Time, out []checkpoint.Action) []checkpoint.Action { return out }

func (h *eagerHandler) Abort(id int64, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	return out
}

func (h *eagerHandler) Pending() (int64, bool) {
	return h.current, len(h.seen) > 0 && len(h.seen) < h.n
}

// A protocol is a value implementing checkpoint.Protocol; its handler is driven
// one input at a time, and what it returns is what the task does.
func Example() {
	var p checkpoint.Protocol = eager{}
	h := p.NewHandler(checkpoint.HandlerConfig{Channels: 2})
	var out []checkpoint.Action
	out = h.Barrier(0, checkpoint.BarrierInfo{Checkpoint: 1}, 0, out[:0])
	fmt.Println(out)
	out = h.Barrier(1, checkpoint.BarrierInfo{Checkpoint: 1}, 0, out[:0])
	fmt.Println(out)
	// Output:
	// [block ch=0]
	// [block ch=1 checkpoint 1 aligned resume]
}
