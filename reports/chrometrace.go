package reports

import (
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"
)

// DefaultMaxBarrierFlows caps the barrier arrows of a Chrome trace: the first ones
// by send time are kept (the file's metadata says how many there were).
const DefaultMaxBarrierFlows = 10000

// counterSamples is the number of counter samples a trace aims at: the sampling
// period starts at 1 ms and doubles whenever a run has twice as many samples.
const counterSamples = 500

// ChromeTrace records one run for the Chrome Trace Event format, which
// ui.perfetto.dev and chrome://tracing open. Attach it to the runtime before the
// run starts (scenarios.RunOptions.Attach); it only observes, through the
// runtime's observation hooks, crash callbacks and the world's sampler, so the run's
// trace hash does not change. After the run, Encode or WriteFile produce the file:
//
//   - a process per worker (and one for the job manager), a thread per subtask;
//   - per subtask checkpoint, alignment, sync and async slices (category
//     "checkpoint"); after a restart, a restore slice per task (category "restore")
//     from its deployment until it replayed the in-flight data it restored;
//   - each checkpoint as an async slice on the job manager from trigger to
//     completion or abort, and each failover as a slice from failure to restart;
//   - barriers as flow arrows from the sending to the receiving subtask (category
//     "barrier", bound to zero-length "barrier out" and "barrier in" slices);
//   - injected faults, crashes and restarts as global instants, task failures as
//     thread instants;
//   - counters per subtask: in-flight bytes and busy/backpressured ratios.
//
// Timestamps are microseconds of simulated time. The file is a function of the run:
// the same run gives the same bytes.
type ChromeTrace struct {
	// Scenario, Protocol and Seed name the run in the file's metadata.
	Scenario, Protocol string
	Seed               uint64
	// MaxBarrierFlows caps the barrier arrows (DefaultMaxBarrierFlows when 0).
	MaxBarrierFlows int

	sampler *sim.Sampler

	rt        *engine.Runtime
	w         *sim.World
	pidOf     map[*sim.Node]int
	tasks     map[*engine.Task]*traceTask
	all       []*traceTask // in the order first seen
	open      []*traceTask // not yet closed (cancelled or crashed)
	slices    []traceSlice
	sends     map[barrierKey]barrierSend
	flows     []barrierFlow
	triggers  []trigger
	nodeEvs   []nodeEvent
	faultLog  []faults.Injected
	samples   []counterSample
	sampleAt  []sim.Time // distinct sample times kept
	period    sim.Duration
	seq       int
	finalized bool
}

// traceTask is one task instance (one attempt of one subtask).
type traceTask struct {
	t        *engine.Task
	name     string
	pid      int
	head     int // chain head vertex id, for ordering
	subtask  int
	deployed sim.Time
	seen     bool // its deployment was seen
	closed   bool
	// restore state
	restoredCP      int64
	restoredRecords int
	restoring       bool
	restoreStart    sim.Time
	attempt         int
}

type traceSlice struct {
	task       *traceTask // nil: the job manager's coordinator thread
	name, cat  string
	start, end sim.Time
	args       []targ
	marker     bool
	seq        int
}

type barrierKey struct {
	ch *sim.Channel
	id int64
}

type barrierSend struct {
	task *traceTask
	at   sim.Time
	seq  int
}

type barrierFlow struct {
	from, to       *traceTask
	sentAt, recvAt sim.Time
	checkpoint     int64
	seq            int
}

type trigger struct {
	id int64
	at sim.Time
}

type nodeEvent struct {
	at      sim.Time
	node    string
	crash   bool
	coordin bool
}

type counterSample struct {
	at       sim.Time
	task     *traceTask
	in, out  int64
	busy, bp sim.Duration
	gone     bool
}

// targ is one argument of an event: a string, int64, float64 or bool.
type targ struct {
	key string
	val any
}

// Attach starts recording rt. Call it once, before the run starts; it chains the
// hooks already set (fault injection) and takes the world's sampler.
func (c *ChromeTrace) Attach(rt *engine.Runtime) {
	c.rt, c.w = rt, rt.World()
	c.pidOf = map[*sim.Node]int{rt.CoordinatorNode(): 1}
	c.tasks = map[*engine.Task]*traceTask{}
	c.sends = map[barrierKey]barrierSend{}
	c.period = sim.Millisecond
	for i, n := range rt.Workers() {
		c.pidOf[n] = 2 + i
	}
	for _, n := range append(append([]*sim.Node(nil), rt.Workers()...), rt.CoordinatorNode()) {
		n.OnCrash(func() { c.nodeCrashed(n) })
		n.OnRestart(func() { c.nodeRestarted(n) })
	}
	for _, t := range rt.Tasks() {
		c.task(t).seen = true
	}
	h := &rt.Hooks
	h.OnDeployed(c.deployed)
	h.OnCheckpointTriggered(func(id int64) {
		c.triggers = append(c.triggers, trigger{id: id, at: c.w.Now()})
	})
	h.OnBarrierSent(func(t *engine.Task, ch *sim.Channel, id int64) {
		c.seq++
		c.sends[barrierKey{ch, id}] = barrierSend{task: c.task(t), at: c.w.Now(), seq: c.seq}
	})
	h.OnBarrierReceived(func(t *engine.Task, ch *sim.Channel, id int64) {
		k := barrierKey{ch, id}
		if s, ok := c.sends[k]; ok {
			delete(c.sends, k)
			c.flows = append(c.flows, barrierFlow{from: s.task, to: c.task(t), sentAt: s.at, recvAt: c.w.Now(),
				checkpoint: id, seq: s.seq})
		}
	})
	h.OnPhaseEnded(func(p engine.PhaseSpan) { c.addPhase(c.task(p.Task), p) })
	h.OnRestored(func(t *engine.Task, id int64, records int) {
		tt := c.task(t)
		tt.restoredCP, tt.restoredRecords = id, records
	})
	c.sampler = c.w.AddSampler(sim.Millisecond, c.sample)
}

// SetFaults gives the faults injected into the run (scenarios.RunOptions.ObserveFaults).
func (c *ChromeTrace) SetFaults(log []faults.Injected) {
	c.faultLog = append([]faults.Injected(nil), log...)
}

// task returns the record of a task instance, creating it on first sight.
func (c *ChromeTrace) task(t *engine.Task) *traceTask {
	if tt := c.tasks[t]; tt != nil {
		return tt
	}
	tt := &traceTask{t: t, name: t.Name(), pid: c.pidOf[t.Node()], subtask: t.Subtask, deployed: c.w.Now(),
		attempt: c.rt.Attempt()}
	if len(t.Chain) > 0 {
		tt.head = t.Chain[0].ID
	}
	c.tasks[t] = tt
	c.all = append(c.all, tt)
	c.open = append(c.open, tt)
	return tt
}

// deployed runs after an attempt's tasks are deployed: tasks that are new since the
// last deployment start restoring.
func (c *ChromeTrace) deployed(attempt int) {
	c.closeCancelled()
	now := c.w.Now()
	for _, t := range c.rt.Tasks() {
		tt := c.task(t)
		if tt.seen {
			continue // deployed earlier and still running (region failover)
		}
		tt.seen = true
		tt.deployed, tt.attempt = now, attempt
		tt.restoring, tt.restoreStart = true, now
		if !t.RestoringChannelState() {
			c.endRestore(tt, now)
		}
	}
}

func (c *ChromeTrace) endRestore(tt *traceTask, end sim.Time) {
	if !tt.restoring {
		return
	}
	tt.restoring = false
	c.addSlice(traceSlice{task: tt, name: "restore", cat: "restore", start: tt.restoreStart, end: max(end, tt.restoreStart),
		args: []targ{{"checkpoint", tt.restoredCP}, {"channel_state_records", int64(tt.restoredRecords)},
			{"attempt", int64(tt.attempt)}}})
}

func (c *ChromeTrace) addSlice(s traceSlice) {
	c.seq++
	s.seq = c.seq
	c.slices = append(c.slices, s)
}

func (c *ChromeTrace) addPhase(tt *traceTask, p engine.PhaseSpan) {
	outcome := p.Outcome
	if outcome == "" {
		outcome = "completed"
	}
	args := []targ{{"checkpoint", p.Checkpoint}, {"unaligned", p.Unaligned}}
	switch p.Phase {
	case engine.PhaseAlignment:
		args = append(args, targ{"processed_bytes", p.ProcessedBytes})
	case engine.PhaseSync:
		args = append(args, targ{"checkpointed_bytes", p.StateBytes})
	case engine.PhaseAsync:
		args = append(args, targ{"persisted_bytes", p.PersistedBytes}, targ{"checkpointed_bytes", p.StateBytes})
	}
	args = append(args, targ{"outcome", outcome})
	c.addSlice(traceSlice{task: tt, name: p.Phase.String(), cat: "checkpoint", start: p.Start, end: max(p.End, p.Start), args: args})
}

// closeTask ends what a task that is gone left open: its checkpoint phases and
// its restore.
func (c *ChromeTrace) closeTask(tt *traceTask, end sim.Time, outcome string) {
	if tt.closed {
		return
	}
	tt.closed = true
	for _, p := range tt.t.OpenCheckpointPhases() {
		p.End = end
		p.Start = min(p.Start, end)
		p.Outcome = outcome
		c.addPhase(tt, p)
	}
	c.endRestore(tt, end)
}

// cancelTime is when a cancelled task was cancelled: the latest failover since it
// was deployed.
func (c *ChromeTrace) cancelTime(tt *traceTask) sim.Time {
	now := c.w.Now()
	at := now
	found := false
	for _, r := range c.rt.Recoveries() {
		if r.FailedAt >= tt.deployed && r.FailedAt <= now {
			at, found = r.FailedAt, true
		}
	}
	if !found {
		return now
	}
	return at
}

// closeCancelled closes the tasks that were cancelled since the last look and
// drops closed tasks from the open list.
func (c *ChromeTrace) closeCancelled() {
	keep := c.open[:0]
	for _, tt := range c.open {
		if !tt.closed && tt.t.Cancelled() {
			c.closeTask(tt, c.cancelTime(tt), "cancelled")
		}
		if !tt.closed {
			keep = append(keep, tt)
		}
	}
	clear(c.open[len(keep):])
	c.open = keep
}

func (c *ChromeTrace) nodeCrashed(n *sim.Node) {
	now := c.w.Now()
	c.nodeEvs = append(c.nodeEvs, nodeEvent{at: now, node: n.Name(), crash: true, coordin: n == c.rt.CoordinatorNode()})
	for _, tt := range c.open {
		if tt.t.Node() == n {
			c.closeTask(tt, now, "crashed")
		}
	}
}

func (c *ChromeTrace) nodeRestarted(n *sim.Node) {
	c.nodeEvs = append(c.nodeEvs, nodeEvent{at: c.w.Now(), node: n.Name(), coordin: n == c.rt.CoordinatorNode()})
}

// sample runs every millisecond of simulated time: it notices cancelled tasks and
// restores that ended, and records the counters every period.
func (c *ChromeTrace) sample(at sim.Time) {
	c.closeCancelled()
	now := c.w.Now()
	for _, tt := range c.open {
		if tt.restoring && !tt.t.RestoringChannelState() {
			c.endRestore(tt, now)
		}
	}
	if int64(at)%int64(c.period) != 0 {
		return
	}
	for _, t := range c.rt.Tasks() {
		tt := c.task(t)
		s := counterSample{at: at, task: tt}
		if t.Cancelled() || t.Failed() {
			s.gone = true
		} else {
			m := t.Metrics()
			s.in, s.out = t.InFlightBytes()
			s.busy, s.bp = m.Busy, m.Backpressured
		}
		c.samples = append(c.samples, s)
	}
	c.sampleAt = append(c.sampleAt, at)
	if len(c.sampleAt) >= 2*counterSamples {
		c.period *= 2
		keep := c.samples[:0]
		for _, s := range c.samples {
			if int64(s.at)%int64(c.period) == 0 {
				keep = append(keep, s)
			}
		}
		c.samples = keep
		times := c.sampleAt[:0]
		for _, t := range c.sampleAt {
			if int64(t)%int64(c.period) == 0 {
				times = append(times, t)
			}
		}
		c.sampleAt = times
	}
}

// finalize closes what is still open when the run ended.
func (c *ChromeTrace) finalize() {
	if c.finalized {
		return
	}
	c.finalized = true
	c.closeCancelled()
	now := c.w.Now()
	for _, tt := range c.open {
		c.closeTask(tt, now, "unfinished")
	}
	c.open = nil
	if c.sampler != nil {
		c.sampler.Stop()
	}
}

// WriteFile writes the trace to name atomically.
func (c *ChromeTrace) WriteFile(name string) error {
	data, err := c.Encode()
	if err != nil {
		return err
	}
	return WriteFileAtomic(name, data)
}

// ---- encoding ----
