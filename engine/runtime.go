package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim"
)

// Config is the execution configuration of a job on a simulated cluster.
type Config struct {
	Workers        int // worker nodes (task managers)
	SlotsPerWorker int // task slots per worker
	Net            sim.NetConfig
	// BufferTimeout is execution.buffer-timeout: a partially filled output buffer
	// is sent at the latest this long after its first record (default 100 ms; a
	// negative value means flush after every record).
	BufferTimeout sim.Duration
	// Quantum bounds the simulated CPU time a task spends between two looks at its
	// mailbox (default 100 µs): a priority event waits at most this long plus one
	// record.
	Quantum sim.Duration
	// StateBackend is heap (default) or pebble.
	StateBackend string
}

func (c *Config) fill() {
	if c.Workers == 0 {
		c.Workers = 1
	}
	if c.SlotsPerWorker == 0 {
		c.SlotsPerWorker = 4
	}
	if c.BufferTimeout == 0 {
		c.BufferTimeout = 100 * sim.Millisecond
	}
	if c.Quantum == 0 {
		c.Quantum = 100 * sim.Microsecond
	}
	if c.StateBackend == "" {
		c.StateBackend = "heap"
	}
}

// Runtime is a job deployed on a simulated cluster: worker nodes, the network,
// tasks, and the external sink stores.
type Runtime struct {
	w        *sim.World
	net      *sim.Network
	job      *Job
	cfg      Config
	workers  []*sim.Node
	disks    []*sim.Disk
	tasks    []*Task
	byVertex map[int][]*Task
	sinks    map[string]*SinkStore
	gens     map[int]*Generator
	pool     bufferPool
	finished int
	failures []TaskFailure
	flushAll bool
}

// TaskFailure records a task that failed and why.
type TaskFailure struct {
	At     sim.Time
	Task   string
	Reason string
}

// NewRuntime validates job, creates the workers and deploys the job's tasks on them.
func NewRuntime(w *sim.World, job *Job, cfg Config) (*Runtime, error) {
	cfg.fill()
	if err := job.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers < 1 || cfg.SlotsPerWorker < 1 {
		return nil, fmt.Errorf("cluster needs at least one worker and one slot, got %d workers × %d slots", cfg.Workers, cfg.SlotsPerWorker)
	}
	if cfg.StateBackend != "heap" && cfg.StateBackend != "pebble" {
		return nil, fmt.Errorf("unknown state backend %q (heap or pebble)", cfg.StateBackend)
	}
	maxP := 0
	for _, v := range job.Vertices {
		if v.Parallelism > maxP {
			maxP = v.Parallelism
		}
	}
	if slots := cfg.Workers * cfg.SlotsPerWorker; maxP > slots {
		return nil, fmt.Errorf("parallelism %d needs %d slots; the cluster has %d workers × %d slots", maxP, maxP, cfg.Workers, cfg.SlotsPerWorker)
	}
	rt := &Runtime{w: w, job: job, cfg: cfg, byVertex: map[int][]*Task{}, sinks: map[string]*SinkStore{},
		gens: map[int]*Generator{}, flushAll: cfg.BufferTimeout < 0}
	rt.net = sim.NewNetwork(w, cfg.Net)
	for i := 0; i < cfg.Workers; i++ {
		n := w.AddNode(fmt.Sprintf("worker-%d", i))
		rt.workers = append(rt.workers, n)
		rt.disks = append(rt.disks, sim.NewDisk(n))
	}
	for _, v := range job.Vertices {
		if v.Kind == KindSource {
			rt.gens[v.ID] = NewGenerator(*v.Source, sim.NewRand(w.Seed(), "source/"+v.Name).Uint64())
		}
		if v.Kind == KindSink {
			rt.sinks[v.Name] = NewSinkStore(v.Name, v.Sink.Discard)
		}
	}
	if err := rt.deploy(); err != nil {
		return nil, err
	}
	return rt, nil
}

// World is the simulated world the job runs in.
func (rt *Runtime) World() *sim.World { return rt.w }

// Network is the cluster's network.
func (rt *Runtime) Network() *sim.Network { return rt.net }

// Job is the deployed job.
func (rt *Runtime) Job() *Job { return rt.job }

// Config is the runtime configuration with defaults filled in.
func (rt *Runtime) Config() Config { return rt.cfg }

// Workers are the worker nodes.
func (rt *Runtime) Workers() []*sim.Node { return rt.workers }

// Tasks are the deployed tasks in deployment order.
func (rt *Runtime) Tasks() []*Task { return rt.tasks }

// TasksOf returns the subtasks whose chain contains the vertex with the given name.
func (rt *Runtime) TasksOf(name string) []*Task {
	for _, v := range rt.job.Vertices {
		if v.Name == name {
			return rt.byVertex[v.ID]
		}
	}
	return nil
}

// Sink returns the external store of the sink with the given name.
func (rt *Runtime) Sink(name string) *SinkStore { return rt.sinks[name] }

// Generator returns the record generator of the source with the given name.
func (rt *Runtime) Generator(name string) *Generator {
	for _, v := range rt.job.Vertices {
		if v.Name == name && v.Kind == KindSource {
			return rt.gens[v.ID]
		}
	}
	return nil
}

// Finished reports whether every task finished.
func (rt *Runtime) Finished() bool { return rt.finished == len(rt.tasks) }

// Failures lists the task failures so far.
func (rt *Runtime) Failures() []TaskFailure { return rt.failures }

func (rt *Runtime) taskFinished(t *Task) {
	rt.finished++
	rt.w.TraceNote(0x7461736b, uint64(t.Subtask), uint64(t.m.RecordsIn))
}

func (rt *Runtime) taskFailed(t *Task, reason string) {
	rt.failures = append(rt.failures, TaskFailure{At: rt.w.Now(), Task: t.name, Reason: reason})
}

// Start begins execution: sources start reading.
func (rt *Runtime) Start() {
	for _, t := range rt.tasks {
		t.m.Started = rt.w.Now()
		if t.src != nil {
			t.wake()
			t.node.After(t.src.gen.spec.WatermarkInterval, t, evSourceWM, 0, 0)
		}
	}
}

// RunToCompletion starts the job and runs the world until every task finished or
// limit passed; it reports whether the job finished.
func (rt *Runtime) RunToCompletion(limit sim.Time) bool {
	rt.Start()
	for !rt.Finished() && rt.w.NextAt() <= limit && !rt.w.Stopped() {
		rt.w.Step()
	}
	return rt.Finished()
}

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
			if e.Part == Forward && e.From.Parallelism == v.Parallelism && len(job.Consumers(e.From)) == 1 && v.Kind != KindJoin {
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

// deploy creates the tasks of every chain, their gates and partitions, and the
// channels between them. Subtask i of every chain runs in slot i (slot sharing);
// slot i is on worker i mod workers.
func (rt *Runtime) deploy() error {
	chains := rt.chains()
	headOf := map[int][]*Task{} // head vertex id -> its chain's tasks
	tailOf := map[int][]*Task{} // tail vertex id -> its chain's tasks
	for _, chain := range chains {
		head, tail := chain[0], chain[len(chain)-1]
		for i := 0; i < head.Parallelism; i++ {
			t, err := rt.newTask(chain, i)
			if err != nil {
				return err
			}
			rt.tasks = append(rt.tasks, t)
			headOf[head.ID] = append(headOf[head.ID], t)
			tailOf[tail.ID] = append(tailOf[tail.ID], t)
			for _, v := range chain {
				rt.byVertex[v.ID] = append(rt.byVertex[v.ID], t)
			}
		}
	}
	// Gates of each consumer, in input-edge order; partitions of each producer per
	// consumer edge; channels producer subtask -> consumer subtask.
	for _, chain := range chains {
		head := chain[0]
		for _, e := range head.Inputs {
			producers := tailOf[e.From.ID]
			consumers := headOf[head.ID]
			gates := make([]*inputGate, len(consumers))
			for j, c := range consumers {
				gates[j] = &inputGate{g: rt.net.NewGate(c.node, c), input: e.Input}
				c.gates = append(c.gates, gates[j])
			}
			for i, p := range producers {
				o := &output{t: p, mode: e.Part, to: head, maxPar: rt.job.MaxParallelism}
				o.part = rt.net.NewPartition(p.node, 0, p)
				targets := consumers
				if e.Part == Forward {
					targets = consumers[i : i+1]
				}
				for _, c := range targets {
					ig := gates[c.Subtask]
					o.channels = append(o.channels, rt.net.Connect(o.part, ig.g))
					ig.wm = append(ig.wm, sim.Time(-1<<62))
					ig.idle = append(ig.idle, false)
					ig.ended = append(ig.ended, false)
				}
				if e.Part == Hash {
					o.route = make([]int32, rt.job.MaxParallelism)
					for kg := range o.route {
						o.route[kg] = int32(OperatorIndex(kg, rt.job.MaxParallelism, len(o.channels)))
					}
				}
				o.cur = make([]*Buffer, len(o.channels))
				o.sent = make([]*Buffer, len(o.channels))
				p.outs = append(p.outs, o)
			}
		}
	}
	return nil
}

func (rt *Runtime) newTask(chain []*Vertex, i int) (*Task, error) {
	slot := i
	node := rt.workers[slot%len(rt.workers)]
	t := &Task{rt: rt, Chain: chain, Subtask: i, node: node, Slowdown: 1, wm: sim.Time(-1 << 62)}
	t.name = fmt.Sprintf("%s[%d]", chainName(chain), i)
	keyed := false
	for _, v := range chain {
		if v.Kind == KindAggregate || v.Kind == KindWindow || v.Kind == KindJoin {
			keyed = true
		}
	}
	if keyed {
		st, err := rt.newState(node, t.name, RangeFor(i, chain[0].Parallelism, rt.job.MaxParallelism))
		if err != nil {
			return nil, err
		}
		t.state = st
	}
	t.links = make([]chainLink, len(chain))
	for k, v := range chain {
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
		t.links[k] = chainLink{t: t, i: k}
	}
	if chain[0].Kind == KindSource {
		g := rt.gens[chain[0].ID]
		splits := SplitsOf(g.spec.Splits, i, chain[0].Parallelism)
		t.src = &sourceState{gen: g, splits: splits, next: make([]int64, len(splits)), maxTime: make([]sim.Time, len(splits))}
		for k := range t.src.maxTime {
			t.src.maxTime[k] = sim.Time(-1 << 62)
		}
	}
	return t, nil
}

func (rt *Runtime) newState(node *sim.Node, name string, rng KeyGroupRange) (KeyedState, error) {
	switch rt.cfg.StateBackend {
	case "pebble":
		return nil, fmt.Errorf("pebble backend not wired yet")
	default:
		return NewHeapState(rng), nil
	}
}
