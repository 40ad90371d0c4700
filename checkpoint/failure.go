package checkpoint

import "fmt"

// FailureReason is why a checkpoint failed, as Flink's CheckpointFailureReason
// names it. The coordinator records one with every failed checkpoint; only some
// count against execution.checkpointing.tolerable-failed-checkpoints.
type FailureReason uint8

// Reasons a checkpoint fails.
const (
	// ReasonExpired (CHECKPOINT_EXPIRED): the checkpoint timeout passed before
	// every task acknowledged.
	ReasonExpired FailureReason = iota + 1
	// ReasonDeclined (CHECKPOINT_DECLINED): a task declined it (its upload failed).
	ReasonDeclined
	// ReasonSubsumed (CHECKPOINT_SUBSUMED): a newer checkpoint completed first.
	ReasonSubsumed
	// ReasonJobFailover (JOB_FAILOVER_REGION, JOB_FAILURE): a failover aborted it.
	ReasonJobFailover
	// ReasonFinalizeFailed (FINALIZE_CHECKPOINT_FAILURE): every task acknowledged
	// but writing the checkpoint's metadata failed.
	ReasonFinalizeFailed
	// ReasonInputEnded (CHECKPOINT_DECLINED_INPUT_END_OF_STREAM): an input of a
	// task ended while the checkpoint was pending, with
	// execution.checkpointing.checkpoints-after-tasks-finish false.
	ReasonInputEnded
)

// String is the reason in a word or two, as tables and traces show it.
func (r FailureReason) String() string {
	switch r {
	case ReasonExpired:
		return "expired"
	case ReasonDeclined:
		return "declined"
	case ReasonSubsumed:
		return "subsumed"
	case ReasonJobFailover:
		return "job-failover"
	case ReasonFinalizeFailed:
		return "finalize-failed"
	case ReasonInputEnded:
		return "input-ended"
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Counts reports whether a failure of this kind counts against the tolerable
// failed checkpoints, as Flink's CheckpointFailureManager counts them: a
// checkpoint that expired, was declined or could not be finalised does; one
// subsumed or aborted by a failover does not.
func (r FailureReason) Counts() bool {
	return r == ReasonExpired || r == ReasonDeclined || r == ReasonFinalizeFailed
}

// MarshalText implements encoding.TextMarshaler.
func (r FailureReason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }
