package reports

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"sort"
	"strconv"

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
// trace as JSON: barrier flows and failovers become slices, slices go to the
// threads and lanes where they nest, then the metadata, the slices and flows,
// the checkpoints, the global instants, the task failures and the counters
// become trace events, written in timestamp order.
func (c *ChromeTrace) Encode() ([]byte, error) {
	if c.rt == nil {
		return nil, fmt.Errorf("chrome trace: not attached to a run")
	}
	c.finalize()
	e := &encoder{c: c, now: c.w.Now(), coordKey: threadKey{jmPid, "coordinator"}}
	e.barrierFlows()
	e.failovers()
	e.assignThreads()
	e.assignLanes()
	e.assignTids()
	meta := e.metadata()
	e.sliceEvents()
	e.checkpointEvents()
	e.globalInstants()
	e.taskFailures()
	e.counters()
	e.sortEvents()
	return e.write(meta)
}

// encoder is one Encode: the slices to draw, the threads and lanes they go to,
// and the trace events made so far.
type encoder struct {
	c   *ChromeTrace
	now sim.Time
	evs []tev
	// slices are the recording's and the barrier markers and failovers; lane
	// says which lane of its thread each goes to
	slices []traceSlice
	lane   []int
	// flows are the barrier flows drawn (the first maxFlows of totalFlows by
	// send time)
	flows                []barrierFlow
	totalFlows, maxFlows int
	threads              map[threadKey]*threadInfo
	threadList           []*threadInfo
	coordKey             threadKey
}

func (e *encoder) add(ev tev) {
	e.c.seq++
	ev.seq = e.c.seq
	e.evs = append(e.evs, ev)
}

func (e *encoder) tidOf(k threadKey, l int) int { return e.threads[k].tid0 + l }

func (e *encoder) keyOf(s *traceSlice) threadKey {
	if s.task == nil {
		return e.coordKey
	}
	return threadKey{s.task.pid, s.task.name}
}

// barrierFlows caps the barrier flows, the first by send time, and marks each
// flow's ends as zero-length slices on the sender's and the receiver's threads.
func (e *encoder) barrierFlows() {
	c := e.c
	flows := append([]barrierFlow(nil), c.flows...)
	sort.SliceStable(flows, func(i, j int) bool {
		a, b := flows[i], flows[j]
		if a.sentAt != b.sentAt {
			return a.sentAt < b.sentAt
		}
		return a.seq < b.seq
	})
	e.maxFlows = c.MaxBarrierFlows
	if e.maxFlows <= 0 {
		e.maxFlows = DefaultMaxBarrierFlows
	}
	e.totalFlows = len(flows)
	if len(flows) > e.maxFlows {
		flows = flows[:e.maxFlows]
	}
	e.flows = flows
	e.slices = append([]traceSlice(nil), c.slices...)
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
			e.slices = append(e.slices, traceSlice{task: f.from, name: "barrier out", cat: "barrier", start: f.sentAt, end: f.sentAt,
				marker: true, seq: c.seq, args: []targ{{"checkpoint", f.checkpoint}}})
		}
		c.seq++
		e.slices = append(e.slices, traceSlice{task: f.to, name: "barrier in", cat: "barrier", start: f.recvAt, end: f.recvAt,
			marker: true, seq: c.seq, args: []targ{{"checkpoint", f.checkpoint}, {"from", f.from.name}}})
	}
}

// failovers are slices on the job manager's coordinator thread, from the
// failure to the restart (or the end of the run).
func (e *encoder) failovers() {
	c := e.c
	for _, r := range c.rt.Recoveries() {
		end := r.RestartedAt
		status := "restarted"
		if end == 0 {
			end, status = e.now, "not restarted"
		}
		c.seq++
		e.slices = append(e.slices, traceSlice{name: "failover", cat: "failover", start: r.FailedAt, end: max(end, r.FailedAt), seq: c.seq,
			args: []targ{{"reason", r.Reason}, {"status", status}, {"from_checkpoint", r.FromCheckpoint},
				{"with_channel_state", r.WithChannelState}, {"rescaled", r.Rescaled}, {"regions", int64(r.Regions)}}})
	}
}

// assignThreads makes one thread per (worker, subtask) and the coordinator's,
// in process, chain, subtask and name order.
func (e *encoder) assignThreads() {
	e.threads = map[threadKey]*threadInfo{}
	for _, tt := range e.c.all {
		k := threadKey{tt.pid, tt.name}
		if e.threads[k] == nil {
			ti := &threadInfo{key: k, head: tt.head, subtask: tt.subtask}
			e.threads[k] = ti
			e.threadList = append(e.threadList, ti)
		}
	}
	e.threads[e.coordKey] = &threadInfo{key: e.coordKey, head: -1}
	e.threadList = append(e.threadList, e.threads[e.coordKey])
	threadList := e.threadList
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
}

// assignLanes: slices on one thread must nest; one that would overlap another
// partially goes to the first lane where it nests (an overflow lane of the
// thread).
func (e *encoder) assignLanes() {
	slices := e.slices
	sort.SliceStable(slices, func(i, j int) bool {
		a, b := &slices[i], &slices[j]
		ka, kb := e.keyOf(a), e.keyOf(b)
		return cmp.Or(cmp.Compare(ka.pid, kb.pid), cmp.Compare(ka.name, kb.name), cmp.Compare(a.start, b.start),
			cmp.Compare(b.end, a.end), markersLast(a.marker, b.marker), cmp.Compare(a.seq, b.seq)) < 0
	})
	e.lane = make([]int, len(slices))
	var stacks [][]sim.Time
	var cur threadKey
	for i := range slices {
		s := &slices[i]
		k := e.keyOf(s)
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
		e.lane[i] = placed
		if ti := e.threads[k]; placed+1 > ti.lanes {
			ti.lanes = placed + 1
		}
	}
}

// assignTids gives each lane of each thread an id, unique across processes and
// never a process id.
func (e *encoder) assignTids() {
	nextTid := map[int]int{}
	for _, ti := range e.threadList {
		if ti.lanes == 0 {
			ti.lanes = 1
		}
		ti.tid0 = ti.key.pid*tidsPerProc + nextTid[ti.key.pid] + 1
		nextTid[ti.key.pid] += ti.lanes
	}
}

// metadata names and orders the processes, then the threads and their lanes.
func (e *encoder) metadata() []tev {
	c := e.c
	var meta []tev
	meta = append(meta, tev{ph: 'M', name: "process_name", pid: jmPid, tid: e.tidOf(e.coordKey, 0),
		args: []targ{{"name", c.rt.CoordinatorNode().Name() + " (checkpoint coordinator)"}}})
	meta = append(meta, tev{ph: 'M', name: "process_sort_index", pid: jmPid, tid: e.tidOf(e.coordKey, 0),
		args: []targ{{"sort_index", int64(0)}}})
	for i, n := range c.rt.Workers() {
		pid := 2 + i
		tid := pid * tidsPerProc
		for _, ti := range e.threadList {
			if ti.key.pid == pid {
				tid = ti.tid0
				break
			}
		}
		meta = append(meta, tev{ph: 'M', name: "process_name", pid: pid, tid: tid, args: []targ{{"name", n.Name()}}})
		meta = append(meta, tev{ph: 'M', name: "process_sort_index", pid: pid, tid: tid, args: []targ{{"sort_index", int64(1 + i)}}})
	}
	sortIndex := 0
	for _, ti := range e.threadList {
		for l := 0; l < ti.lanes; l++ {
			name := ti.key.name
			if l > 0 {
				name = fmt.Sprintf("%s (overlap %d)", name, l)
			}
			sortIndex++
			meta = append(meta, tev{ph: 'M', name: "thread_name", pid: ti.key.pid, tid: e.tidOf(ti.key, l), args: []targ{{"name", name}}})
			meta = append(meta, tev{ph: 'M', name: "thread_sort_index", pid: ti.key.pid, tid: e.tidOf(ti.key, l),
				args: []targ{{"sort_index", int64(sortIndex)}}})
		}
	}
	return meta
}

// sliceEvents makes the slices complete events on their lanes, and the barrier
// flows flow events between the markers, which are on lane 0 of their threads (a
// zero-length slice always nests).
func (e *encoder) sliceEvents() {
	for i := range e.slices {
		s := &e.slices[i]
		k := e.keyOf(s)
		e.add(tev{ph: 'X', name: s.name, cat: s.cat, pid: k.pid, tid: e.tidOf(k, e.lane[i]), ts: s.start, dur: s.end.Sub(s.start),
			args: s.args, marker: s.marker})
	}
	for i, f := range e.flows {
		id := int64(i + 1)
		from, to := threadKey{f.from.pid, f.from.name}, threadKey{f.to.pid, f.to.name}
		e.add(tev{ph: 's', name: "barrier", cat: "barrier", pid: from.pid, tid: e.tidOf(from, 0), ts: f.sentAt, id: id, hasID: true})
		e.add(tev{ph: 'f', name: "barrier", cat: "barrier", pid: to.pid, tid: e.tidOf(to, 0), ts: f.recvAt, id: id, hasID: true, bp: true})
	}
}

// sortEvents orders the events by timestamp; at one timestamp, complete slices
// before the flow events that bind to them, then by process, thread, longest
// first, markers last, and the order they were made.
func (e *encoder) sortEvents() {
	evs := e.evs
	sort.SliceStable(evs, func(i, j int) bool {
		a, b := &evs[i], &evs[j]
		return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(phaseClass(a.ph), phaseClass(b.ph)), cmp.Compare(a.pid, b.pid),
			cmp.Compare(a.tid, b.tid), cmp.Compare(b.dur, a.dur), markersLast(a.marker, b.marker), cmp.Compare(a.seq, b.seq)) < 0
	})
}

// write writes the metadata and the events as JSON, and the trace's metadata.
func (e *encoder) write(meta []tev) ([]byte, error) {
	c, now, evs := e.c, e.now, e.evs
	var buf bytes.Buffer
	buf.WriteString("{\"traceEvents\":[\n")
	for i, ev := range append(meta, evs...) {
		if i > 0 {
			buf.WriteString(",\n")
		}
		if err := writeEvent(&buf, &ev); err != nil {
			return nil, err
		}
	}
	buf.WriteString("\n],\n\"displayTimeUnit\":\"ms\",\n\"metadata\":")
	md := []targ{{"generator", "ckptsim"}, {"scenario", c.Scenario}, {"protocol", c.Protocol},
		{"seed", strconv.FormatUint(c.Seed, 10)}, {"trace_hash", fmt.Sprintf("%016x", c.w.TraceHash())},
		{"clock", "simulated time; ts and dur in microseconds"}, {"sim_time_ms", now.Seconds() * 1000},
		{"counter_period_ms", c.period.Milliseconds()},
		{"barrier_flows_total", int64(e.totalFlows)}, {"barrier_flows_emitted", int64(len(e.flows))},
		{"barrier_flows_cap", int64(e.maxFlows)},
		{"barrier_flows_rule", "when there are more barriers than the cap, the first ones by send time are drawn"}}
	if err := writeArgs(&buf, md); err != nil {
		return nil, err
	}
	buf.WriteString("}\n")
	return buf.Bytes(), nil
}

// markersLast orders a slice before a marker (a zero-length slice of a barrier's
// end) that starts and ends with it.
func markersLast(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
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
