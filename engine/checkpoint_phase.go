package engine

import (
	"slices"

	"github.com/ckptsim/ckptsim/sim"
)

// CheckpointPhase is a phase of a subtask's checkpoint, as Flink reports them.
type CheckpointPhase uint8

// Checkpoint phases.
const (
	// PhaseAlignment is from the first barrier to the snapshot (waiting for the
	// barriers of the other input channels).
	PhaseAlignment CheckpointPhase = iota + 1
	// PhaseSync is the synchronous snapshot: operator state, offsets, pre-commit.
	PhaseSync
	// PhaseAsync is from the synchronous snapshot to the acknowledgement: the
	// persistence of in-flight data (unaligned) and the upload.
	PhaseAsync
)

func (p CheckpointPhase) String() string {
	switch p {
	case PhaseAlignment:
		return "alignment"
	case PhaseSync:
		return "sync"
	case PhaseAsync:
		return "async"
	}
	return "?"
}

// PhaseSpan is one phase of one subtask's checkpoint, for observers
// (Hooks.OnPhaseEnded, Task.OpenCheckpointPhases).
type PhaseSpan struct {
	Task       *Task
	Checkpoint int64
	Phase      CheckpointPhase
	Start, End sim.Time
	Unaligned  bool
	// ProcessedBytes is the in-flight data processed during alignment,
	// PersistedBytes the in-flight data persisted, StateBytes the checkpointed
	// state (the delta when incremental).
	ProcessedBytes, PersistedBytes, StateBytes int64
	// Outcome is empty when the phase completed, else why it ended early:
	// "aborted" or "declined" (the upload failed).
	Outcome string
}

func (t *Task) notePhase(p PhaseSpan) {
	if t.rt.Hooks.observesPhases() {
		p.Task = t
		t.rt.Hooks.firePhaseEnded(p)
	}
}

// OpenCheckpointPhases lists the checkpoint phases the task is in, ending now: the
// alignments it started and the snapshots it took and has not acknowledged (their
// async phase). Observers call it once a task is cancelled or its worker crashed,
// to close what the task never finished.
func (t *Task) OpenCheckpointPhases() []PhaseSpan {
	c := t.ck
	if c == nil {
		return nil
	}
	now := t.rt.w.Now()
	ids := make([]int64, 0, len(c.firstAt))
	for id := range c.firstAt {
		if id > c.latest {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []PhaseSpan
	for _, id := range ids {
		out = append(out, PhaseSpan{Task: t, Checkpoint: id, Phase: PhaseAlignment, Start: c.firstAt[id], End: now,
			ProcessedBytes: c.alignBytes})
	}
	for _, f := range c.inflight {
		start := min(f.syncEnd, now)
		out = append(out, PhaseSpan{Task: t, Checkpoint: f.id, Phase: PhaseAsync, Start: start, End: now,
			Unaligned: f.unaligned, PersistedBytes: f.stats.PersistedBytes, StateBytes: f.stats.StateBytes})
	}
	return out
}

// noteAborted reports the phases of checkpoint id that its abort cuts short.
func (t *Task) noteAborted(id int64) {
	c := t.ck
	now := t.rt.w.Now()
	if first, ok := c.firstAt[id]; ok && id > c.latest {
		t.notePhase(PhaseSpan{Checkpoint: id, Phase: PhaseAlignment, Start: first, End: now, ProcessedBytes: c.alignBytes,
			Outcome: "aborted"})
	}
	if f := c.find(id); f != nil {
		t.notePhase(PhaseSpan{Checkpoint: id, Phase: PhaseAsync, Start: min(f.syncEnd, now), End: now, Unaligned: f.unaligned,
			PersistedBytes: f.stats.PersistedBytes, StateBytes: f.stats.StateBytes, Outcome: "aborted"})
	}
}
