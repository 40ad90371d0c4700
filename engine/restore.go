package engine

import "fmt"

// replayItem is restored channel state a new task processes before any new input:
// output state to re-send on one channel of one output, or input state of one
// input channel to process.
type replayItem struct {
	output  *output // nil for input state
	channel int
	gate    *inputGate
	recs    []Record
}

// restore loads a task's part of a completed checkpoint, in Flink's order: output
// channel state first, then operator state, then input channel state, replayed
// before any new input. Keyed state is taken from every old subtask whose key
// groups overlap (rescaling); source splits from whichever old subtask read them.
func (t *Task) restore(cp *CompletedCheckpoint) error {
	chain := chainName(t.Chain)
	var same *TaskSnapshot
	var states []*StateSnapshot
	offsets := map[int32]int64{}
	for _, s := range cp.Tasks {
		if s.Chain != chain {
			continue
		}
		if s.Subtask == t.Subtask && s.Parallelism == t.Chain[0].Parallelism {
			same = s
		}
		if s.State != nil {
			states = append(states, s.State)
		}
		for sp, off := range s.Offsets {
			offsets[sp] = off
		}
	}
	if same != nil {
		for oi, out := range same.OutputState {
			if oi >= len(t.outs) {
				return fmt.Errorf("restore %s: checkpoint has %d outputs, task has %d", t.name, len(same.OutputState), len(t.outs))
			}
			for ci, recs := range out {
				if len(recs) > 0 {
					t.replay = append(t.replay, replayItem{output: t.outs[oi], channel: ci, recs: recs})
				}
			}
		}
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
	if same != nil {
		for idx, recs := range same.InputState {
			if len(recs) == 0 {
				continue
			}
			ig := t.gateOfChannel(idx)
			if ig == nil {
				return fmt.Errorf("restore %s: input channel %d of the checkpoint does not exist", t.name, idx)
			}
			t.replay = append(t.replay, replayItem{gate: ig, channel: idx, recs: recs})
		}
	}
	return nil
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
	if it.output != nil {
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
