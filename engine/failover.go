package engine

import (
	"fmt"
	"sort"

	"github.com/ckptsim/ckptsim/sim"
)

// workerCrashed runs when a worker dies: its tasks are gone; the coordinator
// notices after the heartbeat timeout.
func (rt *Runtime) workerCrashed(n *sim.Node) {
	for _, t := range rt.tasks {
		if t.node == n {
			t.dead = true
			t.lostWith = n.Incarnation()
		}
	}
	rt.coordNode.After(rt.cfg.HeartbeatTimeout, rt.coord, evCoordLost, int64(n.ID()), int64(n.Incarnation()))
}

// failover handles a failure: pending checkpoints are aborted, the failed tasks'
// pipelined regions (or, with the full strategy, every task) are cancelled, and the
// restart strategy decides whether and when they restart from the latest completed
// checkpoint. failed lists the tasks that failed (nil: a job-wide failure).
func (rt *Runtime) failover(reason string, failed []*Task) {
	if !rt.running || rt.jobDone || rt.jobFailed {
		return
	}
	if sp := rt.coord.completedDrain(); sp != nil {
		rt.endDrained(sp) // a drained job is over: nothing to restart
		return
	}
	now := rt.w.Now()
	rt.coord.abortAll("job failover: " + reason)
	if lc := rt.coord.local; lc != nil {
		lc.plan = nil // another failure: the restart plans again
	}
	regions := rt.regionsOf(failed)
	if regions == nil {
		rt.running = false
		rt.cancelAttempt()
	} else {
		rt.cancelRegions(regions)
	}
	rt.recoveries = append(rt.recoveries, Recovery{FailedAt: now, Reason: reason, Regions: len(regions)})
	rt.noteFailure()
	rt.w.TraceNote(0x666f7672, uint64(rt.attempt), uint64(len(regions)))
	delay, ok := rt.nextRestartDelay()
	if !ok {
		rt.running = false
		rt.cancelAttempt()
		rt.jobFailed = true
		rt.failReason = fmt.Sprintf("restart strategy %s exhausted after %d restarts; last failure: %s", rt.cfg.Restart.Strategy, rt.restarts, reason)
		return
	}
	if regions != nil {
		rt.pendingRegions = mergeRegions(rt.pendingRegions, regions)
	}
	rt.coordNode.After(delay, rt.coord, evCoordRestart, 0, 0)
}

// coordinatorFailover runs when a restarted coordinator took over: it cancels the
// tasks it lost track of and restarts the job from the latest completed checkpoint
// (not counted against the restart strategy, as in Flink).
func (rt *Runtime) coordinatorFailover() {
	if rt.jobDone || rt.jobFailed {
		return
	}
	rt.running = false
	rt.cancelAttempt()
	rt.recoveries = append(rt.recoveries, Recovery{FailedAt: rt.w.Now(), Reason: "coordinator failover"})
	rt.noteFailure()
	rt.coordNode.After(0, rt.coord, evCoordRestart, 0, 0)
}

// cancelAttempt tears down every task: their channels break and their events are
// ignored from now on.
func (rt *Runtime) cancelAttempt() {
	for _, t := range rt.tasks {
		rt.cancelTask(t)
	}
}

// restart deploys a new attempt restored from the latest completed checkpoint:
// the whole job when a full failover stopped it, or only the pipelined regions
// that failed while the rest of the job runs on. Both paths restore the same way
// and record the restart the same way (noteRestart).
func (rt *Runtime) restart() {
	if rt.jobDone || rt.jobFailed {
		return
	}
	if rt.coord.writing() {
		// a checkpoint is completing: restore from it, once it is durable
		rt.coordNode.After(10*sim.Millisecond, rt.coord, evCoordRestart, 0, 0)
		return
	}
	if rt.coord.local != nil && !rt.coord.localReady() {
		return // the restart goes on once the recovery line's record is durable
	}
	full := !rt.running
	regions := rt.pendingRegions
	if !full && len(regions) == 0 {
		return // the job runs and no region waits for its restart
	}
	rt.pendingRegions = nil
	cp := rt.coord.restorePoint()
	if rt.drainedRestorePoint(cp) {
		rt.endDrained(cp) // the coordinator came back after the drain completed
		return
	}
	plan := rt.localBeforeDeploy()
	var started []*Task
	var err error
	if full {
		err = rt.deploy(cp)
		started = rt.tasks
	} else {
		started, err = rt.redeployRegions(regions, cp)
	}
	if err == errNoWorkers {
		if !full {
			rt.pendingRegions = regions
		}
		rt.coordNode.After(rt.cfg.Restart.Delay+sim.Second, rt.coord, evCoordRestart, 0, 0)
		return
	}
	if err != nil {
		rt.jobFailed, rt.failReason = true, err.Error()
		return
	}
	rt.noteRestart(cp, started)
	rt.localAfterDeploy(plan)
	if full {
		rt.startTasks()
		rt.coord.start()
		return
	}
	rt.w.TraceNote(0x72676e, uint64(rt.attempt), uint64(len(regions)))
	rt.Hooks.fireDeployed(rt.attempt)
	for _, t := range started {
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

// noteRestart counts a restart and completes the record of its recovery: when
// the job restarted, from which checkpoint, and whether a restored task has
// channel state to replay (after a full or a region restart alike).
func (rt *Runtime) noteRestart(cp *CompletedCheckpoint, restored []*Task) {
	rt.restarts++
	n := len(rt.recoveries)
	if n == 0 {
		return
	}
	r := &rt.recoveries[n-1]
	r.RestartedAt = rt.w.Now()
	if cp != nil {
		r.FromCheckpoint = cp.ID
		r.WithChannelState = restoresChannelState(cp, restored)
	}
	rt.noteRestarted()
}

// restoresChannelState reports whether cp holds in-flight data for one of the
// restored tasks: a snapshot of the same subtask, or of the task's chain at
// another parallelism (its data is redistributed). After a full restart every
// snapshot of cp counts.
func restoresChannelState(cp *CompletedCheckpoint, restored []*Task) bool {
	for _, s := range cp.Tasks {
		if !s.HasChannelState() {
			continue
		}
		for _, t := range restored {
			if s.Chain == chainName(t.Chain) && (s.Subtask == t.Subtask || s.Parallelism != t.Chain[0].Parallelism) {
				return true
			}
		}
	}
	return false
}

var errNoWorkers = fmt.Errorf("no worker is up")

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

// tasksOn lists the tasks of the current attempt that run on node n.
func (rt *Runtime) tasksOn(n *sim.Node) []*Task {
	var out []*Task
	for _, t := range rt.tasks {
		if t.node == n {
			out = append(out, t)
		}
	}
	return out
}

// lostTasks lists the tasks of the current attempt that died with incarnation
// inc of node n (workerCrashed) and were not restarted since.
func (rt *Runtime) lostTasks(n *sim.Node, inc uint32) []*Task {
	var out []*Task
	for _, t := range rt.tasks {
		if t.node == n && t.lostWith == inc {
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

// redeployRegions replaces the tasks of the failed regions with new ones
// restored from cp, while the rest of the job runs on, and returns them (not yet
// started). Their sources rewind to the checkpoint's offsets and their sinks'
// pending transactions are committed or aborted as in a full restart, for the
// sink subtasks of the regions only.
func (rt *Runtime) redeployRegions(regions []int, cp *CompletedCheckpoint) ([]*Task, error) {
	var up []*sim.Node
	for _, n := range rt.workers {
		if n.Up() {
			up = append(up, n)
		}
	}
	if len(up) == 0 {
		return nil, errNoWorkers
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
			return nil, err
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
	var started []*Task
	for _, nt := range replaced {
		if nt == nil {
			continue
		}
		nt.initCheckpointing()
		if cp != nil {
			if err := nt.restore(cp); err != nil {
				return nil, err
			}
		}
		started = append(started, nt)
	}
	return started, nil
}
