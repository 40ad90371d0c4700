package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/state"
)

// replayItem is restored channel state a new task processes before any new input:
// output state to re-send on one channel of one output, or input state of one
// input channel to process.
type replayItem struct {
	output  *output // nil for input state
	channel int
	gate    *inputGate
	recs    []Record
	logged  *LoggedMessage // a logged message to re-send as it was (local protocols)
}

// restore loads a task's part of a completed checkpoint, in Flink's order: output
// channel state first, then operator state, then input channel state, replayed
// before any new input. Keyed state is taken from every old subtask whose key
// groups overlap (rescaling); source splits from whichever old subtask read them.
// When this chain or a neighbour was rescaled, in-flight data is redistributed:
// output state goes back through the partitioner, input state of key-by inputs goes
// to the subtask owning each record's key group, of rebalance inputs round robin.
func (t *Task) restore(cp *CompletedCheckpoint) error {
	chain := chainName(t.Chain)
	par := t.Chain[0].Parallelism
	var mine []*TaskSnapshot // old subtasks of this chain
	var states []*state.Snapshot
	offsets := map[int32]int64{}
	for _, s := range cp.Tasks {
		if s.Chain != chain {
			continue
		}
		mine = append(mine, s)
		if s.State != nil {
			states = append(states, s.State)
		}
		for sp, off := range s.Offsets {
			offsets[sp] = off
		}
	}
	rescaled := false
	for _, s := range mine {
		rescaled = rescaled || s.Parallelism != par
	}
	if err := t.restoreOutputs(cp, mine, rescaled); err != nil {
		return err
	}
	if t.state != nil && len(states) > 0 {
		if err := t.state.Restore(states); err != nil {
			return fmt.Errorf("restore %s: %w", t.name, err)
		}
	}
	for _, op := range t.ops {
		if r, ok := op.(Restorer); ok {
			r.Restored()
		}
	}
	t.SetSourceOffsets(offsets)
	if err := t.restoreInputs(cp, mine, rescaled); err != nil {
		return err
	}
	if t.rt.Hooks.observesRestores() {
		n := 0
		for _, it := range t.replay {
			n += len(it.recs)
		}
		t.rt.Hooks.fireRestored(t, cp.ID, n)
	}
	return nil
}

// RestoringChannelState reports whether the task is still replaying the in-flight
// data of the checkpoint it restored (it takes no new input until it is done).
func (t *Task) RestoringChannelState() bool {
	return len(t.replay) > 0 || (t.cur != nil && t.curCh == nil)
}

// Cancelled reports whether the task is gone: cancelled by a failover or lost with
// its worker. Its events are ignored from then on.
func (t *Task) Cancelled() bool { return t.dead }

// owned reports whether old subtask k's in-flight data goes to this subtask when
// it is not routed by key: round robin over the new parallelism.
func (t *Task) owned(k int) bool { return k%t.Chain[0].Parallelism == t.Subtask }

func (t *Task) restoreOutputs(cp *CompletedCheckpoint, mine []*TaskSnapshot, rescaled bool) error {
	for oi, o := range t.outs {
		changed := rescaled || chainRescaled(cp, o.to, t.rt)
		for _, s := range mine {
			if oi >= len(s.OutputState) {
				continue
			}
			if !changed {
				if s.Subtask != t.Subtask {
					continue
				}
				for ci, recs := range s.OutputState[oi] {
					if len(recs) > 0 {
						t.replay = append(t.replay, replayItem{output: o, channel: ci, recs: recs})
					}
				}
				continue
			}
			if !t.owned(s.Subtask) {
				continue
			}
			for _, recs := range s.OutputState[oi] {
				if len(recs) == 0 {
					continue
				}
				if o.mode == Broadcast {
					return fmt.Errorf("restore %s: cannot redistribute in-flight data of a %v edge at a new parallelism", t.name, o.mode)
				}
				t.replay = append(t.replay, replayItem{output: o, channel: -1, recs: recs})
			}
		}
	}
	return nil
}

func (t *Task) restoreInputs(cp *CompletedCheckpoint, mine []*TaskSnapshot, rescaled bool) error {
	changed := rescaled
	for _, ig := range t.gates {
		changed = changed || inputRescaled(cp, t, ig)
	}
	for _, s := range mine {
		if !changed {
			if s.Subtask != t.Subtask {
				continue
			}
			for idx, recs := range s.InputState {
				if len(recs) == 0 {
					continue
				}
				ig := t.gateOfChannel(idx)
				if ig == nil {
					return fmt.Errorf("restore %s: input channel %d of the checkpoint does not exist", t.name, idx)
				}
				t.replay = append(t.replay, replayItem{gate: ig, channel: idx, recs: recs})
			}
			continue
		}
		for idx, recs := range s.InputState {
			if len(recs) == 0 {
				continue
			}
			gi := 0
			if idx < len(s.InputGates) {
				gi = s.InputGates[idx]
			}
			if gi >= len(t.gates) {
				return fmt.Errorf("restore %s: gate %d of the checkpoint does not exist", t.name, gi)
			}
			ig := t.gates[gi]
			var keep []Record
			switch ig.part {
			case Hash:
				rng := state.RangeFor(t.Subtask, t.Chain[0].Parallelism, t.rt.job.MaxParallelism)
				for _, r := range recs {
					if rng.Contains(state.KeyGroup(r.Key, t.rt.job.MaxParallelism)) {
						keep = append(keep, r)
					}
				}
			case Rebalance, Forward:
				// round robin over the new subtasks (Flink's ForwardPartitioner maps
				// its in-flight data as SubtaskStateMapper.ROUND_ROBIN too)
				if t.owned(s.Subtask) {
					keep = recs
				}
			default:
				return fmt.Errorf("restore %s: cannot redistribute in-flight data of a %v edge at a new parallelism", t.name, ig.part)
			}
			if len(keep) > 0 {
				t.replay = append(t.replay, replayItem{gate: ig, channel: -1, recs: keep})
			}
		}
	}
	return nil
}

// chainRescaled reports whether the chain starting at v had another parallelism in
// the checkpoint.
func chainRescaled(cp *CompletedCheckpoint, v *Vertex, rt *Runtime) bool {
	for _, chain := range rt.chains() {
		if chain[0] != v {
			continue
		}
		name := chainName(chain)
		for _, s := range cp.Tasks {
			if s.Chain == name && s.Parallelism != v.Parallelism {
				return true
			}
		}
	}
	return false
}

// inputRescaled reports whether the producers of a gate had another parallelism in
// the checkpoint (the channel numbering changed).
func inputRescaled(cp *CompletedCheckpoint, t *Task, ig *inputGate) bool {
	for _, e := range t.Chain[0].Inputs {
		if e.Input != ig.input {
			continue
		}
		for _, chain := range t.rt.chains() {
			if chain[len(chain)-1] != e.From {
				continue
			}
			name := chainName(chain)
			for _, s := range cp.Tasks {
				if s.Chain == name && s.Parallelism != chain[0].Parallelism {
					return true
				}
			}
		}
	}
	return false
}

func (t *Task) gateOfChannel(idx int) *inputGate {
	for gi, ig := range t.gates {
		base := t.ck.gateBase[gi]
		if idx >= base && idx < base+len(ig.wm) {
			return ig
		}
	}
	return nil
}

// nextReplay takes the next restored item: output state is written to its channel
// at once (flushed, so it goes before anything new); input state becomes the
// current buffer, processed as if it had just arrived.
func (t *Task) nextReplay() {
	it := t.replay[0]
	t.replay = t.replay[1:]
	if it.logged != nil {
		t.rt.costs.Replayed += int64(dataRecords(it.logged.Records))
		it.output.resend(it.channel, it.logged)
		return
	}
	t.rt.costs.Replayed += int64(dataRecords(it.recs))
	if it.output != nil {
		if it.channel < 0 { // redistributed: route again by the partitioner
			for i := range it.recs {
				it.output.emit(&it.recs[i])
			}
			it.output.flush()
			return
		}
		for i := range it.recs {
			it.output.add(it.channel, &it.recs[i])
		}
		if it.output.cur[it.channel] != nil {
			it.output.send(it.channel)
		}
		return
	}
	t.cur = &Buffer{Records: it.recs}
	t.curCh = nil
	t.curGate = it.gate
	t.curInput = it.gate.input
}

// loadSnapshots returns the task snapshots of a completed checkpoint as the
// checkpoint store has them: a snapshot whose upload never became durable is
// missing, and its task restores empty.
func (rt *Runtime) loadSnapshots(cp *CompletedCheckpoint) *CompletedCheckpoint {
	out := &CompletedCheckpoint{ID: cp.ID, TriggerAt: cp.TriggerAt, Savepoint: cp.Savepoint, MaxParallelism: cp.MaxParallelism}
	for _, s := range cp.Tasks {
		if b, ok := rt.store.Lookup(rt.snapshotName(cp.ID, s.Task)); ok {
			if ts, ok := b.Data.(*TaskSnapshot); ok {
				out.Tasks = append(out.Tasks, ts)
				continue
			}
		}
		out.Tasks = append(out.Tasks, &TaskSnapshot{Task: s.Task, Chain: s.Chain, Subtask: s.Subtask, Parallelism: s.Parallelism})
	}
	return out
}
