package faults

import (
	"fmt"
	"slices"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// Default durations of faults that heal.
const (
	DefaultFor          = 3 * sim.Second
	DefaultRestartAfter = 2 * sim.Second
)

// Injected records one fault as it happened.
type Injected struct {
	At     sim.Time
	Kind   Kind
	Detail string
	// Down is how long a crashed node stays down (crash kinds only); faults that
	// heal log a second entry with Detail "healed" instead.
	Down sim.Duration
}

// String is the fault in one line for reading: its time rounded to the
// millisecond (sim.Time.Short), its kind and what it hit.
func (i Injected) String() string { return fmt.Sprintf("%s %s %s", i.At.Short(), i.Kind, i.Detail) }

// Injector carries out a schedule on a running job: timed faults at their time,
// event-triggered faults when the runtime reaches their phase. Every injection is
// folded into the trace and logged.
type Injector struct {
	rt      *engine.Runtime
	w       *sim.World
	sched   Schedule
	fired   []bool
	seen    []int // events that matched a When so far, for When.Nth
	log     []Injected
	healed  sim.Time // when the last fault healed (or will)
	reorder []*sim.Channel
	// Reached counts the interesting situations the run reached (coverage).
	Reached map[string]int
	// crashes counts the crashes injected so far (tasks, workers, coordinator).
	crashes int
}

// Event kinds of the injector: the fault index is in A.
const (
	evStart uint32 = iota + 1
	evHeal
	evReorder
)

// Install validates the schedule against the deployed job and arms it.
func Install(rt *engine.Runtime, sched Schedule) (*Injector, error) {
	if err := sched.Validate(); err != nil {
		return nil, err
	}
	in := &Injector{rt: rt, w: rt.World(), sched: sched, fired: make([]bool, len(sched)), seen: make([]int, len(sched)), Reached: map[string]int{}}
	for i := range sched {
		s := &sched[i]
		if err := in.checkTargets(s); err != nil {
			return nil, fmt.Errorf("fault %d (%s): %w", i+1, s.Kind, err)
		}
		if s.When == nil {
			in.w.Schedule(sim.Time(s.At), in, evStart, int64(i), 0)
		}
	}
	in.hook()
	return in, nil
}

// Unfired lists, by index in the schedule, the faults that never fired: the job
// ended, or never reached the event, before their time.
func (in *Injector) Unfired() []int {
	var out []int
	for i, f := range in.fired {
		if !f {
			out = append(out, i)
		}
	}
	return out
}

// Schedule is the schedule the injector carries out.
func (in *Injector) Schedule() Schedule { return in.sched }

// Log lists the faults injected so far.
func (in *Injector) Log() []Injected { return in.log }

// HealedAt is when the last fault healed: after it, the run is in its liveness
// phase.
func (in *Injector) HealedAt() sim.Time { return in.healed }

func (in *Injector) checkTargets(s *Spec) error {
	task := s.Task
	if s.When != nil && s.When.Task != "" && task == "" {
		task = s.When.Task
	}
	if task != "" {
		if _, err := in.rt.Task(task); err != nil {
			return err
		}
	}
	if s.Worker != "" {
		if _, err := in.rt.Node(s.Worker); err != nil {
			return err
		}
	}
	if s.Kind == Partition || s.Kind == LatencySpike {
		for _, n := range s.Between {
			if _, err := in.rt.Node(n); err != nil {
				return err
			}
		}
	}
	if s.Kind == CrashWorker && s.Worker == "" && task == "" {
		return fmt.Errorf("crash-worker needs a worker or a task whose worker crashes")
	}
	if s.Kind == DiskErrors && s.Worker == "" {
		return fmt.Errorf("disk-errors needs a worker")
	}
	return nil
}

// hook subscribes the event triggers to the runtime's hooks. The step triggers
// subscribe only when a fault waits for one, and act only when it fires.
func (in *Injector) hook() {
	h := &in.rt.Hooks
	h.OnFirstBarrier(func(t *engine.Task, id int64) {
		in.Reached["alignment"]++
		in.trigger(PhaseAlignment, id, t, 0)
	})
	h.OnSnapshotTaken(func(t *engine.Task, id int64) {
		in.trigger(PhaseAfterSync, id, t, 0)
		if t.HasTwoPhaseSink() {
			in.Reached["pre-commit"]++
			in.trigger(PhasePreCommit, id, t, 0)
		}
	})
	h.OnCheckpointCompleted(func(cp *engine.CompletedCheckpoint) bool {
		in.trigger(PhaseAfterComplete, cp.ID, nil, 0)
		return false
	})
	h.OnDeployed(func(attempt int) {
		if attempt > 1 {
			in.Reached["recovery"]++
			in.trigger(PhaseRecovery, 0, nil, attempt)
		}
	})
	h.OnMetadataWriting(func(id int64) {
		in.trigger(PhaseMetadata, id, nil, 0)
	})
	if !in.steps() {
		return
	}
	h.OnCheckpointTriggered(func(id int64) {
		in.trigger(StepTriggered, id, nil, 0)
	})
	h.OnBarrierReceived(func(t *engine.Task, ch *sim.Channel, id int64) {
		in.trigger(StepBarrier, id, t, 0)
	})
	h.OnPhaseEnded(func(p engine.PhaseSpan) {
		if p.Phase == engine.PhaseAsync && p.Outcome == "" {
			in.trigger(StepUploaded, p.Checkpoint, p.Task, 0)
		}
	})
	h.OnAckReceived(func(t *engine.Task, id int64) {
		in.trigger(StepAcknowledged, id, t, 0)
	})
	h.OnNotified(func(t *engine.Task, id int64) {
		in.trigger(StepNotified, id, t, 0)
	})
	h.OnRestored(func(t *engine.Task, id int64, records int) {
		in.trigger(StepRestored, id, t, 0)
	})
}

// steps reports whether a fault of the schedule waits for a step trigger.
func (in *Injector) steps() bool {
	for _, s := range in.sched {
		if s.When != nil && slices.Contains(Steps, s.When.Phase) {
			return true
		}
	}
	return false
}

// trigger fires the event-triggered faults matching a phase reached now. The fault
// runs as a separate event at the same time, after the code that reached the phase.
func (in *Injector) trigger(p Phase, id int64, t *engine.Task, attempt int) {
	for i := range in.sched {
		s := &in.sched[i]
		if in.fired[i] || s.When == nil || s.When.Phase != p {
			continue
		}
		w := s.When
		if w.Checkpoint != 0 && p != PhaseRecovery && w.Checkpoint != id {
			continue
		}
		if w.Savepoint != 0 && (p == PhaseRecovery || in.rt.SavepointOrdinal(id) != w.Savepoint) {
			continue
		}
		if w.Task != "" {
			target, err := in.rt.Task(w.Task)
			if err != nil || target != t {
				continue
			}
		}
		if p == PhaseRecovery && w.Attempt != 0 && w.Attempt != attempt {
			continue
		}
		if in.seen[i]++; in.seen[i] < w.Nth {
			continue // not the Nth matching event yet
		}
		in.fired[i] = true
		in.w.Schedule(in.w.Now(), in, evStart, int64(i), int64(attemptOrTask(t)))
	}
}

func attemptOrTask(t *engine.Task) int {
	if t == nil {
		return -1
	}
	return t.Subtask
}

// Handle implements sim.Handler: start, heal or repeat a fault.
func (in *Injector) Handle(ev sim.Event) {
	s := &in.sched[ev.A]
	switch ev.Kind {
	case evStart:
		in.fired[ev.A] = true
		in.start(int(ev.A), s)
	case evHeal:
		in.heal(s)
	case evReorder:
		for _, ch := range in.reorder {
			if !ch.Broken() {
				if ch.SwapQueuedData() {
					in.Reached["fifo-violation"]++
				} else {
					ch.HoldBack() // no two buffers queued: reorder the next two sent
				}
			}
		}
		if in.w.Now() < in.healed {
			in.w.After(20*sim.Millisecond, in, evReorder, ev.A, 0)
		}
	}
}

func (in *Injector) note(s *Spec, format string, args ...any) {
	d := fmt.Sprintf(format, args...)
	in.log = append(in.log, Injected{At: in.w.Now(), Kind: s.Kind, Detail: d})
	in.w.TraceNote(0x666c74, uint64(len(in.log)), uint64(len(s.Kind)))
}

func (in *Injector) lasting(i int, s *Spec, def sim.Duration) {
	d := s.For
	if d == 0 {
		d = def
	}
	end := in.w.Now().Add(d)
	if end > in.healed {
		in.healed = end
	}
	in.w.After(d, in, evHeal, int64(i), 0)
}

func (in *Injector) taskOf(s *Spec) *engine.Task {
	name := s.Task
	if name == "" && s.When != nil {
		name = s.When.Task
	}
	if name == "" {
		return nil
	}
	t, err := in.rt.Task(name)
	if err != nil {
		return nil
	}
	return t
}

func (in *Injector) start(i int, s *Spec) {
	logged := len(in.log)
	defer func() {
		if len(in.log) > logged && in.savepointInFlight() {
			in.Reached["fault-during-savepoint"]++
		}
	}()
	rt := in.rt
	switch s.Kind {
	case CrashTask:
		if t := in.taskOf(s); t != nil {
			in.note(s, "%s", t.Name())
			if t.Aligning() {
				in.Reached["crash-during-alignment"]++
			}
			if t.LoggingBackEdge() {
				in.Reached["crash-during-back-edge-logging"]++
			}
			if t.PendingCommits() > 0 {
				in.Reached["crash-between-precommit-and-commit"]++
			}
			in.countCrash()
			rt.FailTask(t, "injected failure")
		}
	case CrashWorker, CrashCoordinator:
		var n *sim.Node
		if s.Kind == CrashCoordinator {
			n = rt.CoordinatorNode()
		} else if s.Worker != "" {
			n, _ = rt.Node(s.Worker)
		} else if t := in.taskOf(s); t != nil {
			n = t.Node()
		}
		if n == nil || !n.Up() {
			return
		}
		in.note(s, "%s", n.Name())
		in.countPhase(s)
		in.countSituation(n)
		in.countCrash()
		n.Crash()
		d := s.RestartAfter
		if d == 0 {
			d = DefaultRestartAfter
		}
		if end := in.w.Now().Add(d); end > in.healed {
			in.healed = end
		}
		in.log[len(in.log)-1].Down = d
		in.w.After(d, restarter{n}, 0, 0, 0)
	case Partition, LatencySpike:
		a, _ := rt.Node(s.Between[0])
		b, _ := rt.Node(s.Between[1])
		if s.Kind == Partition {
			rt.Network().Partition(a.ID(), b.ID(), true)
			in.note(s, "%s <-> %s", a.Name(), b.Name())
		} else {
			extra := s.Extra
			if extra == 0 {
				extra = 200 * sim.Millisecond
			}
			rt.Network().SetExtraLatency(a.ID(), b.ID(), extra)
			in.note(s, "%s <-> %s +%v", a.Name(), b.Name(), extra)
		}
		in.lasting(i, s, DefaultFor)
	case Straggler:
		if t := in.taskOf(s); t != nil {
			f := s.Factor
			if f == 0 {
				f = 10
			}
			t.Slowdown = f
			in.note(s, "%s x%v", t.Name(), f)
			in.lasting(i, s, DefaultFor)
		}
	case StorageOutage:
		rt.Store().SetOutage(true)
		in.note(s, "checkpoint store down")
		in.lasting(i, s, DefaultFor)
	case CrashStore:
		n := rt.Store().Crash()
		in.note(s, "checkpoint store crashed, %d operations in flight failed", n)
		if s.When != nil && s.When.Phase == PhaseMetadata && n > 0 {
			in.Reached["store-crash-during-metadata-write"]++
		}
		in.lasting(i, s, DefaultFor)
	case StorageSlow:
		f := s.Factor
		if f == 0 {
			f = 10
		}
		rt.Store().SetSlowdown(f)
		in.note(s, "checkpoint store x%v slower", f)
		in.lasting(i, s, DefaultFor)
	case DiskErrors:
		n, _ := rt.Node(s.Worker)
		p := s.Probability
		if p == 0 {
			p = 0.05
		}
		for wi, w := range rt.Workers() {
			if w == n {
				rt.Disk(wi).InjectErrors(p)
			}
		}
		in.note(s, "%s p=%v", n.Name(), p)
		in.lasting(i, s, DefaultFor)
	case SinkCommitFailure:
		c := s.Count
		if c == 0 {
			c = 3
		}
		for _, name := range rt.Sinks() {
			rt.Sink(name).FailCommits += c
		}
		in.note(s, "next %d commits fail", c)
	case FIFOViolation:
		if t := in.taskOf(s); t != nil {
			in.reorder = t.OutputChannels()
			in.note(s, "outputs of %s", t.Name())
			in.lasting(i, s, DefaultFor)
			in.w.After(0, in, evReorder, int64(i), 0)
		}
	}
}

// savepointInFlight reports whether a savepoint is being taken now.
func (in *Injector) savepointInFlight() bool {
	for _, st := range in.rt.Coordinator().InProgress() {
		if st.Savepoint != engine.NoSavepoint {
			return true
		}
	}
	return false
}

// countSituation records what the tasks of a crashing node were in the middle of.
func (in *Injector) countSituation(n *sim.Node) {
	if n == in.rt.CoordinatorNode() {
		in.Reached["coordinator-failover"]++
		return
	}
	for _, t := range in.rt.Tasks() {
		if t.Node() != n {
			continue
		}
		if t.Aligning() {
			in.Reached["crash-during-alignment"]++
		}
		if t.LoggingBackEdge() {
			in.Reached["crash-during-back-edge-logging"]++
		}
		if t.PendingCommits() > 0 {
			in.Reached["crash-between-precommit-and-commit"]++
		}
	}
}

// countCrash notes one more injected crash: runs with two and with three or
// more are coverage situations of their own.
func (in *Injector) countCrash() {
	in.crashes++
	switch in.crashes {
	case 2:
		in.Reached["two-failures"]++
	case 3:
		in.Reached["three-failures"]++
	}
}

func (in *Injector) countPhase(s *Spec) {
	if s.When == nil {
		return
	}
	switch s.When.Phase {
	case PhaseAlignment:
		in.Reached["crash-during-alignment"]++
	case PhaseAfterSync:
		in.Reached["crash-before-upload-durable"]++
	case PhasePreCommit:
		in.Reached["crash-between-precommit-and-commit"]++
	case PhaseRecovery:
		in.Reached["crash-during-recovery"]++
	case PhaseAfterComplete:
		in.Reached["crash-before-notify"]++
	}
}

func (in *Injector) heal(s *Spec) {
	rt := in.rt
	switch s.Kind {
	case Partition:
		a, _ := rt.Node(s.Between[0])
		b, _ := rt.Node(s.Between[1])
		rt.Network().Partition(a.ID(), b.ID(), false)
	case LatencySpike:
		a, _ := rt.Node(s.Between[0])
		b, _ := rt.Node(s.Between[1])
		rt.Network().SetExtraLatency(a.ID(), b.ID(), 0)
	case Straggler:
		for _, t := range rt.Tasks() {
			t.Slowdown = 1
		}
	case StorageOutage, CrashStore:
		rt.Store().SetOutage(false)
	case StorageSlow:
		rt.Store().SetSlowdown(1)
	case DiskErrors:
		for wi := range rt.Workers() {
			rt.Disk(wi).ClearErrors()
		}
	case FIFOViolation:
		in.reorder = nil
	}
	in.log = append(in.log, Injected{At: in.w.Now(), Kind: s.Kind, Detail: "healed"})
}

type restarter struct{ n *sim.Node }

func (r restarter) Handle(sim.Event) { r.n.Restart() }
