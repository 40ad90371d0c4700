package engine

import (
	"fmt"
	"sort"

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

// regionsOf returns the regions to restart for failed tasks, or nil when the whole
// job restarts (full strategy, a job-wide failure, or one region only).
func (rt *Runtime) regionsOf(failed []*Task) []int {
	if rt.cfg.Restart.Failover != "region" || len(failed) == 0 {
		return nil
	}
	set := map[int]bool{}
	for _, t := range failed {
		set[t.region] = true
	}
	all := map[int]bool{}
	for _, t := range rt.tasks {
		all[t.region] = true
	}
	if len(set) == len(all) {
		return nil
	}
	out := make([]int, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Ints(out)
	return out
}

func mergeRegions(a, b []int) []int {
	set := map[int]bool{}
	for _, r := range a {
		set[r] = true
	}
	for _, r := range b {
		set[r] = true
	}
	out := make([]int, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Ints(out)
	return out
}

func inRegions(r int, regions []int) bool {
	for _, x := range regions {
		if x == r {
			return true
		}
	}
	return false
}

// lostTasks lists the tasks of the current attempt that ran on node n.
func (rt *Runtime) lostTasks(n *sim.Node) []*Task {
	var out []*Task
	for _, t := range rt.tasks {
		if t.node == n {
			out = append(out, t)
		}
	}
	return out
}

// cancelRegions tears down the tasks of some regions; the others keep running.
func (rt *Runtime) cancelRegions(regions []int) {
	for _, t := range rt.tasks {
		if inRegions(t.region, regions) {
			rt.cancelTask(t)
		}
	}
}

func (rt *Runtime) cancelTask(t *Task) {
	t.dead = true
	for _, o := range t.outs {
		for _, ch := range o.channels {
			ch.Break()
		}
	}
	for _, ig := range t.gates {
		ig.g.Close()
	}
	if t.state != nil {
		_ = t.state.Close()
	}
}

// restartRegions redeploys the failed regions from the latest completed checkpoint
// while the rest of the job runs on. Their sources rewind to the checkpoint's
// offsets and their sinks' pending transactions are committed or aborted as in a
// full restart, for the sink subtasks of the regions only.
func (rt *Runtime) restartRegions() {
	regions := rt.pendingRegions
	rt.pendingRegions = nil
	cp := rt.coord.restorePoint()
	plan := rt.localBeforeDeploy()
	var up []*sim.Node
	for _, n := range rt.workers {
		if n.Up() {
			up = append(up, n)
		}
	}
	if len(up) == 0 {
		if plan != nil {
			rt.coord.local.plan = plan // kept for the next try
		}
		rt.pendingRegions = regions
		rt.coordNode.After(rt.cfg.Restart.Delay+sim.Second, rt.coord, evCoordRestart, 0, 0)
		return
	}
	rt.attempt++
	old := map[*Task]bool{}
	replaced := make([]*Task, len(rt.tasks))
	for i, t := range rt.tasks {
		if !inRegions(t.region, regions) {
			continue
		}
		nt, err := rt.newTask(t.Chain, t.Subtask, up[t.Subtask%len(up)])
		if err != nil {
			rt.jobFailed, rt.failReason = true, err.Error()
			return
		}
		nt.index, nt.region = t.index, t.region
		replaced[i] = nt
		old[t] = true
		if t.finished {
			rt.finished--
		}
		delete(rt.coord.finished, i)
	}
	for i, nt := range replaced {
		if nt != nil {
			rt.tasks[i] = nt
		}
	}
	for id, list := range rt.byVertex {
		for k, t := range list {
			if old[t] {
				list[k] = rt.tasks[t.index]
			}
		}
		rt.byVertex[id] = list
	}
	// reconnect the channels inside the regions
	for _, chain := range rt.chains() {
		head := chain[0]
		for _, e := range head.Inputs {
			producers := rt.subtasks(e.From, true, replaced)
			consumers := rt.subtasks(head, false, replaced)
			rt.connectSome(e, producers, consumers, head)
		}
	}
	if cp != nil {
		rt.commitRestoredTransactionsOf(cp, replaced)
	}
	for _, nt := range replaced {
		if nt == nil {
			continue
		}
		nt.initCheckpointing()
		if cp != nil {
			if err := nt.restore(cp); err != nil {
				rt.jobFailed, rt.failReason = true, err.Error()
				return
			}
		}
	}
	rt.restarts++
	if n := len(rt.recoveries); n > 0 {
		r := &rt.recoveries[n-1]
		r.RestartedAt = rt.w.Now()
		if cp != nil {
			r.FromCheckpoint = cp.ID
		}
		rt.noteRestarted()
	}
	rt.localAfterDeploy(plan)
	rt.w.TraceNote(0x72676e, uint64(rt.attempt), uint64(len(regions)))
	rt.Hooks.fireDeployed(rt.attempt)
	for _, nt := range replaced {
		if nt != nil {
			nt.m.Started = rt.w.Now()
			if nt.ls != nil {
				nt.startLocal()
			}
			nt.wake()
			if nt.src != nil {
				nt.node.After(nt.src.gen.spec.WatermarkInterval, nt, evSourceWM, 0, 0)
			}
		}
	}
}

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
			rt.connect(Edge{From: e.From, Part: Forward, Input: e.Input}, producers[i:i+1], consumers[i:i+1], head)
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
