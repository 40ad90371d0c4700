package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/checkpoint"

	"github.com/ckptsim/ckptsim/sim"
)

// Cycles. A job may have back edges: Stream.FeedbackTo adds an input to an
// operator built earlier, from a later one (the tail of the loop); the operator
// it feeds is the head of the cycle. The rules:
//
//   - Watermarks: the head's event time is the minimum over its forward inputs
//     only; the watermark that comes back on a feedback edge is ignored (it can
//     never be ahead of what the head sent into the loop).
//   - Termination: a head whose forward inputs have all ended waits for its loop
//     to be quiescent: no record being processed, no replay pending, no data in
//     an output buffer, in flight or queued on any channel of a task of the loop,
//     every input from outside the loop ended, and every head of the loop in the
//     same state. The heads check every LoopCheckInterval of virtual time (an
//     exact check of the simulated state, as a progress tracker sees it); once it
//     holds, each head ends its outputs (final watermark, operators' Finish,
//     end-of-partition) and end-of-input goes round the loop once: a head
//     finishes when it came back on every back edge. A bounded job whose records
//     stop circulating (a fixpoint) ends.
//   - Flow control: a back edge's channels are elastic (sim.Channel.SetElastic):
//     the head queues what comes back in memory, so a loop of full buffers
//     cannot deadlock; backpressure still reaches the loop's forward inputs.
//   - Checkpoints: a protocol must say it supports feedback edges
//     (checkpoint.SupportsFeedback); the barrier handler of a head is told which
//     channels are back edges (HandlerConfig.Feedback). A head waiting for its
//     loop to drain is triggered by the coordinator as a finished task is.

// LoopCheckInterval is how often a head waiting for its loop to drain checks it.
const LoopCheckInterval = 5 * sim.Millisecond

// evLoopCheck is the task event of a head's quiescence check.
const evLoopCheck uint32 = 15

// FeedbackTo closes a cycle: the stream's records flow back into head as its
// input number input (for a two-input operator, 1 is the second input) over
// the stream's partitioning (key-by for a keyed head). head must come before the
// stream's operator in the dataflow.
func (s *Stream) FeedbackTo(head *Stream, input int) {
	e := s.edge()
	e.Input, e.Feedback = input, true
	head.v.Inputs = append(head.v.Inputs, e)
}

// FeedbackTo is Stream.FeedbackTo for a keyed stream.
func (k *KeyedStream) FeedbackTo(head *Stream, input int) { k.s.FeedbackTo(head, input) }

// FeedbackEdge is a back edge with its consumer.
type FeedbackEdge struct {
	From, To *Vertex
}

// String names the edge "from -> to".
func (e FeedbackEdge) String() string { return fmt.Sprintf("%s -> %s", e.From.Name, e.To.Name) }

// FeedbackError refuses a cyclic job under a protocol that does not support
// feedback edges (checkpoint.SupportsFeedback); it wraps checkpoint.ErrNoFeedback.
type FeedbackError struct {
	Protocol string
	Edge     FeedbackEdge
}

func (e *FeedbackError) Error() string {
	return fmt.Sprintf("protocol %s does not support feedback edge %q", e.Protocol, e.Edge.String())
}

// Unwrap is checkpoint.ErrNoFeedback.
func (e *FeedbackError) Unwrap() error { return checkpoint.ErrNoFeedback }

// CheckFeedback refuses a job with a back edge under protocol p unless p
// supports feedback edges.
func CheckFeedback(j *Job, p checkpoint.Protocol) error {
	if fe := j.FeedbackEdges(); len(fe) > 0 && p != nil && !checkpoint.SupportsFeedback(p) {
		return &FeedbackError{Protocol: p.Name(), Edge: fe[0]}
	}
	return nil
}

// FeedbackEdges lists the job's back edges in graph order.
func (j *Job) FeedbackEdges() []FeedbackEdge {
	var out []FeedbackEdge
	for _, v := range j.Vertices {
		for _, e := range v.Inputs {
			if e.Feedback {
				out = append(out, FeedbackEdge{From: e.From, To: v})
			}
		}
	}
	return out
}

// Cyclic reports whether the job has a back edge.
func (j *Job) Cyclic() bool { return len(j.FeedbackEdges()) > 0 }

// validateFeedback checks that forward edges go forward in the dataflow and back
// edges backward, and that a head has a forward input.
func (j *Job) validateFeedback() error {
	for _, v := range j.Vertices {
		forward := 0
		for _, e := range v.Inputs {
			switch {
			case e.Feedback && e.From.ID < v.ID:
				return fmt.Errorf("feedback edge %q -> %q goes forward: its source must come after %q in the dataflow", e.From.Name, v.Name, v.Name)
			case !e.Feedback && e.From.ID >= v.ID:
				return fmt.Errorf("edge %q -> %q goes backward: mark it as feedback", e.From.Name, v.Name)
			case !e.Feedback:
				forward++
			}
			if e.Feedback && (e.From.Kind == KindSink || v.Kind == KindSource) {
				return fmt.Errorf("feedback edge %q -> %q: a loop cannot start at a sink or end at a source", e.From.Name, v.Name)
			}
		}
		if forward == 0 && v.Kind != KindSource {
			return fmt.Errorf("operator %q has only feedback inputs: a loop needs a forward input to start", v.Name)
		}
	}
	return nil
}

// loopVertices marks the vertices on a cycle through a back edge: those both
// reachable from its head and reaching its tail over forward edges.
func (j *Job) loopVertices() map[int]bool {
	in := map[int]bool{}
	for _, fe := range j.FeedbackEdges() {
		down := map[int]bool{fe.To.ID: true}
		for _, v := range j.Vertices { // vertices are in dataflow order
			for _, e := range v.Inputs {
				if !e.Feedback && down[e.From.ID] {
					down[v.ID] = true
				}
			}
		}
		up := map[int]bool{fe.From.ID: true}
		for i := len(j.Vertices) - 1; i >= 0; i-- {
			v := j.Vertices[i]
			if !up[v.ID] {
				continue
			}
			for _, e := range v.Inputs {
				if !e.Feedback {
					up[e.From.ID] = true
				}
			}
		}
		for id := range down {
			if up[id] {
				in[id] = true
			}
		}
	}
	return in
}

// loopTasks lists the tasks of the current attempt that run a vertex on a cycle.
func (rt *Runtime) loopTasks() []*Task {
	if rt.loops == nil {
		rt.loops = rt.job.loopVertices()
	}
	var out []*Task
	for _, t := range rt.tasks {
		for _, v := range t.Chain {
			if rt.loops[v.ID] {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// hasFeedback reports whether some input gate of the task is a back edge.
func (t *Task) hasFeedback() bool {
	for _, ig := range t.gates {
		if ig.feedback {
			return true
		}
	}
	return false
}

// forwardEnded reports whether every forward input of the task ended.
func (t *Task) forwardEnded() bool {
	for _, ig := range t.gates {
		if !ig.feedback && ig.nEnded < len(ig.wm) {
			return false
		}
	}
	return true
}

// waitLoop starts a head's wait for its loop to drain, once its forward inputs
// ended: the coordinator's pending checkpoints it never saw a barrier of are
// triggered here (it gets no more barriers), and the quiescence check starts.
func (t *Task) waitLoop() {
	if t.loopWait || t.finished {
		return
	}
	t.loopWait = true
	t.rt.w.TraceNote(0x6c6f6f70, uint64(t.index), 0)
	t.rt.coord.triggerWaiting(t)
	t.node.After(LoopCheckInterval, t, evLoopCheck, int64(t.attempt), 0)
}

// checkLoop is a waiting head's quiescence check: when the loop drained, every
// waiting head's feedback inputs end; otherwise it checks again later.
func (t *Task) checkLoop() {
	if t.finished || t.failed || !t.loopWait || t.loopDone {
		return
	}
	rt := t.rt
	loop := rt.loopTasks()
	if !rt.loopQuiescent(loop) {
		t.node.After(LoopCheckInterval, t, evLoopCheck, int64(t.attempt), 0)
		return
	}
	rt.w.TraceNote(0x71756965, uint64(t.index), 0)
	for _, h := range loop {
		if h.loopWait && !h.loopDone && !h.finished {
			h.endLoop()
		}
	}
}

// loopQuiescent reports whether nothing circulates in the loop's tasks and every
// head waits (see the rules at the top of this file).
func (rt *Runtime) loopQuiescent(loop []*Task) bool {
	if !rt.running || rt.jobDone || len(rt.pendingRegions) > 0 {
		return false
	}
	for _, t := range loop {
		if t.finished {
			continue
		}
		if t.failed || t.dead || t.suspended != 0 || t.attempt != rt.attempt || t.cur != nil || len(t.replay) > 0 {
			return false
		}
		if t.hasFeedback() && (!t.loopWait || t.loopDone) {
			return false
		}
		for _, ig := range t.gates {
			inner := ig.feedback || rt.loops[ig.from.ID]
			for i, ch := range ig.g.Channels() {
				if !inner && !ig.ended[i] {
					return false
				}
				if ch.QueuedIn() > 0 || ch.InFlight() > 0 || ch.QueuedOut() > 0 || ch.Holding() {
					return false
				}
			}
		}
		for _, o := range t.outs {
			if o.dirty > 0 {
				return false
			}
			for _, ch := range o.channels {
				if ch.QueuedOut() > 0 || ch.InFlight() > 0 || ch.Holding() {
					return false
				}
			}
		}
	}
	return true
}

// endLoop ends a drained loop at its head: the head's outputs end (its operators
// finish and end-of-partition goes into the loop and downstream), so the end of
// input goes round the loop once and comes back on the back edges, which ends
// the head (maybeFinish).
func (t *Task) endLoop() {
	t.loopDone = true
	t.endOutputs()
}

// persistCurrentFeedback logs, for checkpoint f starting to log back edge idx,
// the records of the buffer of that channel the task is in the middle of: a
// head triggered while its forward inputs ended (waitLoop) takes its snapshot
// between two records of a buffer, and the rest of the buffer is not in the
// snapshot's state.
func (t *Task) persistCurrentFeedback(idx int, f *inflight) {
	c := t.ck
	if t.cur == nil || t.curCh == nil || t.curCh != c.chans[idx] || t.curGate == nil || !t.curGate.feedback {
		return
	}
	if cp := c.captureOf(idx, f.id); cp != nil && cp.open && t.curSeq > cp.captured {
		cp.captured = t.curSeq
		t.persist(f, idx, t.cur.Records[t.cur.pos:])
	}
}

// LoggingBackEdge reports whether the task, the head of a cycle, is logging a
// back edge for a checkpoint whose barrier has not come back yet (ABS Algorithm
// 2). Local protocols log every channel at its sender and are not counted.
func (t *Task) LoggingBackEdge() bool {
	if t.ck == nil || t.dead {
		return false
	}
	for gi, ig := range t.gates {
		if !ig.feedback {
			continue
		}
		for i := range ig.wm {
			for _, cp := range t.ck.captures[t.ck.gateBase[gi]+i] {
				if cp.open {
					return true
				}
			}
		}
	}
	return false
}
