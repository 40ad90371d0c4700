package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
)

// chains groups vertices into operator chains: a vertex joins its input's chain
// when the edge is forward, parallelism is equal and it is the input's only
// consumer.
func (rt *Runtime) chains() [][]*Vertex {
	job := rt.job
	chainOf := map[int]int{}
	var chains [][]*Vertex
	for _, v := range job.Vertices {
		if len(v.Inputs) == 1 {
			e := v.Inputs[0]
			if e.Part == Forward && e.From.Parallelism == v.Parallelism && len(job.Consumers(e.From)) == 1 && v.Kind != KindJoin && v.Kind != KindWindowJoin && v.Kind != KindPathJoin {
				c := chainOf[e.From.ID]
				if last := chains[c][len(chains[c])-1]; last == e.From {
					chains[c] = append(chains[c], v)
					chainOf[v.ID] = c
					continue
				}
			}
		}
		chainOf[v.ID] = len(chains)
		chains = append(chains, []*Vertex{v})
	}
	return chains
}

// deploy creates a new attempt: the tasks of every chain, their gates, partitions
// and channels, restored from cp when it is not nil. Subtask i of every chain runs
// in slot i (slot sharing); slots go round robin over the workers that are up.
func (rt *Runtime) deploy(cp *CompletedCheckpoint) error {
	var up []*sim.Node
	for _, n := range rt.workers {
		if n.Up() {
			up = append(up, n)
		}
	}
	if len(up) == 0 {
		return errNoWorkers
	}
	rescaled := false
	for name, p := range rt.rescale {
		for _, v := range rt.job.Vertices {
			if v.Name == name && v.Parallelism != p {
				v.Parallelism = p
				rescaled = true
			}
		}
	}
	rt.rescale = map[string]int{}
	if rescaled && rt.local() != nil {
		return fmt.Errorf("rescale: %w", checkpoint.ErrLocalRescale)
	}
	if rescaled {
		if err := rt.job.Validate(); err != nil {
			return fmt.Errorf("rescale: %w", err)
		}
	}
	if n := len(rt.recoveries); n > 0 {
		rt.recoveries[n-1].Rescaled = rescaled
	}
	if cp != nil {
		if err := rt.checkRestorable(cp); err != nil {
			return err
		}
		rt.commitRestoredTransactions(cp)
	}
	rt.attempt++
	rt.tasks = nil
	rt.finished = 0
	rt.coord.finished = map[int]bool{}
	rt.byVertex = map[int][]*Task{}
	chains := rt.chains()
	headOf := map[int][]*Task{}
	tailOf := map[int][]*Task{}
	for _, chain := range chains {
		head, tail := chain[0], chain[len(chain)-1]
		for i := 0; i < head.Parallelism; i++ {
			t, err := rt.newTask(chain, i, up[i%len(up)])
			if err != nil {
				return err
			}
			t.index = len(rt.tasks)
			rt.tasks = append(rt.tasks, t)
			headOf[head.ID] = append(headOf[head.ID], t)
			tailOf[tail.ID] = append(tailOf[tail.ID], t)
			for _, v := range chain {
				rt.byVertex[v.ID] = append(rt.byVertex[v.ID], t)
			}
		}
	}
	for _, chain := range chains {
		head := chain[0]
		for _, e := range head.Inputs {
			rt.connect(e, tailOf[e.From.ID], headOf[head.ID], head)
		}
	}
	rt.computeRegions()
	for _, t := range rt.tasks {
		t.initCheckpointing()
		if cp != nil {
			if err := t.restore(cp); err != nil {
				return err
			}
		}
	}
	rt.w.TraceNote(0x6465706c, uint64(rt.attempt), uint64(len(rt.tasks)))
	rt.Hooks.fireDeployed(rt.attempt)
	return nil
}

// connect creates the gates of one input edge at every consumer and the partition
// of every producer, with a channel from each producer to each consumer it feeds.
func (rt *Runtime) connect(e Edge, producers, consumers []*Task, head *Vertex) {
	gates := map[*Task]*inputGate{}
	for _, c := range consumers {
		ig := &inputGate{g: rt.net.NewGate(c.node, c), input: e.Input, part: e.Part, feedback: e.Feedback, from: e.From}
		gates[c] = ig
		c.gates = append(c.gates, ig)
	}
	for i, p := range producers {
		o := &output{t: p, mode: e.Part, to: head, maxPar: rt.job.MaxParallelism, feedback: e.Feedback}
		o.part = rt.net.NewPartition(p.node, 0, p)
		targets := consumers
		if e.Part == Forward {
			targets = consumers[i : i+1]
		}
		for _, c := range targets {
			ig := gates[c]
			ch := rt.net.Connect(o.part, ig.g)
			if e.Feedback {
				ch.SetElastic() // the head queues its feedback input (engine/cycle.go)
			}
			o.channels = append(o.channels, ch)
			ig.wm = append(ig.wm, sim.Time(-1<<62))
			ig.idle = append(ig.idle, false)
			ig.ended = append(ig.ended, false)
		}
		if e.Part == Hash {
			o.route = make([]int32, rt.job.MaxParallelism)
			for kg := range o.route {
				o.route[kg] = int32(state.OperatorIndex(kg, rt.job.MaxParallelism, len(o.channels)))
			}
		}
		o.cur = make([]*Buffer, len(o.channels))
		o.sent = make([]*Buffer, len(o.channels))
		p.outs = append(p.outs, o)
	}
}

func (rt *Runtime) newTask(chain []*Vertex, i int, node *sim.Node) (*Task, error) {
	t := &Task{rt: rt, Chain: chain, Subtask: i, node: node, Slowdown: 1, wm: sim.Time(-1 << 62), attempt: rt.attempt}
	t.name = fmt.Sprintf("%s[%d]", chainName(chain), i)
	keyed := false
	for _, v := range chain {
		if v.Keyed() {
			keyed = true
		}
	}
	if keyed {
		st, err := rt.newState(node, fmt.Sprintf("%s-a%d", t.name, rt.attempt), state.RangeFor(i, chain[0].Parallelism, rt.job.MaxParallelism))
		if err != nil {
			return nil, err
		}
		t.state = st
	}
	t.links = make([]chainLink, len(chain))
	for _, v := range chain {
		op, err := newOperator(v)
		if err != nil {
			return nil, fmt.Errorf("operator %q: %w", v.Name, err)
		}
		ctx := &OpContext{Task: t, Vertex: v, Subtask: i, Parallelism: v.Parallelism,
			MaxParallelism: rt.job.MaxParallelism, State: t.state, NS: uint32(v.ID) * 16, Sink: rt.sinks[v.Name]}
		if err := op.Open(ctx); err != nil {
			return nil, fmt.Errorf("operator %q: %w", v.Name, err)
		}
		t.ops = append(t.ops, op)
		t.ctxs = append(t.ctxs, ctx)
		t.costs = append(t.costs, v.Cost)
	}
	t.linkChain()
	if chain[0].Kind == KindSource {
		g := rt.gens[chain[0].ID]
		splits := g.SplitsOf(i, chain[0].Parallelism)
		t.src = &sourceState{gen: g, splits: splits, next: make([]int64, len(splits)), end: rt.splitEnds(g, splits),
			maxTime: make([]sim.Time, len(splits))}
		for k := range t.src.maxTime {
			t.src.maxTime[k] = sim.Time(-1 << 62)
		}
	}
	return t, nil
}

func (rt *Runtime) newState(node *sim.Node, name string, rng state.KeyGroupRange) (state.Backend, error) {
	switch rt.cfg.StateBackend {
	case "pebble":
		for i, w := range rt.workers {
			if w == node {
				return state.NewPebble(rt.disks[i].FS(), "state/"+name, rng)
			}
		}
		return nil, fmt.Errorf("no disk for node %s", node.Name())
	default:
		return state.NewHeap(rng), nil
	}
}

// checkRestorable checks that a checkpoint fits the job: every chain it holds
// still exists.
func (rt *Runtime) checkRestorable(cp *CompletedCheckpoint) error {
	names := map[string]bool{}
	for _, chain := range rt.chains() {
		names[chainName(chain)] = true
	}
	for _, s := range cp.Tasks {
		if !names[s.Chain] {
			return fmt.Errorf("cannot restore checkpoint %d: it holds state of %q, which the job no longer has", cp.ID, s.Chain)
		}
	}
	return nil
}

// commitRestoredTransactions commits, idempotently, the sink transactions the
// restored checkpoint pre-committed, and aborts every other prepared transaction
// (lingering ones of the failed attempt). Commits that fail are retried at once
// until they succeed.
func (rt *Runtime) commitRestoredTransactions(cp *CompletedCheckpoint) {
	rt.settleTransactions(cp, func(string, int) bool { return true })
}

// settleTransactions commits the prepared transactions that cp lists and aborts
// the other prepared ones, for the sink subtasks mine selects.
func (rt *Runtime) settleTransactions(cp *CompletedCheckpoint, mine func(sink string, subtask int) bool) {
	keep := map[string]map[TxnKey]bool{}
	for _, s := range cp.Tasks {
		for sink, ids := range s.Txns {
			if keep[sink] == nil {
				keep[sink] = map[TxnKey]bool{}
			}
			for _, id := range ids {
				keep[sink][TxnKey{Subtask: s.Subtask, Checkpoint: id}] = true
			}
		}
	}
	for _, name := range rt.Sinks() {
		store := rt.sinks[name]
		for _, k := range store.Prepared() {
			if !mine(name, k.Subtask) {
				continue
			}
			if keep[name][k] {
				for !store.CommitTxn(k) {
				}
			} else {
				store.AbortTxn(k)
			}
		}
	}
}
