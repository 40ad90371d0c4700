// Package localcheck runs local checkpoint handlers (uncoordinated and
// communication-induced) on an abstract message exchange, without the engine: a
// few processes over FIFO channels of any topology, cycles included, that send,
// process and fire timers in a given order. It records every checkpoint each
// handler takes, so that recoveryline can judge the history (a
// communication-induced protocol must never take a useless checkpoint), and
// shrinks a failing schedule to a short one. Use it to test a local protocol of
// your own step by step before running it in the engine.
package localcheck

import (
	"fmt"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/checkpoint/recoveryline"
	"github.com/ckptsim/ckptsim/sim"
)

// Event is one step of a run: "send" on channel Arg (its sender stamps and sends
// a message), "deliver" the oldest message of channel Arg to its receiver (which
// may force a checkpoint first), or "timer" of process Arg (every timer is due).
// Args are taken modulo the number of channels or processes; a deliver on an
// empty channel does nothing.
type Event struct {
	Kind string
	Arg  int
}

func (e Event) String() string { return fmt.Sprintf("%s %d", e.Kind, e.Arg) }

// Case is a topology and a schedule.
type Case struct {
	Processes int
	// Channels are the directed channels, [from, to].
	Channels [][2]int
	Events   []Event
}

func (c Case) String() string {
	return fmt.Sprintf("%d processes, channels %v, %d events: %v", c.Processes, c.Channels, len(c.Events), c.Events)
}

// NewHandler makes the handler of one process.
type NewHandler func(cfg checkpoint.LocalConfig) checkpoint.LocalHandler

// Run runs the case and returns the history it leaves: every checkpoint each
// process took, with its counters, and every process's final state.
func Run(c Case, newH NewHandler) *recoveryline.History {
	n := c.Processes
	h := &recoveryline.History{Points: make([][]recoveryline.Point, n), Current: make([]*recoveryline.Point, n)}
	outs, ins := make([][]int, n), make([][]int, n) // peer of each output / input channel
	for _, ch := range c.Channels {
		h.Channels = append(h.Channels, recoveryline.Channel{From: ch[0], Out: len(outs[ch[0]]), To: ch[1], In: len(ins[ch[1]])})
		outs[ch[0]] = append(outs[ch[0]], ch[1])
		ins[ch[1]] = append(ins[ch[1]], ch[0])
	}
	cur := make([]recoveryline.Point, n)
	hs := make([]checkpoint.LocalHandler, n)
	for i := range hs {
		cur[i] = recoveryline.Point{Sent: make([]int64, len(outs[i])), Processed: make([]int64, len(ins[i]))}
		h.Points[i] = []recoveryline.Point{clonePoint(cur[i], 0)}
		hs[i] = newH(checkpoint.LocalConfig{Task: i, Tasks: n, Outputs: outs[i], Inputs: ins[i], Interval: sim.Second, Seed: uint64(i)})
		hs[i].Start(0, nil)
	}
	take := func(i int, acts []checkpoint.LocalAction) {
		for _, a := range acts {
			if a.Kind == checkpoint.LocalCheckpoint {
				h.Points[i] = append(h.Points[i], clonePoint(cur[i], int64(len(h.Points[i]))))
			}
		}
	}
	queues := make([][][]uint64, len(h.Channels))
	now := sim.Time(0)
	for _, e := range c.Events {
		now = now.Add(10 * sim.Second) // every timer is due
		switch e.Kind {
		case "send":
			if len(h.Channels) == 0 {
				continue
			}
			k := e.Arg % len(h.Channels)
			ch := h.Channels[k]
			queues[k] = append(queues[k], hs[ch.From].Stamp(ch.Out, nil))
			cur[ch.From].Sent[ch.Out]++
		case "deliver":
			if len(h.Channels) == 0 {
				continue
			}
			k := e.Arg % len(h.Channels)
			if len(queues[k]) == 0 {
				continue
			}
			ch := h.Channels[k]
			m := queues[k][0]
			queues[k] = queues[k][1:]
			take(ch.To, hs[ch.To].Receive(ch.In, m, now, nil))
			cur[ch.To].Processed[ch.In]++
		case "timer":
			i := e.Arg % n
			take(i, hs[i].Timer(now, nil))
		}
	}
	for i := range cur {
		p := clonePoint(cur[i], -1)
		h.Current[i] = &p
	}
	return h
}

func clonePoint(p recoveryline.Point, id int64) recoveryline.Point {
	return recoveryline.Point{ID: id, Sent: append([]int64(nil), p.Sent...), Processed: append([]int64(nil), p.Processed...)}
}

// Random draws a case from seed: 2 to 4 processes, up to 6 channels (cycles
// allowed), 5 to 44 events.
func Random(seed uint64) Case {
	r := sim.NewRand(seed, "localcheck")
	c := Case{Processes: 2 + r.IntN(3)}
	for k := 1 + r.IntN(6); k > 0; k-- {
		a, b := r.IntN(c.Processes), r.IntN(c.Processes)
		if a != b {
			c.Channels = append(c.Channels, [2]int{a, b})
		}
	}
	if len(c.Channels) == 0 {
		c.Channels = [][2]int{{0, 1}, {1, 0}}
	}
	for k := 5 + r.IntN(40); k > 0; k-- {
		kind := []string{"send", "send", "deliver", "deliver", "timer"}[r.IntN(5)]
		c.Events = append(c.Events, Event{Kind: kind, Arg: r.IntN(8)})
	}
	return c
}

// Useless runs the case and returns its useless checkpoints.
func Useless(c Case, newH NewHandler) []recoveryline.Node {
	ns, err := recoveryline.Useless(Run(c, newH))
	if err != nil {
		panic(fmt.Sprintf("localcheck: %v", err)) // Run builds consistent histories
	}
	return ns
}

// Shrink removes events one at a time while fails still holds, and returns the
// smallest case found.
func Shrink(c Case, fails func(Case) bool) Case {
	for i := 0; i < len(c.Events); {
		cand := c
		cand.Events = append(append([]Event(nil), c.Events[:i]...), c.Events[i+1:]...)
		if fails(cand) {
			c = cand
			continue
		}
		i++
	}
	return c
}

// FirstUseless runs the random cases of seeds 1..n and returns the first that
// takes a useless checkpoint, shrunk, and whether there is one.
func FirstUseless(n int, newH NewHandler) (Case, bool) {
	fails := func(c Case) bool { return len(Useless(c, newH)) > 0 }
	for seed := uint64(1); seed <= uint64(n); seed++ {
		if c := Random(seed); fails(c) {
			return Shrink(c, fails), true
		}
	}
	return Case{}, false
}
