package sim

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// TestNodeIncarnationProperty: with nodes that crash and restart (between steps and
// from inside handlers, at the same virtual time as their own pending events), an
// event fires iff it is a world event or its node is up in the incarnation that
// scheduled it; Fired and Dropped count exactly those; crash and restart hooks run in
// registration order and only on a real change of state.
func TestNodeIncarnationProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := newHarness(t, 3)
		actions := h.actions()
		actions["crash"] = func(t *rapid.T) {
			h.crash(NodeID(rapid.IntRange(1, len(h.nodes)).Draw(t, "victim")))
		}
		actions["restart"] = func(t *rapid.T) {
			h.restart(NodeID(rapid.IntRange(1, len(h.nodes)).Draw(t, "victim")))
		}
		t.Repeat(actions)
		h.finish()
	})
}

// TestNodeCrashDropsOldIncarnation: events scheduled before a crash never fire, not
// even after a restart; the new incarnation's events and world events do.
func TestNodeCrashDropsOldIncarnation(t *testing.T) {
	w := NewWorld(1)
	r := &recorder{w: w}
	n := w.AddNode("worker-0")
	if n.Incarnation() != 1 || !n.Up() || n.ID() != 1 || n.Name() != "worker-0" || n.World() != w || w.Node(1) != n {
		t.Fatalf("fresh node: inc %d up %v id %d name %q", n.Incarnation(), n.Up(), n.ID(), n.Name())
	}
	n.Schedule(10, r, 0, 1, 0) // old incarnation
	n.After(20, r, 0, 2, 0)    // old incarnation
	w.Schedule(15, r, 0, 3, 0) // world: always fires
	w.Run(5)
	n.Crash()
	n.Schedule(12, r, 0, 4, 0) // scheduled while down: never fires
	n.Restart()
	if n.Incarnation() != 3 || !n.Up() {
		t.Fatalf("after crash and restart: inc %d up %v", n.Incarnation(), n.Up())
	}
	n.Schedule(10, r, 0, 5, 0) // new incarnation, same time as a dropped event
	n.After(25, r, 0, 6, 0)
	w.RunUntilIdle()
	if fmt.Sprint(r.got) != "[5 3 6]" {
		t.Fatalf("fired %v, want [5 3 6]", r.got)
	}
	if fmt.Sprint(r.at) != fmt.Sprint([]Time{10, 15, 30}) {
		t.Fatalf("fired at %v, want [10 15 30]", r.at)
	}
	if w.Fired() != 3 || w.Dropped() != 3 || w.Pending() != 0 {
		t.Fatalf("Fired %d Dropped %d Pending %d", w.Fired(), w.Dropped(), w.Pending())
	}
}

// crasher crashes node victim when it handles an event with A == 0 and records the
// others.
type crasher struct {
	victim *Node
	got    []int64
}

func (c *crasher) Handle(ev Event) {
	if ev.A == 0 {
		c.victim.Crash()
		return
	}
	c.got = append(c.got, ev.A)
}

// TestNodeCrashFromHandlerAtSameTime: a crash inside a handler drops the node's events
// that are still queued at the very same time, but not those already handled.
func TestNodeCrashFromHandlerAtSameTime(t *testing.T) {
	w := NewWorld(1)
	n := w.AddNode("worker-0")
	c := &crasher{victim: n}
	n.Schedule(10, c, 0, 1, 0)
	w.Schedule(10, c, 0, 0, 0) // crashes n
	n.Schedule(10, c, 0, 2, 0)
	w.Schedule(10, c, 0, 3, 0)
	n.Schedule(11, c, 0, 4, 0)
	w.RunUntilIdle()
	if fmt.Sprint(c.got) != "[1 3]" || w.Dropped() != 2 || w.Fired() != 3 {
		t.Fatalf("fired %v, dropped %d, fired count %d", c.got, w.Dropped(), w.Fired())
	}
}

func TestNodeCrashRestartIdempotent(t *testing.T) {
	w := NewWorld(1)
	n := w.AddNode("coordinator")
	var log []string
	for _, name := range []string{"first", "second", "third"} {
		n.OnCrash(func() { log = append(log, "crash-"+name) })
		n.OnRestart(func() { log = append(log, "restart-"+name) })
	}
	h0 := w.TraceHash()
	n.Restart() // up: nothing
	if n.Incarnation() != 1 || !n.Up() || len(log) != 0 || w.TraceHash() != h0 {
		t.Fatalf("Restart of an up node: inc %d up %v hooks %v", n.Incarnation(), n.Up(), log)
	}
	n.Crash()
	h1 := w.TraceHash()
	if h1 == h0 {
		t.Fatalf("Crash did not change the trace hash")
	}
	n.Crash() // down: nothing
	if n.Incarnation() != 2 || n.Up() || w.TraceHash() != h1 {
		t.Fatalf("Crash of a down node: inc %d up %v", n.Incarnation(), n.Up())
	}
	n.Restart()
	n.Restart()
	if n.Incarnation() != 3 || !n.Up() {
		t.Fatalf("after restart: inc %d up %v", n.Incarnation(), n.Up())
	}
	want := "[crash-first crash-second crash-third restart-first restart-second restart-third]"
	if fmt.Sprint(log) != want {
		t.Fatalf("hooks ran as %v, want %v", log, want)
	}
}

func TestNodeIDs(t *testing.T) {
	w := NewWorld(1)
	var names []string
	for i := 0; i < 4; i++ {
		n := w.AddNode(fmt.Sprintf("worker-%d", i))
		if n.ID() != NodeID(i+1) {
			t.Fatalf("node %d has id %d", i, n.ID())
		}
	}
	for _, n := range w.Nodes() {
		names = append(names, n.Name())
	}
	if fmt.Sprint(names) != "[worker-0 worker-1 worker-2 worker-3]" {
		t.Fatalf("Nodes() = %v", names)
	}
}
