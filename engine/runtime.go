package engine

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/sim/disk"
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
	// Protocol is the checkpoint protocol; nil disables checkpointing.
	Protocol   checkpoint.Protocol
	Checkpoint CheckpointConfig
	Restart    RestartConfig
	// Store is the remote checkpoint store (default 20 ms latency, 200 MB/s).
	Store sim.StoreConfig
	// HeartbeatTimeout is how long the coordinator takes to notice a dead worker
	// (default 1 s).
	HeartbeatTimeout sim.Duration
	// CommitRetry is the pause before a failed sink commit is retried (100 ms).
	CommitRetry sim.Duration
	// RestoreFrom starts the job from a completed checkpoint (as `flink run -s`),
	// typically one taken from another run with DurableCheckpoint.
	RestoreFrom *CompletedCheckpoint
	// SourceEnds ends the log of a source split at an offset, before its source's
	// records per split (or ends an unbounded split): a reference run that stops
	// where a drained job stopped reads exactly what the job read.
	SourceEnds map[int32]int64
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
	if c.Store.Latency == 0 && c.Store.Bandwidth == 0 {
		c.Store = sim.StoreConfig{Latency: 20 * sim.Millisecond, Bandwidth: 200_000_000}
	}
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = sim.Second
	}
	if c.CommitRetry == 0 {
		c.CommitRetry = 100 * sim.Millisecond
	}
	if c.Checkpoint.MaxConcurrent == 0 {
		c.Checkpoint.MaxConcurrent = 1
	}
	if c.Checkpoint.Timeout == 0 {
		c.Checkpoint.Timeout = 10 * sim.Minute
	}
	c.Restart.fill()
}

// Recovery records one job restart.
type Recovery struct {
	FailedAt    sim.Time
	RestartedAt sim.Time
	Reason      string
	// FromCheckpoint is the checkpoint restored (0: from scratch).
	FromCheckpoint int64
	// WithChannelState is set when the restored checkpoint held in-flight data.
	WithChannelState bool
	Rescaled         bool
	// Regions is the number of pipelined regions restarted (0: the whole job).
	Regions int
	// Reprocessed is the number of source records read again: from the restored
	// offsets up to where the sources were at the failure.
	Reprocessed int64
	// CaughtUpAt is when the job was back where it was at the failure: the sources
	// read up to their positions then, and the sinks' visible output reached them
	// (to within 10 ms; 0 while catching up, or when another failure came first).
	CaughtUpAt sim.Time

	// Local is set for local protocols: the recovery line and its replay.
	Local *LocalRecovery

	before map[int32]int64 // source positions at the failure
}

// Runtime is a job deployed on a simulated cluster: worker nodes, the coordinator,
// the network, the checkpoint store, tasks, and the external sink stores.
type Runtime struct {
	// loops marks the vertices on a cycle (computed on first use, cycle.go).
	loops     map[int]bool
	w         *sim.World
	net       *sim.Network
	job       *Job
	cfg       Config
	workers   []*sim.Node
	disks     []*disk.Disk
	coordNode *sim.Node
	coord     *Coordinator
	store     *sim.Store
	tasks     []*Task
	byVertex  map[int][]*Task
	sinks     map[string]*SinkStore
	gens      map[int]*Generator
	pool      bufferPool
	finished  int
	failures  []TaskFailure
	flushAll  bool

	attempt    int
	running    bool
	jobDone    bool
	jobFailed  bool
	failReason string
	restarts   int
	recoveries []Recovery
	rescale    map[string]int
	backoff    sim.Duration
	// pendingRegions are failed regions waiting for their restart.
	pendingRegions []int
	restartRnd     *sim.Rand

	// savepointKinds is the savepoint kind of each checkpoint id that is a
	// savepoint: what its trigger and its barriers carry.
	savepointKinds map[int64]SavepointKind
	savepointOrder []int64 // savepoint ids in trigger order
	// The current job's high-availability data: the checkpoint it was started
	// from, and the first checkpoint id it took (see lifecycle.go).
	restoredFrom *CompletedCheckpoint
	jobBase      int64
	life         lifecycle
	// violations are the barrier-handler actions refused (contract.go).
	violations []ContractViolation

	// Hooks are called at moments faults may target.
	Hooks Hooks
	inv   invariantState

	// local protocols
	topo       *localTopo
	localStats LocalStats
	costs      Costs
	localTrace localTrace
}

// TaskFailure records a task that failed and why.
type TaskFailure struct {
	At     sim.Time
	Task   string
	Reason string
}

// NewRuntime validates job, creates the workers, the coordinator and the stores,
// and deploys the job's tasks.
func NewRuntime(w *sim.World, job *Job, cfg Config) (*Runtime, error) {
	cfg.fill()
	if err := job.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := CheckFeedback(job, cfg.Protocol); err != nil {
		return nil, err
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
	rt := &Runtime{w: w, job: job, cfg: cfg, sinks: map[string]*SinkStore{}, gens: map[int]*Generator{},
		flushAll: cfg.BufferTimeout < 0, rescale: map[string]int{}, restartRnd: w.Rand("restart"),
		savepointKinds: map[int64]SavepointKind{}}
	rt.net = sim.NewNetwork(w, cfg.Net)
	rt.store = sim.NewStore(w, cfg.Store)
	for i := 0; i < cfg.Workers; i++ {
		n := w.AddNode(fmt.Sprintf("worker-%d", i))
		rt.workers = append(rt.workers, n)
		rt.disks = append(rt.disks, disk.New(n))
		n.OnCrash(func() { rt.workerCrashed(n) })
	}
	rt.coordNode = w.AddNode("jobmanager")
	rt.coord = newCoordinator(rt, rt.coordNode)
	var splitBase int32
	for _, v := range job.Vertices {
		if v.Kind == KindSource {
			g := NewGenerator(*v.Source, sim.NewRand(w.Seed(), "source/"+v.Name).Uint64())
			g.base = splitBase
			splitBase += int32(g.spec.Splits)
			rt.gens[v.ID] = g
		}
		if v.Kind == KindSink {
			s := NewSinkStore(v.Name)
			s.clock = w
			if m := rt.mutation(); m.SinkLosesDerived || m.SinkDuplicatesDerived {
				s.bug = &sinkBug{lose: m.SinkLosesDerived}
			}
			rt.sinks[v.Name] = s
		}
	}
	if rt.local() != nil && cfg.RestoreFrom != nil {
		return nil, fmt.Errorf("protocol %s checkpoints each task on its own: a run cannot start from a completed checkpoint", cfg.Protocol.Name())
	}
	if cp := cfg.RestoreFrom; cp != nil {
		rt.coord.completed = []*CompletedCheckpoint{cp}
		rt.coord.nextID = cp.ID + 1
		rt.restoredFrom, rt.jobBase = cp, cp.ID+1
	}
	if err := rt.deploy(cfg.RestoreFrom); err != nil {
		return nil, err
	}
	if rt.coord.local != nil {
		rt.coord.local.setup()
		rt.localTrace.ensure(rt)
	}
	return rt, nil
}

// diskOf is the local disk of a worker node (nil for other nodes).
func (rt *Runtime) diskOf(n *sim.Node) *disk.Disk {
	for i, w := range rt.workers {
		if w == n {
			return rt.disks[i]
		}
	}
	return nil
}

// DurableCheckpoint returns a completed checkpoint with its task snapshots as the
// checkpoint store holds them, ready to be restored by another runtime.
func (rt *Runtime) DurableCheckpoint(cp *CompletedCheckpoint) *CompletedCheckpoint {
	return rt.loadSnapshots(cp)
}

func (c *Config) validate() error {
	switch {
	case c.Workers < 1 || c.SlotsPerWorker < 1:
		return fmt.Errorf("cluster needs at least one worker and one slot, got %d workers × %d slots", c.Workers, c.SlotsPerWorker)
	case c.StateBackend != "heap" && c.StateBackend != "pebble":
		return fmt.Errorf("unknown state backend %q (heap or pebble)", c.StateBackend)
	case c.Checkpoint.Interval < 0:
		return fmt.Errorf("checkpoint interval must not be negative, got %v", c.Checkpoint.Interval)
	case c.Checkpoint.Timeout < 0 || c.Checkpoint.MinPause < 0 || c.Checkpoint.AlignedTimeout < 0:
		return fmt.Errorf("checkpoint timeout, min pause and aligned timeout must not be negative")
	case c.Checkpoint.MaxConcurrent < 1:
		return fmt.Errorf("max concurrent checkpoints must be at least 1, got %d", c.Checkpoint.MaxConcurrent)
	case c.Checkpoint.TolerableFailures < 0:
		return fmt.Errorf("tolerable failed checkpoints must not be negative")
	}
	return c.Restart.validate()
}

// World is the simulated world the job runs in.
func (rt *Runtime) World() *sim.World { return rt.w }

// Network is the cluster's network.
func (rt *Runtime) Network() *sim.Network { return rt.net }

// Store is the remote checkpoint store.
func (rt *Runtime) Store() *sim.Store { return rt.store }

// Coordinator is the checkpoint coordinator.
func (rt *Runtime) Coordinator() *Coordinator { return rt.coord }

// CoordinatorNode is the job manager's node.
func (rt *Runtime) CoordinatorNode() *sim.Node { return rt.coordNode }

// Job is the deployed job.
func (rt *Runtime) Job() *Job { return rt.job }

// Config is the runtime configuration with defaults filled in.
func (rt *Runtime) Config() Config { return rt.cfg }

// Workers are the worker nodes.
func (rt *Runtime) Workers() []*sim.Node { return rt.workers }

// Disk is the local disk of a worker.
func (rt *Runtime) Disk(worker int) *disk.Disk { return rt.disks[worker] }

// Tasks are the tasks of the current attempt in deployment order.
func (rt *Runtime) Tasks() []*Task { return rt.tasks }

// Attempt counts deployments: 1 for the first.
func (rt *Runtime) Attempt() int { return rt.attempt }

// Restarts is the number of job restarts.
func (rt *Runtime) Restarts() int { return rt.restarts }

// Recoveries lists the job's restarts.
func (rt *Runtime) Recoveries() []Recovery { return rt.recoveries }

// Failed reports whether the job failed for good (restart strategy exhausted or an
// impossible restore), and why.
func (rt *Runtime) Failed() (bool, string) { return rt.jobFailed, rt.failReason }

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

// KeepCommitted makes every sink store keep the records it commits (see
// SinkStore.KeepCommitted). Call it before the run.
func (rt *Runtime) KeepCommitted() {
	for _, s := range rt.sinks {
		s.KeepCommitted()
	}
}

// Sinks returns the names of the sinks in job order.
func (rt *Runtime) Sinks() []string {
	var out []string
	for _, v := range rt.job.Vertices {
		if v.Kind == KindSink {
			out = append(out, v.Name)
		}
	}
	return out
}

// Generator returns the record generator of the source with the given name.
func (rt *Runtime) Generator(name string) *Generator {
	for _, v := range rt.job.Vertices {
		if v.Name == name && v.Kind == KindSource {
			return rt.gens[v.ID]
		}
	}
	return nil
}

// Finished reports whether the job finished: every task consumed its input and,
// with checkpointing, a final checkpoint committed what the sinks wrote (not
// stopped with a savepoint, not cancelled).
func (rt *Runtime) Finished() bool {
	return rt.jobDone && rt.life.stoppedWith == nil && !rt.life.cancelled
}

// Ended reports whether the job is over: finished, stopped with a savepoint,
// cancelled, or failed for good.
func (rt *Runtime) Ended() bool { return rt.jobDone || rt.jobFailed }

// Failures lists the task failures so far.
func (rt *Runtime) Failures() []TaskFailure { return rt.failures }

// Task finds a task of the current attempt by "vertex[subtask]" (e.g. "totals[1]"),
// or by its full chain name.
func (rt *Runtime) Task(name string) (*Task, error) {
	for _, t := range rt.tasks {
		if t.name == name {
			return t, nil
		}
	}
	open := strings.LastIndexByte(name, '[')
	if open > 0 && strings.HasSuffix(name, "]") {
		if i, err := strconv.Atoi(name[open+1 : len(name)-1]); err == nil {
			tasks := rt.TasksOf(name[:open])
			if i >= 0 && i < len(tasks) {
				return tasks[i], nil
			}
			if tasks != nil {
				return nil, fmt.Errorf("task %q: %s has %d subtasks", name, name[:open], len(tasks))
			}
		}
	}
	return nil, fmt.Errorf("no task %q (tasks are named operator[subtask], e.g. %s)", name, rt.tasks[0].name)
}

// FailTask makes a task fail now, as an exception in user code would.
func (rt *Runtime) FailTask(t *Task, reason string) { t.fail(reason) }

// Node finds a node of the cluster by name: "worker-N" or "jobmanager".
func (rt *Runtime) Node(name string) (*sim.Node, error) {
	if name == rt.coordNode.Name() {
		return rt.coordNode, nil
	}
	for _, n := range rt.workers {
		if n.Name() == name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("no node %q (nodes: worker-0..worker-%d, jobmanager)", name, len(rt.workers)-1)
}

// Rescale sets the parallelism a vertex gets at the next deployment (a restore at a
// different parallelism).
func (rt *Runtime) Rescale(vertex string, parallelism int) { rt.rescale[vertex] = parallelism }

func (rt *Runtime) taskFinished(t *Task) {
	rt.finished++
	rt.w.TraceNote(0x7461736b, uint64(t.Subtask), uint64(t.m.RecordsIn))
	if rt.coord.enabled() {
		rt.coord.sendMsg(t, &message{kind: msgFinished, task: t.index, sender: t, inc: t.attempt})
		return
	}
	if rt.finished == len(rt.tasks) {
		rt.finishJob()
	}
}

func (rt *Runtime) finishJob() {
	if rt.jobDone {
		return
	}
	rt.jobDone = true
	rt.running = false
	rt.w.TraceNote(0x646f6e65, uint64(rt.attempt), 0)
}

func (rt *Runtime) taskFailed(t *Task, reason string) {
	rt.failures = append(rt.failures, TaskFailure{At: rt.w.Now(), Task: t.name, Reason: reason})
	rt.coord.sendMsg(t, &message{kind: msgFailed, task: t.index, sender: t, inc: t.attempt, reason: t.name + ": " + reason})
}

// mutation is the deliberate bug the protocol asks for (none for a correct one).
func (rt *Runtime) mutation() checkpoint.Mutation {
	if m, ok := rt.cfg.Protocol.(checkpoint.Mutant); ok {
		return m.Mutation()
	}
	return checkpoint.Mutation{}
}

// noteSnapshot runs the SnapshotTaken hook.
func (rt *Runtime) noteSnapshot(t *Task, id int64) {
	rt.Hooks.fireSnapshotTaken(t, id)
}

// Start begins execution of the first deployment.
func (rt *Runtime) Start() {
	rt.startTasks()
	rt.coord.start()
}

func (rt *Runtime) startTasks() {
	rt.running = true
	for _, t := range rt.tasks {
		t.m.Started = rt.w.Now()
		if t.ls != nil {
			t.startLocal()
		}
		t.wake()
		if t.src != nil {
			t.node.After(t.src.gen.spec.WatermarkInterval, t, evSourceWM, 0, 0)
		}
	}
}

// RunToCompletion starts the job and runs the world until it finished, failed for
// good, or limit passed; it reports whether the job finished.
func (rt *Runtime) RunToCompletion(limit sim.Time) bool {
	rt.Start()
	return rt.RunUntil(limit)
}

// RunUntil runs the started job until it is over (finished, stopped with a
// savepoint, cancelled, failed for good) or limit passed; it reports whether the
// job finished.
func (rt *Runtime) RunUntil(limit sim.Time) bool {
	for !rt.jobDone && !rt.jobFailed && rt.w.StepUntil(limit) {
	}
	return rt.Finished()
}
