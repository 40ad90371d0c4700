package recoveryline

import (
	"fmt"
	"sort"
	"strings"
)

// Node is a point of the rollback-dependency graph: checkpoint X of task Task, or
// its current state when X == len(History.Points[Task]).
type Node struct{ Task, X int }

// Graph is the rollback-dependency graph (Wang's R-graph) of a history: an edge
// a -> b says that if a is rolled back (its task restores a checkpoint older than
// a), b must be rolled back too. Each task's nodes are chained (a state rolled back
// takes every later one with it), and a message edge (s, x) -> (r, y) says that
// some message sent by s after its checkpoint x-1 was processed by r at or before
// its point y: rolling s back to x-1 or earlier un-sends it and orphans r's y.
type Graph struct {
	h     *History
	base  []int // index of each task's first node
	edges [][]int
	// Roots are the nodes lost with the failure: the current state of every task
	// that failed.
	Roots []Node
}

// NewGraph builds the rollback-dependency graph of h, with the message edges of
// the channels edges keeps (nil: every channel). Leaving channels out is only for
// deliberately broken recoveries (orphan messages ignored on them).
func NewGraph(h *History, edges func(Channel) bool) *Graph {
	g := &Graph{h: h}
	n := 0
	for i := range h.Points {
		g.base = append(g.base, n)
		n += len(h.Points[i]) + 1 // checkpoints and the current state
	}
	g.edges = make([][]int, n)
	for i, ps := range h.Points {
		for x := 0; x < len(ps); x++ {
			g.add(Node{i, x}, Node{i, x + 1})
		}
		if h.Current == nil || h.Current[i] == nil {
			g.Roots = append(g.Roots, Node{i, len(ps)})
		}
	}
	for _, c := range h.Channels {
		if edges == nil || edges(c) {
			g.messageEdges(c)
		}
	}
	return g
}

// messageEdges adds, for every node x >= 1 of the sender, an edge to the first
// point of the receiver that processed a message the sender sent after x-1.
func (g *Graph) messageEdges(c Channel) {
	h := g.h
	for x := 1; x <= len(h.Points[c.From]); x++ {
		sent := h.Points[c.From][x-1].Sent[c.Out]
		for y := 0; y <= h.top(c.To); y++ {
			if h.point(c.To, y).Processed[c.In] > sent {
				g.add(Node{c.From, x}, Node{c.To, y})
				break
			}
		}
	}
}

func (g *Graph) id(n Node) int { return g.base[n.Task] + n.X }

func (g *Graph) node(id int) Node {
	i := sort.Search(len(g.base), func(k int) bool { return g.base[k] > id }) - 1
	return Node{i, id - g.base[i]}
}

func (g *Graph) add(a, b Node) {
	from, to := g.id(a), g.id(b)
	for _, e := range g.edges[from] {
		if e == to {
			return
		}
	}
	g.edges[from] = append(g.edges[from], to)
}

// Reach marks every node reachable from the roots: the states that must roll back.
func (g *Graph) Reach() []bool {
	marked := make([]bool, len(g.edges))
	var stack []int
	for _, r := range g.Roots {
		if id := g.id(r); !marked[id] {
			marked[id] = true
			stack = append(stack, id)
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, e := range g.edges[n] {
			if !marked[e] {
				marked[e] = true
				stack = append(stack, e)
			}
		}
	}
	return marked
}

// Line is the recovery line: per task, the newest node not reachable from the
// roots. Marked nodes are closed upwards along each task's chain, so this is the
// node just below the oldest marked one. It fails when even the oldest restorable
// checkpoint of a task must roll back.
func (g *Graph) Line() (Line, error) {
	marked := g.Reach()
	h := g.h
	l := Line{At: make([]int, len(h.Points))}
	for i, ps := range h.Points {
		at := len(ps)
		for x := 0; x <= len(ps); x++ {
			if marked[g.id(Node{i, x})] {
				at = x - 1
				break
			}
		}
		if at < 0 {
			return Line{}, fmt.Errorf("task %d: even its oldest restorable checkpoint %d must roll back", i, ps[0].ID)
		}
		l.At[i] = at
		if at < len(ps) {
			l.Useless += len(ps) - 1 - at
		}
	}
	return l, nil
}

// String lists the graph's message edges, one line per source node, for tests.
func (g *Graph) String() string {
	var b strings.Builder
	for id, es := range g.edges {
		a := g.node(id)
		var to []string
		for _, e := range es {
			if n := g.node(e); n.Task != a.Task {
				to = append(to, g.name(n))
			}
		}
		if len(to) > 0 {
			sort.Strings(to)
			fmt.Fprintf(&b, "%s -> %s\n", g.name(a), strings.Join(to, " "))
		}
	}
	return b.String()
}

// name is "t1@2" for checkpoint index 2 of task 1, "t1@now" for its current state.
func (g *Graph) name(n Node) string {
	if n.X == len(g.h.Points[n.Task]) {
		return fmt.Sprintf("t%d@now", n.Task)
	}
	return fmt.Sprintf("t%d@%d", n.Task, n.X)
}

// Compute is the recovery line of h after the failure of every task whose Current
// is nil, with orphan messages taken into account.
func Compute(h *History) (Line, error) {
	if err := h.Validate(); err != nil {
		return Line{}, err
	}
	return NewGraph(h, nil).Line()
}

// Floor is what can never be rolled back any more: the recovery line if every task
// failed now. Checkpoints taken later only move every recovery line forward (a
// message sent later cannot be processed before a checkpoint already taken), so
// no future recovery restores anything older than Floor's checkpoints, no
// receiver will process a message at or below the channel's LogFrom again, and a
// sink transaction closed by a checkpoint at or below Floor's can be committed.
func Floor(h *History) (Truncation, error) {
	all := *h
	all.Current = nil
	l, err := Compute(&all)
	if err != nil {
		return Truncation{}, err
	}
	t := Truncation{Base: l.At, LogFrom: make([]int64, len(h.Channels))}
	for ci, c := range h.Channels {
		t.LogFrom[ci] = h.Points[c.To][l.At[c.To]].Processed[c.In]
	}
	return t, nil
}
