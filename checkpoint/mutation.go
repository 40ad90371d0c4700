package checkpoint

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

// Mutant is implemented by protocols that carry a Mutation: the deliberately
// broken ones. A protocol that implements it is a mutant, whatever its name.
type Mutant interface {
	Mutation() Mutation
}
