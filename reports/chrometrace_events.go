package reports

import (
	"fmt"
	"math"
	"sort"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"
)

// The trace events of a Chrome trace that are not slices: the checkpoints, the
// global instants, the task failures and the counters (Encode).

// checkpointEvents makes each checkpoint an async slice on the job manager,
// from its trigger to its completion, abort or the end of the run.
func (e *encoder) checkpointEvents() {
	c := e.c
	coordTid := e.tidOf(e.coordKey, 0)
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
			end = e.now
			status, reason := string(engine.StatusInProgress), "the run ended"
			for _, ev := range c.nodeEvs {
				if ev.crash && ev.coordin && ev.at >= begin {
					end, status, reason = ev.at, "LOST", "the job manager crashed"
					break
				}
			}
			endArgs = []targ{{"status", status}, {"reason", reason}}
		}
		e.add(tev{ph: 'b', name: name, cat: "checkpoint", pid: jmPid, tid: coordTid, ts: begin, id: id, hasID: true,
			args: []targ{{"checkpoint", k.id}}})
		e.add(tev{ph: 'e', name: name, cat: "checkpoint", pid: jmPid, tid: coordTid, ts: end, id: id, hasID: true, args: endArgs})
	}
}

// globalInstants marks the injected faults, the crashes and restarts of nodes,
// the job's restarts and its end.
func (e *encoder) globalInstants() {
	c := e.c
	coordTid := e.tidOf(e.coordKey, 0)
	global := func(at sim.Time, name string, args []targ) {
		e.add(tev{ph: 'i', name: name, cat: "fault", pid: jmPid, tid: coordTid, ts: at, scope: "g", args: args})
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
		global(e.now, "job-failed", []targ{{"reason", reason}})
	} else if c.rt.Finished() {
		global(e.now, "job-finished", nil)
	}
}

// taskFailures are instants on the failed task's thread.
func (e *encoder) taskFailures() {
	c := e.c
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
		e.add(tev{ph: 'i', name: "task-failure", cat: "failure", pid: k.pid, tid: e.tidOf(k, 0), ts: f.At, scope: "t",
			args: []targ{{"reason", f.Reason}}})
	}
}

// counters are each task's in-flight bytes and load (busy, backpressured) as
// step functions: a sample equal to the one before adds nothing.
func (e *encoder) counters() {
	c := e.c
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
		tid := e.tidOf(k, 0)
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
			e.add(tev{ph: 'C', name: tt.name + " in-flight bytes", cat: "counter", pid: tt.pid, tid: tid, ts: s.at,
				args: []targ{{"input", s.in}, {"output", s.out}}})
		}
		if !sh.loadOK || sh.busy != busy || sh.bp != bp {
			sh.busy, sh.bp, sh.loadOK = busy, bp, true
			e.add(tev{ph: 'C', name: tt.name + " load", cat: "counter", pid: tt.pid, tid: tid, ts: s.at,
				args: []targ{{"busy", busy}, {"backpressured", bp}}})
		}
		seen[tt] = sh
	}
}
