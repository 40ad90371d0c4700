package engine

// Mutation is a deliberate bug a mutant protocol asks the engine to have, so that
// the property suite can prove its oracles catch it. Correct protocols have none.
type Mutation struct {
	// SinkEarlyCommit: sinks commit their transaction at pre-commit, before the
	// checkpoint is complete.
	SinkEarlyCommit bool
	// RestoreStale: recovery restores the checkpoint before the latest.
	RestoreStale bool
	// SourceOffsetShift is added to every source offset a snapshot records.
	SourceOffsetShift int64
	// AckBeforeUpload: tasks acknowledge at the end of the synchronous phase and
	// upload afterwards; a crash in between loses the upload.
	AckBeforeUpload bool
	// CompleteWithoutAllAcks: the coordinator completes a checkpoint with one
	// acknowledgement missing.
	CompleteWithoutAllAcks bool
	// DropOutputState: unaligned barriers forget the buffers they overtook.
	DropOutputState bool
	// DropInputState: buffers a priority barrier overtook at the receiver are not
	// persisted.
	DropInputState bool
}

// Mutant is implemented by protocols that carry a Mutation.
type Mutant interface {
	Mutation() Mutation
}

func (rt *Runtime) mutation() Mutation {
	if m, ok := rt.cfg.Protocol.(Mutant); ok {
		return m.Mutation()
	}
	return Mutation{}
}

// loadSnapshots returns the task snapshots of a completed checkpoint as the
// checkpoint store has them: a snapshot whose upload never became durable is
// missing, and its task restores empty.
func (rt *Runtime) loadSnapshots(cp *CompletedCheckpoint) *CompletedCheckpoint {
	out := &CompletedCheckpoint{ID: cp.ID, TriggerAt: cp.TriggerAt}
	for _, s := range cp.Tasks {
		if b, ok := rt.store.Lookup(snapshotName(cp.ID, s.Task)); ok {
			if ts, ok := b.Data.(*TaskSnapshot); ok {
				out.Tasks = append(out.Tasks, ts)
				continue
			}
		}
		out.Tasks = append(out.Tasks, &TaskSnapshot{Task: s.Task, Chain: s.Chain, Subtask: s.Subtask, Parallelism: s.Parallelism})
	}
	return out
}
