// Package localcheck runs local checkpoint handlers (uncoordinated and
// communication-induced) on an abstract message exchange, without the engine: a
// few processes over FIFO channels of any topology, cycles included, that send,
// deliver and fire timers in a given order. It records every checkpoint each
// handler takes, so that recoveryline can judge the history (a
// communication-induced protocol must never take a useless checkpoint), and
// shrinks a failing schedule to a short one. Use it to test a local protocol of
// your own step by step before running it in the engine.
package localcheck

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/checkpoint/recoveryline"
	"github.com/ckptsim/ckptsim/sim"
)

// Kind is what one step of a schedule does.
type Kind uint8

// Steps of a schedule.
const (
	// Send: the sender of channel Arg stamps a message and sends it.
	Send Kind = iota + 1
	// Deliver: the oldest message of channel Arg reaches its receiver, which may
	// force a checkpoint before processing it. Nothing happens on an empty channel.
	Deliver
	// Timer: process Arg's timer fires (every timer is due at every step).
	Timer
)

var kindNames = map[Kind]string{Send: "send", Deliver: "deliver", Timer: "timer"}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Event is one step of a schedule. Arg is a channel (Send, Deliver) or a process
// (Timer), taken modulo their number.
type Event struct {
	Kind Kind
	Arg  int
}

func (e Event) String() string { return fmt.Sprintf("%v %d", e.Kind, e.Arg) }

// ParseEvents reads a schedule as Case and Event print it: "send 1, deliver 1,
// timer 0" (commas or newlines between steps, brackets around the list allowed).
func ParseEvents(s string) ([]Event, error) {
	s = strings.Trim(strings.TrimSpace(s), "[]")
	f := strings.Fields(strings.ReplaceAll(s, ",", " "))
	if len(f)%2 != 0 {
		return nil, fmt.Errorf("localcheck: schedule %q: a step is a kind and a number", s)
	}
	var evs []Event
	for i := 0; i < len(f); i += 2 {
		var k Kind
		for kk, name := range kindNames {
			if name == f[i] {
				k = kk
			}
		}
		if k == 0 {
			return nil, fmt.Errorf("localcheck: step %d: unknown kind %q (send, deliver, timer)", i/2+1, f[i])
		}
		n, err := strconv.Atoi(f[i+1])
		if err != nil || n < 0 {
			return nil, fmt.Errorf("localcheck: step %d: %q is not a channel or process number", i/2+1, f[i+1])
		}
		evs = append(evs, Event{Kind: k, Arg: n})
	}
	return evs, nil
}

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

// Result is what a run leaves.
type Result struct {
	// History holds every checkpoint each process took, with its counters, and
	// every process's final state (Current).
	History *recoveryline.History
	// Forced counts, per process, the checkpoints the handler forced before a
	// delivery.
	Forced []int
}

// Run runs the case with the handler newH makes for each process.
func Run(c Case, newH NewHandler) Result {
	n := c.Processes
	h := &recoveryline.History{Points: make([][]recoveryline.Point, n), Current: make([]*recoveryline.Point, n)}
	res := Result{History: h, Forced: make([]int, n)}
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
				if a.Forced {
					res.Forced[i]++
				}
			}
		}
	}
	queues := make([][][]uint64, len(h.Channels))
	now := sim.Time(0)
	for _, e := range c.Events {
		now = now.Add(10 * sim.Second) // every timer is due
		switch {
		case e.Kind == Timer && n > 0:
			i := e.Arg % n
			take(i, hs[i].Timer(now, nil))
		case e.Kind == Send && len(h.Channels) > 0:
			k := e.Arg % len(h.Channels)
			ch := h.Channels[k]
			queues[k] = append(queues[k], hs[ch.From].Stamp(ch.Out, nil))
			cur[ch.From].Sent[ch.Out]++
		case e.Kind == Deliver && len(h.Channels) > 0:
			k := e.Arg % len(h.Channels)
			if len(queues[k]) == 0 {
				continue
			}
			ch := h.Channels[k]
			m := queues[k][0]
			queues[k] = queues[k][1:]
			take(ch.To, hs[ch.To].Receive(ch.In, m, now, nil))
			cur[ch.To].Processed[ch.In]++
		}
	}
	for i := range cur {
		p := clonePoint(cur[i], -1)
		h.Current[i] = &p
	}
	return res
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
	kinds := [...]Kind{Send, Send, Deliver, Deliver, Timer}
	for k := 5 + r.IntN(40); k > 0; k-- {
		c.Events = append(c.Events, Event{Kind: kinds[r.IntN(len(kinds))], Arg: r.IntN(8)})
	}
	return c
}

// Useless runs the case and returns its useless checkpoints (those on a Z-cycle:
// no consistent global state contains them).
func Useless(c Case, newH NewHandler) []recoveryline.Node {
	ns, err := recoveryline.Useless(Run(c, newH).History)
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
