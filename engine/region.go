package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim"
)

// computeRegions assigns every task its pipelined region: the connected components
// of the task graph through channels. With all-to-all edges the whole job is one
// region; with forward edges each parallel pipeline is its own.
func (rt *Runtime) computeRegions() {
	parent := make([]int, len(rt.tasks))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	byGate := map[*sim.Gate]*Task{}
	for _, t := range rt.tasks {
		for _, ig := range t.gates {
			byGate[ig.g] = t
		}
	}
	for _, t := range rt.tasks {
		for _, o := range t.outs {
			for _, ch := range o.channels {
				if c := byGate[ch.Gate()]; c != nil {
					a, b := find(t.index), find(c.index)
					if a != b {
						if a < b {
							parent[b] = a
						} else {
							parent[a] = b
						}
					}
				}
			}
		}
	}
	for _, t := range rt.tasks {
		t.region = find(t.index)
	}
}

// Region is the pipelined region of the task (the index of its first task).
func (t *Task) Region() int { return t.region }

// subtasks lists, by subtask index, the new tasks of a vertex's chain (as producer:
// the chain ending in v; as consumer: the chain starting at v); nil where the
// subtask was not replaced.
func (rt *Runtime) subtasks(v *Vertex, producer bool, replaced []*Task) []*Task {
	out := make([]*Task, v.Parallelism)
	for _, t := range replaced {
		if t == nil {
			continue
		}
		end := t.Chain[len(t.Chain)-1]
		if (producer && end == v) || (!producer && t.Chain[0] == v) {
			out[t.Subtask] = t
		}
	}
	return out
}

// connectSome connects the replaced producers and consumers of one edge. Regions
// are closed under channels, so a replaced task's peers are replaced too.
func (rt *Runtime) connectSome(e Edge, producers, consumers []*Task, head *Vertex) {
	any := false
	for _, t := range consumers {
		if t != nil {
			any = true
		}
	}
	if !any {
		return
	}
	if e.Part != Forward {
		for _, t := range append(producers, consumers...) {
			if t == nil {
				panic(fmt.Sprintf("engine: region of edge %s -> %s is not closed", e.From.Name, head.Name))
			}
		}
		rt.connect(e, producers, consumers, head)
		return
	}
	for i := range consumers {
		if consumers[i] != nil && producers[i] != nil {
			rt.connect(Edge{From: e.From, Part: Forward, Input: e.Input, Feedback: e.Feedback}, producers[i:i+1], consumers[i:i+1], head)
		}
	}
}

// commitRestoredTransactionsOf is commitRestoredTransactions for the sink subtasks
// of the replaced tasks only.
func (rt *Runtime) commitRestoredTransactionsOf(cp *CompletedCheckpoint, replaced []*Task) {
	subtasks := map[string]map[int]bool{}
	for _, t := range replaced {
		if t == nil {
			continue
		}
		for _, v := range t.Chain {
			if v.Kind == KindSink {
				if subtasks[v.Name] == nil {
					subtasks[v.Name] = map[int]bool{}
				}
				subtasks[v.Name][t.Subtask] = true
			}
		}
	}
	rt.settleTransactions(cp, func(sink string, subtask int) bool { return subtasks[sink][subtask] })
}
