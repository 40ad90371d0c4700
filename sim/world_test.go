package sim

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// Event kinds the model harness understands.
const (
	kindPlain   uint32 = iota // nothing happens
	kindSpawn                 // schedule up to two follow-ups; B is the remaining depth
	kindCrash                 // crash node B
	kindRestart               // restart node B
)

// refEvent is one event of the reference model.
type refEvent struct {
	at   Time
	seq  uint64
	id   int64
	node NodeID
	inc  uint32
}

// refWorld is the reference model of a world: a plain list of pending events whose
// minimum by (time, seq) fires next, and per-node up flags and incarnations.
type refWorld struct {
	now            Time
	seq            uint64
	pending        []refEvent
	up             []bool
	inc            []uint32
	fired, dropped uint64
}

func newRefWorld(nodes int) *refWorld {
	m := &refWorld{up: make([]bool, nodes), inc: make([]uint32, nodes)}
	for i := range m.up {
		m.up[i], m.inc[i] = true, 1
	}
	return m
}

func (m *refWorld) push(at Time, id int64, node NodeID) {
	m.seq++
	var inc uint32
	if node != 0 {
		inc = m.inc[node-1]
	}
	m.pending = append(m.pending, refEvent{at: at, seq: m.seq, id: id, node: node, inc: inc})
}

func (m *refWorld) minIndex() int {
	best := -1
	for i, e := range m.pending {
		if best < 0 || e.at < m.pending[best].at || e.at == m.pending[best].at && e.seq < m.pending[best].seq {
			best = i
		}
	}
	return best
}

func (m *refWorld) nextAt() Time {
	if len(m.pending) == 0 {
		return Never
	}
	return m.pending[m.minIndex()].at
}

func (m *refWorld) live(e refEvent) bool {
	return e.node == 0 || m.up[e.node-1] && m.inc[e.node-1] == e.inc
}

// popLive pops events due at or before until, dropping those of dead incarnations,
// and returns the first live one.
func (m *refWorld) popLive(until Time) (refEvent, bool) {
	for len(m.pending) > 0 {
		i := m.minIndex()
		e := m.pending[i]
		if e.at > until {
			break
		}
		m.pending = append(m.pending[:i], m.pending[i+1:]...)
		m.now = e.at
		if m.live(e) {
			m.fired++
			return e, true
		}
		m.dropped++
	}
	return refEvent{}, false
}

func (m *refWorld) crash(id NodeID) {
	if m.up[id-1] {
		m.up[id-1] = false
		m.inc[id-1]++
	}
}

func (m *refWorld) restart(id NodeID) {
	if !m.up[id-1] {
		m.up[id-1] = true
		m.inc[id-1]++
	}
}

// harness drives a World and a refWorld in lockstep. It is the Handler of every event
// it schedules: when the world fires one, the harness checks that it is the model's
// next live event, then performs the event's action on both.
type harness struct {
	t      *rapid.T
	w      *World
	m      *refWorld
	nodes  []*Node
	nextID int64
	order  []int64 // ids in firing order
	hooks  []string
}

func newHarness(t *rapid.T, nodes int) *harness {
	h := &harness{t: t, w: NewWorld(1), m: newRefWorld(nodes)}
	for i := 0; i < nodes; i++ {
		n := h.w.AddNode(fmt.Sprintf("node-%d", i))
		for _, hook := range []string{"a", "b"} {
			n.OnCrash(func() { h.hook(n, "crash-"+hook, false) })
			n.OnRestart(func() { h.hook(n, "restart-"+hook, true) })
		}
		h.nodes = append(h.nodes, n)
	}
	return h
}

// hook records a crash or restart hook and checks that it sees the node's new state.
func (h *harness) hook(n *Node, what string, up bool) {
	if n.Up() != up {
		h.t.Fatalf("%s hook of %s sees Up() = %v", what, n.Name(), n.Up())
	}
	if n.Incarnation() != h.m.inc[n.ID()-1] {
		h.t.Fatalf("%s hook of %s sees incarnation %d, want %d", what, n.Name(), n.Incarnation(), h.m.inc[n.ID()-1])
	}
	h.hooks = append(h.hooks, n.Name()+":"+what)
}

func (h *harness) drawNode(label string) NodeID {
	return NodeID(rapid.IntRange(0, len(h.nodes)).Draw(h.t, label))
}

func (h *harness) drawKind() uint32 {
	if len(h.nodes) == 0 {
		return rapid.SampledFrom([]uint32{kindPlain, kindSpawn}).Draw(h.t, "kind")
	}
	return rapid.SampledFrom([]uint32{kindPlain, kindPlain, kindSpawn, kindSpawn, kindCrash, kindRestart}).Draw(h.t, "kind")
}

// schedule schedules an event on node (0: the world) in the world and in the model.
func (h *harness) schedule(at Time, node NodeID, kind uint32) {
	var b int64
	switch kind {
	case kindSpawn:
		b = int64(rapid.IntRange(0, 3).Draw(h.t, "depth"))
	case kindCrash, kindRestart:
		b = int64(rapid.IntRange(1, len(h.nodes)).Draw(h.t, "victim"))
	}
	h.nextID++
	h.m.push(at, h.nextID, node)
	if node == 0 {
		h.w.Schedule(at, h, kind, h.nextID, b)
	} else {
		h.nodes[node-1].Schedule(at, h, kind, h.nextID, b)
	}
}

func (h *harness) Handle(ev Event) {
	want, ok := h.m.popLive(Never)
	if !ok {
		h.t.Fatalf("event %d fired at %v, but the model has no live event left", ev.A, ev.At)
	}
	if ev.A != want.id || ev.At != want.at || ev.Seq() != want.seq || ev.Node != want.node || ev.Inc != want.inc {
		h.t.Fatalf("fired event %d (at %d, seq %d, node %d, inc %d), model expects event %d (at %d, seq %d, node %d, inc %d)",
			ev.A, ev.At, ev.Seq(), ev.Node, ev.Inc, want.id, want.at, want.seq, want.node, want.inc)
	}
	if h.w.Now() != ev.At {
		h.t.Fatalf("Now() = %d while handling an event at %d", h.w.Now(), ev.At)
	}
	h.order = append(h.order, ev.A)
	switch ev.Kind {
	case kindSpawn:
		if ev.B > 0 {
			for n := rapid.IntRange(0, 2).Draw(h.t, "children"); n > 0; n-- {
				kind := kindPlain
				if rapid.Bool().Draw(h.t, "grandchildren") {
					kind = kindSpawn
				}
				h.schedule(h.w.Now().Add(drawDelay(h.t, "delay")), h.drawNode("node"), kind)
			}
		}
	case kindCrash:
		h.crash(NodeID(ev.B))
	case kindRestart:
		h.restart(NodeID(ev.B))
	}
}

func (h *harness) crash(id NodeID) {
	n := h.nodes[id-1]
	wasUp, hash, hooks := n.Up(), h.w.TraceHash(), len(h.hooks)
	h.m.crash(id)
	n.Crash()
	h.checkNode(n)
	if wasUp {
		if got := h.hooks[hooks:]; len(got) != 2 || got[0] != n.Name()+":crash-a" || got[1] != n.Name()+":crash-b" {
			h.t.Fatalf("crash hooks ran as %v", got)
		}
		if h.w.TraceHash() == hash {
			h.t.Fatalf("a crash did not change the trace hash")
		}
	} else if len(h.hooks) != hooks || h.w.TraceHash() != hash {
		h.t.Fatalf("crashing a down node ran hooks %v or changed the trace", h.hooks[hooks:])
	}
}

func (h *harness) restart(id NodeID) {
	n := h.nodes[id-1]
	wasUp, hash, hooks := n.Up(), h.w.TraceHash(), len(h.hooks)
	h.m.restart(id)
	n.Restart()
	h.checkNode(n)
	if !wasUp {
		if got := h.hooks[hooks:]; len(got) != 2 || got[0] != n.Name()+":restart-a" || got[1] != n.Name()+":restart-b" {
			h.t.Fatalf("restart hooks ran as %v", got)
		}
		if h.w.TraceHash() == hash {
			h.t.Fatalf("a restart did not change the trace hash")
		}
	} else if len(h.hooks) != hooks || h.w.TraceHash() != hash {
		h.t.Fatalf("restarting an up node ran hooks %v or changed the trace", h.hooks[hooks:])
	}
}

func (h *harness) checkNode(n *Node) {
	if n.Up() != h.m.up[n.ID()-1] || n.Incarnation() != h.m.inc[n.ID()-1] {
		h.t.Fatalf("%s: up %v inc %d, model up %v inc %d", n.Name(), n.Up(), n.Incarnation(), h.m.up[n.ID()-1], h.m.inc[n.ID()-1])
	}
}

// check compares the counters of the world with the model. It does not call NextAt,
// which would settle the queue and hide some of its paths.
func (h *harness) check() {
	if h.w.Now() != h.m.now {
		h.t.Fatalf("Now() = %d, model %d", h.w.Now(), h.m.now)
	}
	if h.w.Pending() != len(h.m.pending) {
		h.t.Fatalf("Pending() = %d, model %d", h.w.Pending(), len(h.m.pending))
	}
	if h.w.Fired() != h.m.fired || h.w.Dropped() != h.m.dropped {
		h.t.Fatalf("Fired() = %d, Dropped() = %d, model %d and %d", h.w.Fired(), h.w.Dropped(), h.m.fired, h.m.dropped)
	}
	if uint64(len(h.order)) != h.m.fired {
		h.t.Fatalf("handled %d events, Fired() = %d", len(h.order), h.m.fired)
	}
	for _, n := range h.nodes {
		h.checkNode(n)
	}
}

// actions returns the rapid actions that drive the world: scheduling at random times
// (many equal), Step, Run with limits that stop short of the next event followed by
// scheduling below it (queue.rebase), RunUntilIdle, scheduling in the past.
func (h *harness) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"schedule": func(t *rapid.T) {
			h.schedule(h.w.Now().Add(drawDelay(t, "delay")), h.drawNode("node"), h.drawKind())
		},
		"scheduleSameTime": func(t *rapid.T) {
			at := h.w.Now().Add(drawDelay(t, "delay"))
			for n := rapid.IntRange(2, 8).Draw(t, "n"); n > 0; n-- {
				h.schedule(at, h.drawNode("node"), h.drawKind())
			}
		},
		"scheduleBeforeNext": func(t *rapid.T) {
			next := h.w.NextAt() // settles the queue's cached minimum at next
			if next == Never || next <= h.w.Now() {
				t.Skip("nothing between now and the next event")
			}
			for n := rapid.IntRange(1, 4).Draw(t, "n"); n > 0; n-- {
				at := h.w.Now() + Time(rapid.Int64Range(0, int64(next-h.w.Now())-1).Draw(t, "at"))
				h.schedule(at, h.drawNode("node"), h.drawKind())
			}
		},
		"step": func(t *rapid.T) {
			fired := h.m.fired
			ok := h.w.Step()
			if ok != (h.m.fired == fired+1) {
				t.Fatalf("Step() = %v, but %d events fired", ok, h.m.fired-fired)
			}
			if !ok {
				if e, live := h.m.popLive(Never); live {
					t.Fatalf("Step() = false, but event %d at %d is live", e.id, e.at)
				}
			}
		},
		"run": func(t *rapid.T) {
			var until Time
			switch rapid.IntRange(0, 3).Draw(t, "limit") {
			case 0: // somewhere ahead
				until = h.w.Now().Add(drawDelay(t, "ahead"))
			case 1: // in the past: fires nothing due later, keeps the clock
				until = h.w.Now() - Time(rapid.Int64Range(0, int64(h.w.Now())).Draw(t, "back"))
			case 2, 3: // just short of, or exactly at, a pending event
				if len(h.m.pending) == 0 {
					t.Skip("no pending event")
				}
				e := h.m.pending[rapid.IntRange(0, len(h.m.pending)-1).Draw(t, "target")]
				until = e.at - Time(rapid.Int64Range(0, 1).Draw(t, "short"))
			}
			h.w.Run(until)
			if e, live := h.m.popLive(until); live {
				t.Fatalf("Run(%d) returned, but event %d at %d is live", until, e.id, e.at)
			}
			if until > h.m.now {
				h.m.now = until
			}
			if next := h.m.nextAt(); next <= until {
				t.Fatalf("Run(%d) left an event at %d", until, next)
			}
		},
		"runUntilIdle": func(t *rapid.T) {
			h.w.RunUntilIdle()
			if e, live := h.m.popLive(Never); live {
				t.Fatalf("RunUntilIdle returned, but event %d at %d is live", e.id, e.at)
			}
		},
		"schedulePast": func(t *rapid.T) {
			if h.w.Now() == 0 {
				t.Skip("nothing is in the past at 0")
			}
			at := h.w.Now() - Time(rapid.Int64Range(1, int64(h.w.Now())).Draw(t, "back"))
			defer func() {
				if recover() == nil {
					t.Fatalf("Schedule(%d) at now %d did not panic", at, h.w.Now())
				}
			}()
			h.w.Schedule(at, h, kindPlain, -1, 0)
		},
		"nextAt": func(t *rapid.T) {
			if got, want := h.w.NextAt(), h.m.nextAt(); got != want {
				t.Fatalf("NextAt() = %d, model %d", got, want)
			}
		},
		"": func(t *rapid.T) { h.check() },
	}
}

func (h *harness) finish() {
	h.w.RunUntilIdle()
	if e, live := h.m.popLive(Never); live {
		h.t.Fatalf("RunUntilIdle returned, but event %d at %d is live", e.id, e.at)
	}
	h.check()
	if h.w.Pending() != 0 || h.w.NextAt() != Never {
		h.t.Fatalf("idle world: Pending() = %d, NextAt() = %d", h.w.Pending(), h.w.NextAt())
	}
	if h.w.Step() {
		h.t.Fatalf("Step() on an idle world returned true")
	}
}

// TestWorldOrderProperty: events fire in (time, seq) order under random interleavings
// of Schedule, Step, Run and RunUntilIdle, and the clock and counters agree with a
// reference model.
func TestWorldOrderProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := newHarness(t, 0)
		t.Repeat(h.actions())
		h.finish()
		if h.w.Dropped() != 0 {
			t.Fatalf("world events were dropped")
		}
	})
}

// recorder is a handler that appends the A argument of every event it handles.
type recorder struct {
	w   *World
	got []int64
	at  []Time
}

func (r *recorder) Handle(ev Event) {
	r.got = append(r.got, ev.A)
	r.at = append(r.at, r.w.Now())
}

func TestWorldTable(t *testing.T) {
	type sched struct {
		at Time
		id int64
	}
	cases := []struct {
		name  string
		sched []sched
		want  []int64
	}{
		{"equal times keep scheduling order", []sched{{5, 1}, {5, 2}, {5, 3}, {5, 4}}, []int64{1, 2, 3, 4}},
		{"time first", []sched{{30, 1}, {10, 2}, {20, 3}, {10, 4}}, []int64{2, 4, 3, 1}},
		{"time zero", []sched{{0, 1}, {1, 2}, {0, 3}}, []int64{1, 3, 2}},
		{"far future", []sched{{Never, 1}, {Time(Hour), 2}, {1, 3}}, []int64{3, 2, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := NewWorld(7)
			r := &recorder{w: w}
			for _, s := range c.sched {
				w.Schedule(s.at, r, 0, s.id, 0)
			}
			w.RunUntilIdle()
			if fmt.Sprint(r.got) != fmt.Sprint(c.want) {
				t.Fatalf("fired %v, want %v", r.got, c.want)
			}
			if w.Fired() != uint64(len(c.want)) || w.Pending() != 0 {
				t.Fatalf("Fired() = %d, Pending() = %d", w.Fired(), w.Pending())
			}
		})
	}
}

func TestWorldRunStopsShort(t *testing.T) {
	w := NewWorld(1)
	r := &recorder{w: w}
	w.Schedule(100, r, 0, 1, 0)
	w.Schedule(200, r, 0, 2, 0)
	w.Run(50)
	if len(r.got) != 0 || w.Now() != 50 || w.NextAt() != 100 || w.Pending() != 2 {
		t.Fatalf("after Run(50): fired %v, now %d, next %d, pending %d", r.got, w.Now(), w.NextAt(), w.Pending())
	}
	// Between now and the cached minimum: the queue rebases.
	w.Schedule(60, r, 0, 3, 0)
	w.Schedule(50, r, 0, 4, 0)
	w.Schedule(100, r, 0, 5, 0)
	if w.NextAt() != 50 {
		t.Fatalf("NextAt() = %d, want 50", w.NextAt())
	}
	w.Run(100)
	if fmt.Sprint(r.got) != "[4 3 1 5]" || w.Now() != 100 {
		t.Fatalf("after Run(100): fired %v, now %d", r.got, w.Now())
	}
	w.Run(99) // the past: nothing happens, the clock stays
	if w.Now() != 100 {
		t.Fatalf("Run into the past moved the clock to %d", w.Now())
	}
	if !w.Step() || w.Now() != 200 || fmt.Sprint(r.got) != "[4 3 1 5 2]" {
		t.Fatalf("Step: fired %v, now %d", r.got, w.Now())
	}
	if w.Step() {
		t.Fatalf("Step on an empty queue returned true")
	}
	w.Run(1000)
	if w.Now() != 1000 || w.NextAt() != Never {
		t.Fatalf("Run(1000) on an empty queue: now %d, next %d", w.Now(), w.NextAt())
	}
	w.After(5*Nanosecond, r, 0, 6, 0)
	if w.NextAt() != 1005 {
		t.Fatalf("After: NextAt() = %d, want 1005", w.NextAt())
	}
}

func TestWorldSchedulePastPanics(t *testing.T) {
	w := NewWorld(1)
	r := &recorder{w: w}
	w.Run(10)
	for _, at := range []Time{9, 0, -1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Schedule(%d) at now 10 did not panic", at)
				}
			}()
			w.Schedule(at, r, 0, 0, 0)
		}()
	}
	if w.Pending() != 0 {
		t.Fatalf("a rejected event is pending")
	}
	w.Schedule(10, r, 0, 1, 0) // now itself is fine
	w.RunUntilIdle()
	if fmt.Sprint(r.got) != "[1]" {
		t.Fatalf("fired %v", r.got)
	}
}

// stopper stops the world when it handles an event with A == stopAt.
type stopper struct {
	w      *World
	stopAt int64
	got    []int64
}

func (s *stopper) Handle(ev Event) {
	s.got = append(s.got, ev.A)
	if ev.A == s.stopAt {
		s.w.Stop()
	}
}

func TestWorldStop(t *testing.T) {
	for _, run := range []string{"Run", "RunUntilIdle", "Step"} {
		t.Run(run, func(t *testing.T) {
			w := NewWorld(1)
			s := &stopper{w: w, stopAt: 2}
			for i := int64(1); i <= 4; i++ {
				w.Schedule(Time(i*10), s, 0, i, 0)
			}
			switch run {
			case "Run":
				w.Run(1000)
			case "RunUntilIdle":
				w.RunUntilIdle()
			case "Step":
				for w.Step() {
				}
			}
			if !w.Stopped() || fmt.Sprint(s.got) != "[1 2]" || w.Now() != 20 || w.Pending() != 2 {
				t.Fatalf("stopped %v, fired %v, now %d, pending %d", w.Stopped(), s.got, w.Now(), w.Pending())
			}
			if w.Step() {
				t.Fatalf("Step after Stop returned true")
			}
		})
	}
}

// A sampler sees every period boundary in order, between the events around it, and
// leaves the trace hash as it was.
func TestWorldSamplerObservesWithoutChangingTrace(t *testing.T) {
	run := func(sample bool) (uint64, []string) {
		w := NewWorld(3)
		r := &recorder{w: w}
		var seen []string
		if sample {
			w.AddSampler(10, func(at Time) { seen = append(seen, fmt.Sprintf("%d:%d", at, len(r.got))) })
			var odd *Sampler
			odd = w.AddSampler(15, func(at Time) {
				seen = append(seen, fmt.Sprintf("odd%d", at))
				if at == 30 {
					odd.SetPeriod(0)
				}
			})
		}
		for _, at := range []Time{5, 10, 25, 31} {
			w.Schedule(at, r, 0, int64(at), 0)
		}
		w.RunUntilIdle()
		w.Run(45)
		return w.TraceHash(), seen
	}
	plain, _ := run(false)
	sampled, seen := run(true)
	if plain != sampled {
		t.Fatalf("sampling changed the trace hash: %x vs %x", plain, sampled)
	}
	want := "[10:1 odd15 20:2 30:3 odd30 40:4]"
	if fmt.Sprint(seen) != want {
		t.Fatalf("samples %v, want %s", seen, want)
	}
}
