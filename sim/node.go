package sim

// Node is a simulated process: a worker, the coordinator or an external system. A
// crash ends its incarnation: every event it scheduled and not yet handled is dropped,
// and its crash hooks discard volatile state. A restart begins a new incarnation.
type Node struct {
	w         *World
	id        NodeID
	name      string
	inc       uint32
	up        bool
	onCrash   []func()
	onRestart []func()
}

// AddNode creates a node that is up, in incarnation 1.
func (w *World) AddNode(name string) *Node {
	n := &Node{w: w, id: NodeID(len(w.nodes) + 1), name: name, inc: 1, up: true}
	w.nodes = append(w.nodes, n)
	return n
}

// Nodes returns the nodes in creation order.
func (w *World) Nodes() []*Node { return w.nodes }

// Node returns the node with the given id.
func (w *World) Node(id NodeID) *Node { return w.nodes[id-1] }

// ID is the node's identifier in its world.
func (n *Node) ID() NodeID { return n.id }

// Name is the node's stable name, e.g. "worker-0".
func (n *Node) Name() string { return n.name }

// World is the world the node lives in.
func (n *Node) World() *World { return n.w }

// Incarnation counts the node's lives: 1 at start, +1 at every crash and restart.
func (n *Node) Incarnation() uint32 { return n.inc }

// Up reports whether the node is running.
func (n *Node) Up() bool { return n.up }

// OnCrash registers f to run, in registration order, whenever the node crashes.
func (n *Node) OnCrash(f func()) { n.onCrash = append(n.onCrash, f) }

// OnRestart registers f to run, in registration order, whenever the node restarts.
func (n *Node) OnRestart(f func()) { n.onRestart = append(n.onRestart, f) }

// Crash stops the node: its pending events will never fire and its crash hooks run.
// Crashing a node that is down does nothing.
func (n *Node) Crash() {
	if !n.up {
		return
	}
	n.up = false
	n.inc++
	n.w.trace.fold(uint64(n.w.now), traceCrash, uint64(n.id), uint64(n.inc))
	for _, f := range n.onCrash {
		f()
	}
}

// Restart brings a crashed node back as a new incarnation. Restarting a node that is
// up does nothing.
func (n *Node) Restart() {
	if n.up {
		return
	}
	n.up = true
	n.inc++
	n.w.trace.fold(uint64(n.w.now), traceRestart, uint64(n.id), uint64(n.inc))
	for _, f := range n.onRestart {
		f()
	}
}

// Schedule schedules an event of this incarnation for h at time at; it is dropped if
// the node crashes first.
func (n *Node) Schedule(at Time, h Handler, kind uint32, a, b int64) {
	n.w.Push(Event{At: at, Target: h, Kind: kind, Node: n.id, Inc: n.inc, A: a, B: b})
}

// After schedules an event of this incarnation for h d after now.
func (n *Node) After(d Duration, h Handler, kind uint32, a, b int64) {
	n.Schedule(n.w.now.Add(d), h, kind, a, b)
}
