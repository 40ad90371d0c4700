package engine_test

import (
	"fmt"
	"strings"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// What the engine-level scripts print: channel queues, a task's checkpoint side,
// a completed checkpoint's channel state, the recoveries.

// tasks prints the tasks of the current attempt: where each runs, its pipelined
// region, and whether it is a new instance (a restart replaced the first one).
func (s *script) tasks() string {
	var b strings.Builder
	for _, t := range s.rt.Tasks() {
		fmt.Fprintf(&b, "%s on %s, region %d", t.Name(), t.Node().Name(), t.Region())
		if !s.first[t] {
			b.WriteString(", restarted")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// channels prints every channel of the current attempt: what waits at the
// sender, how many messages are on the wire, what waits at the receiver, and
// whether the sender is blocked (after an aligned barrier).
func (s *script) channels() string {
	var b strings.Builder
	for _, r := range s.rt.Tasks() {
		for _, ch := range r.InputChannelsForTest() {
			blocked := ""
			if ch.Blocked() {
				blocked = ", sender blocked"
			}
			fmt.Fprintf(&b, "%s: sender [%s] wire %d receiver [%s]%s\n", s.chName(ch),
				queue(ch.QueuedOut(), ch.QueuedOutAt), ch.InFlight(), queue(ch.QueuedIn(), ch.QueuedInAt), blocked)
		}
	}
	if b.Len() == 0 {
		return "no channels\n"
	}
	return b.String()
}

// queue prints n queued messages: a data buffer as its send sequence number and
// records (#3 s0:8-11), a barrier as B and its checkpoint, ! when it overtakes
// (priority), with what it says about the data it overtook at its sender.
func queue(n int, at func(int) sim.Msg) string {
	parts := make([]string, 0, n)
	for i := 0; i < n; i++ {
		parts = append(parts, msg(at(i)))
	}
	return strings.Join(parts, " ")
}

func msg(m sim.Msg) string {
	switch p := m.Payload.(type) {
	case *engine.Buffer:
		return fmt.Sprintf("#%d %s", m.Seq, records(p.Records))
	case *engine.StreamEvent:
		return event(m, p)
	}
	return fmt.Sprintf("#%d ?", m.Seq)
}

func event(m sim.Msg, ev *engine.StreamEvent) string {
	switch ev.Kind {
	case engine.EvBarrier:
		s := fmt.Sprintf("B%d", ev.Checkpoint)
		if m.Priority {
			s += "!"
		}
		if ev.Unaligned {
			s += "(unaligned"
		} else {
			s += "(aligned"
		}
		if ev.OvertakenUpTo > 0 {
			s += fmt.Sprintf(", overtook up to #%d", ev.OvertakenUpTo)
		}
		if ev.OutputStateFrom > 0 {
			s += fmt.Sprintf(", output state from #%d", ev.OutputStateFrom)
		}
		return s + ")"
	case engine.EvCancelBarrier:
		return fmt.Sprintf("cancel%d", ev.Checkpoint)
	case engine.EvEndOfPartition:
		return "end"
	}
	return "event"
}

// task prints a task's checkpoint side: the checkpoint its handler collects
// barriers of, the channels it holds blocked, and each checkpoint in flight
// with the captures of its input channels and the channel state so far.
func (s *script) task(t *engine.Task) string {
	var b strings.Builder
	if id, ok := t.PendingForTest(); ok {
		fmt.Fprintf(&b, "pending %d", id)
	} else {
		b.WriteString("nothing pending")
	}
	fmt.Fprintf(&b, ", blocked %v\n", t.HeldForTest())
	for _, f := range t.InFlightForTest() {
		mode := "aligned"
		if f.Unaligned {
			mode = "unaligned"
		}
		state := "waiting"
		if f.Uploading {
			state = "uploading"
		}
		fmt.Fprintf(&b, "checkpoint %d %s, %s: %d channels persisting, %d barriers queued\n", f.Checkpoint, mode, state,
			f.PersistOpen, f.QueuedBarriers)
		for i := range t.InputChannelsForTest() {
			for _, c := range t.CapturesForTest(i) {
				if c.Checkpoint == f.Checkpoint {
					fmt.Fprintf(&b, "  in%d capture: open %v, up to #%d, captured up to #%d\n", i, c.Open, c.UpTo, c.Captured)
				}
			}
		}
		channelState(&b, f.Snapshot)
	}
	return b.String()
}

// channelState prints a snapshot's in-flight data: input state per input
// channel, output state per output channel.
func channelState(b *strings.Builder, snap *engine.TaskSnapshot) {
	for i, recs := range snap.InputState {
		if len(recs) > 0 {
			fmt.Fprintf(b, "  input state in%d: %s\n", i, records(recs))
		}
	}
	for oi, out := range snap.OutputState {
		for ci, recs := range out {
			if len(recs) > 0 {
				fmt.Fprintf(b, "  output state out%d.%d: %s\n", oi, ci, records(recs))
			}
		}
	}
}

// checkpoint prints a completed checkpoint's channel state, task by task.
func (s *script) checkpoint(id int64) (string, error) {
	for _, cp := range s.rt.Coordinator().Completed() {
		if cp.ID != id {
			continue
		}
		var b strings.Builder
		for _, snap := range cp.Tasks {
			if !snap.HasChannelState() {
				fmt.Fprintf(&b, "%s: no channel state\n", snap.Task)
				continue
			}
			fmt.Fprintf(&b, "%s: %d B of channel state\n", snap.Task, snap.ChannelStateBytes())
			channelState(&b, snap)
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("no completed checkpoint %d", id)
}

// recoveries prints every recovery of the run.
func (s *script) recoveries() string {
	var b strings.Builder
	for _, r := range s.rt.Recoveries() {
		scope := "whole job"
		if r.Regions > 0 {
			scope = fmt.Sprintf("%d region(s)", r.Regions)
		}
		if r.RestartedAt == 0 {
			fmt.Fprintf(&b, "failed at %s (%s), %s: no restart of its own\n", r.FailedAt.Short(), r.Reason, scope)
			continue
		}
		fmt.Fprintf(&b, "failed at %s (%s), %s restarted at %s from checkpoint %d, with channel state: %v\n",
			r.FailedAt.Short(), r.Reason, scope, r.RestartedAt.Short(), r.FromCheckpoint, r.WithChannelState)
	}
	if b.Len() == 0 {
		return "none\n"
	}
	return b.String()
}

// verify prints, per sink, what its verifier saw of the records committed: the
// source records lost, seen twice, and committed out of order.
func (s *script) verify() string {
	var b strings.Builder
	if !s.rt.Finished() {
		b.WriteString("the job has not finished\n")
	}
	for _, name := range s.rt.Sinks() {
		v := s.rt.Sink(name).Verifier()
		source := map[string]string{"out": "src", "b": "other"}[name]
		fmt.Fprintf(&b, "sink %s: %d records committed, %d of %s's lost, %d duplicates, %d out of order\n", name, v.Total,
			v.Lost(s.rt.Generator(source).Splits(), s.records), source, v.Duplicates, v.OutOfOrder)
	}
	return b.String()
}
