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
	// OvertakenDropLast: a barrier that overtakes output buffers at its sender
	// (unaligned, or an aligned barrier timing out in the output queue) persists
	// every overtaken buffer but the last one.
	OvertakenDropLast bool
	// NotifyBeforeMetadata: the coordinator notifies the tasks that a checkpoint
	// completed as soon as every task acknowledged it, before its metadata is
	// durable; a failed write or a coordinator crash then leaves committed
	// transactions of a checkpoint that never completed.
	NotifyBeforeMetadata bool
	// SeqNotRewound: under a local protocol, a restored sender keeps numbering its
	// messages from where its failed incarnation stopped, and keeps that
	// incarnation's log, messages after the restored checkpoint included (as
	// CheckMate's per-channel log files, never rewound).
	SeqNotRewound bool
	// SinkLosesDerived and SinkDuplicatesDerived: the external store of every sink
	// loses, or commits twice, the first derived record (a window or join result)
	// it is asked to commit, as an external system with a bug would.
	SinkLosesDerived, SinkDuplicatesDerived bool
	// SnapshotByReference: the heap backend's snapshot shares the live state and
	// is serialised only when its upload ends (CheckMate pickles the state by
	// reference later), so it holds the updates of records processed after the
	// barrier: not atomic.
	SnapshotByReference bool
	// NonFIFOChannels: the network is not FIFO; a barrier overtakes the data
	// buffer its sender transmitted just before it while that buffer is still on
	// the wire (CheckMate's round-robin sockets), though the protocol assumes
	// FIFO channels.
	NonFIFOChannels bool
}

// Mutant is implemented by protocols that carry a Mutation: the deliberately
// broken ones. A protocol that implements it is a mutant, whatever its name.
type Mutant interface {
	Mutation() Mutation
}
