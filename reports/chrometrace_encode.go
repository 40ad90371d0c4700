package reports

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"
)

// tev is one trace event.
type tev struct {
	ph        byte
	name, cat string
	pid, tid  int
	ts        sim.Time
	dur       sim.Duration
	id        int64
	hasID     bool
	scope     string
	bp        bool
	args      []targ
	marker    bool
	seq       int
}

// threadKey names a subtask's thread in a worker process.
type threadKey struct {
	pid  int
	name string
}

type threadInfo struct {
	key     threadKey
	head    int
	subtask int
	lanes   int
	tid0    int
}

// The job manager is process 1, worker i process 2+i; the threads of process p
// have ids from p×tidsPerProc+1, so that no thread id is a process id.
const (
	jmPid       = 1
	tidsPerProc = 10000
)

// Encode finishes the recording (what is still open ends now) and returns the
// trace as JSON.
func (c *ChromeTrace) Encode() ([]byte, error) {
	if c.rt == nil {
		return nil, fmt.Errorf("chrome trace: not attached to a run")
	}
	c.finalize()
	now := c.w.Now()
	var evs []tev
	add := func(e tev) {
		c.seq++
		e.seq = c.seq
		evs = append(evs, e)
	}

	// barrier flows, capped: the first by send time
	flows := append([]barrierFlow(nil), c.flows...)
	sort.SliceStable(flows, func(i, j int) bool {
		a, b := flows[i], flows[j]
		if a.sentAt != b.sentAt {
			return a.sentAt < b.sentAt
		}
		return a.seq < b.seq
	})
	maxFlows := c.MaxBarrierFlows
	if maxFlows <= 0 {
		maxFlows = DefaultMaxBarrierFlows
	}
	totalFlows := len(flows)
	if len(flows) > maxFlows {
		flows = flows[:maxFlows]
	}
	slices := append([]traceSlice(nil), c.slices...)
	type outKey struct {
		task *traceTask
		cp   int64
		at   sim.Time
	}
	outMarked := map[outKey]bool{}
	for _, f := range flows {
		k := outKey{f.from, f.checkpoint, f.sentAt}
		if !outMarked[k] {
			outMarked[k] = true
			c.seq++
			slices = append(slices, traceSlice{task: f.from, name: "barrier out", cat: "barrier", start: f.sentAt, end: f.sentAt,
				marker: true, seq: c.seq, args: []targ{{"checkpoint", f.checkpoint}}})
		}
		c.seq++
		slices = append(slices, traceSlice{task: f.to, name: "barrier in", cat: "barrier", start: f.recvAt, end: f.recvAt,
			marker: true, seq: c.seq, args: []targ{{"checkpoint", f.checkpoint}, {"from", f.from.name}}})
	}

	// failovers on the job manager's coordinator thread
	for _, r := range c.rt.Recoveries() {
		end := r.RestartedAt
		status := "restarted"
		if end == 0 {
			end, status = now, "not restarted"
		}
		c.seq++
		slices = append(slices, traceSlice{name: "failover", cat: "failover", start: r.FailedAt, end: max(end, r.FailedAt), seq: c.seq,
			args: []targ{{"reason", r.Reason}, {"status", status}, {"from_checkpoint", r.FromCheckpoint},
				{"with_channel_state", r.WithChannelState}, {"rescaled", r.Rescaled}, {"regions", int64(r.Regions)}}})
	}

	// threads: one per (worker, subtask), plus overflow lanes where slices overlap
	threads := map[threadKey]*threadInfo{}
	var threadList []*threadInfo
	for _, tt := range c.all {
		k := threadKey{tt.pid, tt.name}
		if threads[k] == nil {
			ti := &threadInfo{key: k, head: tt.head, subtask: tt.subtask}
			threads[k] = ti
			threadList = append(threadList, ti)
		}
	}
	coordKey := threadKey{jmPid, "coordinator"}
	threads[coordKey] = &threadInfo{key: coordKey, head: -1}
	threadList = append(threadList, threads[coordKey])
	sort.SliceStable(threadList, func(i, j int) bool {
		a, b := threadList[i], threadList[j]
		if a.key.pid != b.key.pid {
			return a.key.pid < b.key.pid
		}
		if a.head != b.head {
			return a.head < b.head
		}
		if a.subtask != b.subtask {
			return a.subtask < b.subtask
		}
		return a.key.name < b.key.name
	})
	keyOf := func(s *traceSlice) threadKey {
		if s.task == nil {
			return coordKey
		}
		return threadKey{s.task.pid, s.task.name}
	}
	// lanes: slices on one thread must nest; one that would overlap another
	// partially goes to the first lane where it nests
	sort.SliceStable(slices, func(i, j int) bool {
		a, b := &slices[i], &slices[j]
		ka, kb := keyOf(a), keyOf(b)
		if ka != kb {
			if ka.pid != kb.pid {
				return ka.pid < kb.pid
			}
			return ka.name < kb.name
		}
		if a.start != b.start {
			return a.start < b.start
		}
		if a.end != b.end {
			return a.end > b.end
		}
		if a.marker != b.marker {
			return !a.marker
		}
		return a.seq < b.seq
	})
	lane := make([]int, len(slices))
	var stacks [][]sim.Time
	var cur threadKey
	for i := range slices {
		s := &slices[i]
		k := keyOf(s)
		if i == 0 || k != cur {
			cur, stacks = k, nil
		}
		placed := -1
		for l := range stacks {
			st := stacks[l]
			for len(st) > 0 && st[len(st)-1] <= s.start {
				st = st[:len(st)-1]
			}
			stacks[l] = st
			if placed < 0 && (len(st) == 0 || st[len(st)-1] >= s.end) {
				placed = l
			}
		}
		if placed < 0 {
			stacks = append(stacks, nil)
			placed = len(stacks) - 1
		}
		stacks[placed] = append(stacks[placed], s.end)
		lane[i] = placed
		if ti := threads[k]; placed+1 > ti.lanes {
			ti.lanes = placed + 1
		}
	}
	// thread ids: unique across processes, never a process id
	nextTid := map[int]int{}
	for _, ti := range threadList {
		if ti.lanes == 0 {
			ti.lanes = 1
		}
		ti.tid0 = ti.key.pid*tidsPerProc + nextTid[ti.key.pid] + 1
		nextTid[ti.key.pid] += ti.lanes
	}
	tidOf := func(k threadKey, l int) int { return threads[k].tid0 + l }

	// metadata: processes, then threads
	var meta []tev
	meta = append(meta, tev{ph: 'M', name: "process_name", pid: jmPid, tid: tidOf(coordKey, 0),
		args: []targ{{"name", c.rt.CoordinatorNode().Name() + " (checkpoint coordinator)"}}})
	meta = append(meta, tev{ph: 'M', name: "process_sort_index", pid: jmPid, tid: tidOf(coordKey, 0),
		args: []targ{{"sort_index", int64(0)}}})
	for i, n := range c.rt.Workers() {
		pid := 2 + i
		tid := pid * tidsPerProc
		for _, ti := range threadList {
			if ti.key.pid == pid {
				tid = ti.tid0
				break
			}
		}
		meta = append(meta, tev{ph: 'M', name: "process_name", pid: pid, tid: tid, args: []targ{{"name", n.Name()}}})
		meta = append(meta, tev{ph: 'M', name: "process_sort_index", pid: pid, tid: tid, args: []targ{{"sort_index", int64(1 + i)}}})
	}
	sortIndex := 0
	for _, ti := range threadList {
		for l := 0; l < ti.lanes; l++ {
			name := ti.key.name
			if l > 0 {
				name = fmt.Sprintf("%s (overlap %d)", name, l)
			}
			sortIndex++
			meta = append(meta, tev{ph: 'M', name: "thread_name", pid: ti.key.pid, tid: tidOf(ti.key, l), args: []targ{{"name", name}}})
			meta = append(meta, tev{ph: 'M', name: "thread_sort_index", pid: ti.key.pid, tid: tidOf(ti.key, l),
				args: []targ{{"sort_index", int64(sortIndex)}}})
		}
	}

	// slices
	for i := range slices {
		s := &slices[i]
		k := keyOf(s)
		add(tev{ph: 'X', name: s.name, cat: s.cat, pid: k.pid, tid: tidOf(k, lane[i]), ts: s.start, dur: s.end.Sub(s.start),
			args: s.args, marker: s.marker})
	}
	// flows: the markers of a flow are on lane 0 of their threads (a zero-length
	// slice always nests)
	for i, f := range flows {
		id := int64(i + 1)
		from, to := threadKey{f.from.pid, f.from.name}, threadKey{f.to.pid, f.to.name}
		add(tev{ph: 's', name: "barrier", cat: "barrier", pid: from.pid, tid: tidOf(from, 0), ts: f.sentAt, id: id, hasID: true})
		add(tev{ph: 'f', name: "barrier", cat: "barrier", pid: to.pid, tid: tidOf(to, 0), ts: f.recvAt, id: id, hasID: true, bp: true})
	}

	// checkpoints: async slices on the job manager
	coordTid := tidOf(coordKey, 0)
	// a local protocol's checkpoints are each one task's own: the same id repeats
	// across tasks, so they are told apart by task
	type ckey struct {
		task string
		id   int64
	}
	stats := map[ckey]engine.CheckpointStats{}
	var ids []ckey
	for _, st := range c.rt.Coordinator().Stats() {
		k := ckey{st.Task, st.ID}
		if _, ok := stats[k]; !ok {
			stats[k] = st
			ids = append(ids, k)
		}
	}
	triggerAt := map[int64]sim.Time{}
	for _, tr := range c.triggers {
		if _, ok := triggerAt[tr.id]; !ok {
			triggerAt[tr.id] = tr.at
			if _, ok := stats[ckey{"", tr.id}]; !ok {
				ids = append(ids, ckey{"", tr.id})
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		if ids[i].id != ids[j].id {
			return ids[i].id < ids[j].id
		}
		return ids[i].task < ids[j].task
	})
	for n, k := range ids {
		id := k.id
		name := fmt.Sprintf("checkpoint %d", id)
		if k.task != "" {
			name += " of " + k.task
			id = int64(1<<40) + int64(n) // an async slice id of its own
		}
		st, ok := stats[k]
		begin := triggerAt[k.id]
		if ok {
			begin = st.TriggerAt
		}
		var end sim.Time
		var endArgs []targ
		if ok {
			end = max(st.CompletedAt, begin)
			endArgs = []targ{{"status", string(st.Status)}, {"reason", st.Reason},
				{"duration_ms", st.Duration.Milliseconds()}, {"acknowledged", int64(st.Acknowledged)}, {"total", int64(st.Total)},
				{"checkpointed_bytes", st.StateSize}, {"full_bytes", st.FullSize},
				{"processed_inflight_bytes", st.ProcessedData}, {"persisted_inflight_bytes", st.PersistedData},
				{"unaligned", st.Unaligned}}
			if k.task != "" {
				endArgs = append(endArgs, targ{"task", k.task}, targ{"forced", st.Forced}, targ{"log_bytes", st.LogBytes})
			}
		} else {
			end = now
			status, reason := string(engine.StatusInProgress), "the run ended"
			for _, ev := range c.nodeEvs {
				if ev.crash && ev.coordin && ev.at >= begin {
					end, status, reason = ev.at, "LOST", "the job manager crashed"
					break
				}
			}
			endArgs = []targ{{"status", status}, {"reason", reason}}
		}
		add(tev{ph: 'b', name: name, cat: "checkpoint", pid: jmPid, tid: coordTid, ts: begin, id: id, hasID: true,
			args: []targ{{"checkpoint", k.id}}})
		add(tev{ph: 'e', name: name, cat: "checkpoint", pid: jmPid, tid: coordTid, ts: end, id: id, hasID: true, args: endArgs})
	}

	// global instants: injected faults, crashes, restarts
	global := func(at sim.Time, name string, args []targ) {
		add(tev{ph: 'i', name: name, cat: "fault", pid: jmPid, tid: coordTid, ts: at, scope: "g", args: args})
	}
	injectedCrash := map[string]bool{}
	for _, f := range c.faultLog {
		name, args := string(f.Kind), []targ{{"detail", f.Detail}, {"injected", true}}
		if f.Detail == "healed" {
			name, args = string(f.Kind)+" healed", []targ{{"injected", true}}
		}
		if f.Kind == faults.CrashWorker || f.Kind == faults.CrashCoordinator {
			injectedCrash[fmt.Sprintf("%d/%s", f.At, f.Detail)] = true
		}
		global(f.At, name, args)
	}
	for _, ev := range c.nodeEvs {
		kind := "worker"
		if ev.coordin {
			kind = "coordinator"
		}
		if ev.crash {
			if injectedCrash[fmt.Sprintf("%d/%s", ev.at, ev.node)] {
				continue
			}
			global(ev.at, "crash-"+kind, []targ{{"detail", ev.node}, {"injected", false}})
			continue
		}
		global(ev.at, "restart-"+kind, []targ{{"detail", ev.node}})
	}
	for _, r := range c.rt.Recoveries() {
		if r.RestartedAt > 0 {
			global(r.RestartedAt, "job-restart", []targ{{"reason", r.Reason}, {"from_checkpoint", r.FromCheckpoint},
				{"downtime_ms", r.RestartedAt.Sub(r.FailedAt).Milliseconds()}})
		}
	}
	if failed, reason := c.rt.Failed(); failed {
		global(now, "job-failed", []targ{{"reason", reason}})
	} else if c.rt.Finished() {
		global(now, "job-finished", nil)
	}
	// task failures: instants on the failed task's thread
	for _, f := range c.rt.Failures() {
		var owner *traceTask
		for _, tt := range c.all {
			if tt.name == f.Task && tt.deployed <= f.At {
				owner = tt
			}
		}
		if owner == nil {
			continue
		}
		k := threadKey{owner.pid, owner.name}
		add(tev{ph: 'i', name: "task-failure", cat: "failure", pid: k.pid, tid: tidOf(k, 0), ts: f.At, scope: "t",
			args: []targ{{"reason", f.Reason}}})
	}

	// counters
	type prev struct {
		at       sim.Time
		busy, bp sim.Duration
	}
	last := map[*traceTask]prev{}
	type shown struct {
		in, out  int64
		busy, bp float64
		inOK     bool
		loadOK   bool
	}
	// a counter is a step function: a sample equal to the one before adds nothing
	seen := map[*traceTask]shown{}
	for _, s := range c.samples {
		tt := s.task
		k := threadKey{tt.pid, tt.name}
		tid := tidOf(k, 0)
		p, ok := last[tt]
		if !ok {
			p = prev{at: min(tt.deployed, s.at)}
		}
		var busy, bp float64
		if dt := s.at.Sub(p.at); dt > 0 && !s.gone {
			busy = ratio(s.busy-p.busy, dt)
			bp = ratio(s.bp-p.bp, dt)
		}
		if !s.gone {
			last[tt] = prev{at: s.at, busy: s.busy, bp: s.bp}
		}
		busy, bp = math.Round(busy*1e4)/1e4, math.Round(bp*1e4)/1e4
		sh := seen[tt]
		if !sh.inOK || sh.in != s.in || sh.out != s.out {
			sh.in, sh.out, sh.inOK = s.in, s.out, true
			add(tev{ph: 'C', name: tt.name + " in-flight bytes", cat: "counter", pid: tt.pid, tid: tid, ts: s.at,
				args: []targ{{"input", s.in}, {"output", s.out}}})
		}
		if !sh.loadOK || sh.busy != busy || sh.bp != bp {
			sh.busy, sh.bp, sh.loadOK = busy, bp, true
			add(tev{ph: 'C', name: tt.name + " load", cat: "counter", pid: tt.pid, tid: tid, ts: s.at,
				args: []targ{{"busy", busy}, {"backpressured", bp}}})
		}
		seen[tt] = sh
	}

	sort.SliceStable(evs, func(i, j int) bool {
		a, b := &evs[i], &evs[j]
		if a.ts != b.ts {
			return a.ts < b.ts
		}
		if ca, cb := phaseClass(a.ph), phaseClass(b.ph); ca != cb {
			return ca < cb
		}
		if a.pid != b.pid {
			return a.pid < b.pid
		}
		if a.tid != b.tid {
			return a.tid < b.tid
		}
		if a.dur != b.dur {
			return a.dur > b.dur
		}
		if a.marker != b.marker {
			return !a.marker
		}
		return a.seq < b.seq
	})

	var buf bytes.Buffer
	buf.WriteString("{\"traceEvents\":[\n")
	for i, e := range append(meta, evs...) {
		if i > 0 {
			buf.WriteString(",\n")
		}
		if err := writeEvent(&buf, &e); err != nil {
			return nil, err
		}
	}
	buf.WriteString("\n],\n\"displayTimeUnit\":\"ms\",\n\"metadata\":")
	md := []targ{{"generator", "ckptsim"}, {"scenario", c.Scenario}, {"protocol", c.Protocol},
		{"seed", strconv.FormatUint(c.Seed, 10)}, {"trace_hash", fmt.Sprintf("%016x", c.w.TraceHash())},
		{"clock", "simulated time; ts and dur in microseconds"}, {"sim_time_ms", now.Seconds() * 1000},
		{"counter_period_ms", c.period.Milliseconds()},
		{"barrier_flows_total", int64(totalFlows)}, {"barrier_flows_emitted", int64(len(flows))},
		{"barrier_flows_cap", int64(maxFlows)},
		{"barrier_flows_rule", "when there are more barriers than the cap, the first ones by send time are drawn"}}
	if err := writeArgs(&buf, md); err != nil {
		return nil, err
	}
	buf.WriteString("}\n")
	return buf.Bytes(), nil
}

// phaseClass orders events of the same timestamp: complete slices before the flow
// events that bind to them.
func phaseClass(ph byte) int {
	switch ph {
	case 'M':
		return 0
	case 'X':
		return 1
	case 's', 'f':
		return 2
	}
	return 3
}

func ratio(d, over sim.Duration) float64 {
	r := float64(d) / float64(over)
	return math.Max(0, math.Min(1, r))
}
