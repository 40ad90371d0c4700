package engine_test

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// The engine-level scripts step the world one event at a time and, after each,
// log what changed on the checkpoint side that no hook reports: a handler
// blocking or resuming an input channel, a barrier reaching an input queue
// (announced) or overtaking the data before it there, a checkpoint turning
// unaligned at a task (the hybrid handler's switch, or an aligned barrier timing
// out in an output queue).

// watched is what the last step left, to compare the next one with.
type watched struct {
	held      map[string][]int
	unaligned map[string]bool // task and checkpoint: taken or turned unaligned
	queued    map[string]bool // channel and checkpoint: the barrier is in the input queue
	priority  map[string]bool // channel and checkpoint: it overtook the data there
}

// step runs one event and logs what it changed.
func (s *script) step() {
	s.w.Step()
	now := s.observe()
	if s.seen.held != nil {
		s.diff(now)
	}
	s.seen = now
}

func (s *script) observe() watched {
	o := watched{held: map[string][]int{}, unaligned: map[string]bool{}, queued: map[string]bool{}, priority: map[string]bool{}}
	for _, t := range s.rt.Tasks() {
		if t.Cancelled() {
			continue
		}
		o.held[t.Name()] = t.HeldForTest()
		for _, f := range t.InFlightForTest() {
			if f.Unaligned {
				o.unaligned[fmt.Sprintf("%s %d", t.Name(), f.Checkpoint)] = true
			}
		}
		for _, ch := range t.InputChannelsForTest() {
			for i := 0; i < ch.QueuedIn(); i++ {
				m := ch.QueuedInAt(i)
				if ev, ok := m.Payload.(*engine.StreamEvent); ok && ev.Kind == engine.EvBarrier {
					k := fmt.Sprintf("%s %d", s.chName(ch), ev.Checkpoint)
					o.queued[k] = true
					o.priority[k] = m.Priority
				}
			}
		}
	}
	return o
}

// diff logs the changes from s.seen to now, task by task in deployment order.
func (s *script) diff(now watched) {
	for _, t := range s.rt.Tasks() {
		name := t.Name()
		was, is := s.seen.held[name], now.held[name]
		for _, c := range is {
			if !slices.Contains(was, c) {
				s.note(entry{kind: "block", task: name, line: fmt.Sprintf("%s blocks in%d (aligning)", name, c)})
			}
		}
		if len(was) > 0 && len(is) == 0 {
			s.note(entry{kind: "resume", task: name, line: fmt.Sprintf("%s resumes %s", name, inputs(was))})
		}
		for _, f := range t.InFlightForTest() {
			k := fmt.Sprintf("%s %d", name, f.Checkpoint)
			if f.Unaligned && !s.seen.unaligned[k] && s.tookBefore(k) {
				s.note(entry{kind: "switch", task: name, id: f.Checkpoint,
					line: fmt.Sprintf("%s's checkpoint %d turns unaligned: its barrier overtook the data queued at the output", name, f.Checkpoint)})
			}
		}
		for _, ch := range t.InputChannelsForTest() {
			s.diffQueue(ch, now)
		}
	}
	s.taken = nil
}

// tookBefore reports whether the checkpoint (task and id) was taken before this
// step: one taken unaligned in this step did not turn unaligned.
func (s *script) tookBefore(k string) bool { return !s.taken[k] }

func (s *script) diffQueue(ch *sim.Channel, now watched) {
	for i := 0; i < ch.QueuedIn(); i++ {
		m := ch.QueuedInAt(i)
		ev, ok := m.Payload.(*engine.StreamEvent)
		if !ok || ev.Kind != engine.EvBarrier {
			continue
		}
		k := fmt.Sprintf("%s %d", s.chName(ch), ev.Checkpoint)
		ahead := 0
		for j := 0; j < ch.QueuedIn(); j++ {
			if q := ch.QueuedInAt(j); !q.Event && q.Seq < m.Seq {
				ahead++
			}
		}
		if !s.seen.queued[k] && !m.Priority {
			announced := ""
			if ev.OvertakeAt > 0 {
				announced = fmt.Sprintf(" (announced: it may overtake from %s)", ev.OvertakeAt.Short())
			}
			s.note(entry{kind: "arrived", ch: s.chName(ch), id: ev.Checkpoint,
				line: fmt.Sprintf("barrier %d reaches the input queue of %s behind %s%s", ev.Checkpoint, s.chName(ch), buffers(ahead), announced)})
		}
		if m.Priority && !s.seen.priority[k] {
			line := fmt.Sprintf("barrier %d overtakes %s in the input queue of %s", ev.Checkpoint, buffers(ahead), s.chName(ch))
			if ahead == 0 {
				line = fmt.Sprintf("barrier %d reaches the input queue of %s with priority, no data to overtake", ev.Checkpoint, s.chName(ch))
			}
			s.note(entry{kind: "overtake", ch: s.chName(ch), id: ev.Checkpoint, line: line})
		}
	}
}

func buffers(n int) string {
	if n == 1 {
		return "1 buffer"
	}
	return fmt.Sprintf("%d buffers", n)
}

func inputs(chans []int) string {
	parts := make([]string, len(chans))
	for i, c := range chans {
		parts[i] = fmt.Sprintf("in%d", c)
	}
	return strings.Join(parts, " ")
}
