package checkpoint

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim"
)

// ActionKind is what a barrier handler asks the task to do.
type ActionKind uint8

// Actions of barrier handlers.
const (
	// ActBlock: do not consume channel Channel until resumed (its barrier arrived
	// and the checkpoint is aligned).
	ActBlock ActionKind = iota + 1
	// ActResume: consume every blocked channel again (and let their senders go on).
	ActResume
	// ActCheckpoint: take checkpoint Checkpoint now: forward the barrier (as a
	// priority event when Unaligned), snapshot, upload, acknowledge. When At is
	// set, an aligned barrier still queued at an output at time At overtakes the
	// data before it (the aligned checkpoint timeout on the output side).
	ActCheckpoint
	// ActPersist: channel Channel's barrier has not arrived yet and the checkpoint
	// is unaligned: its queued and arriving buffers are input channel state until
	// its barrier arrives.
	ActPersist
	// ActPrioritize: the checkpoint became unaligned while channel Channel's
	// barrier is still upstream: ask for it to overtake the data before it.
	ActPrioritize
	// ActStopPersist: channel Channel's barrier arrived: stop persisting it (for
	// checkpoint Checkpoint only when it is not 0).
	ActStopPersist
	// ActAbort: give up checkpoint Checkpoint and tell the consumers (cancellation
	// barrier); with Decline, also decline it to the coordinator, which fails it
	// at once (it can never complete).
	ActAbort
	// ActTimer: call Timer at time At.
	ActTimer
	// ActAligned: the alignment of checkpoint Checkpoint ended (its last barrier
	// arrived or its last open channel ended): StartDelay, Alignment and Bytes are
	// the figures Flink reports for it (checkpointStartDelayNanos, the alignment
	// duration from the first to the last barrier, and the bytes processed in
	// between), for aligned and unaligned checkpoints alike.
	ActAligned
)

func (k ActionKind) String() string {
	switch k {
	case ActBlock:
		return "block"
	case ActResume:
		return "resume"
	case ActCheckpoint:
		return "checkpoint"
	case ActPersist:
		return "persist"
	case ActPrioritize:
		return "prioritize"
	case ActStopPersist:
		return "stop-persist"
	case ActAbort:
		return "abort"
	case ActTimer:
		return "timer"
	case ActAligned:
		return "aligned"
	}
	return fmt.Sprintf("action(%d)", k)
}

// Action is one step a barrier handler asks of its task.
type Action struct {
	Kind       ActionKind
	Channel    int
	Checkpoint int64
	Unaligned  bool
	At         sim.Time
	// Decline is set on an ActAbort the coordinator must hear of: an end of
	// partition aborted the checkpoint.
	Decline bool
	// StartDelay, Alignment and Bytes are the figures of an ActAligned.
	StartDelay, Alignment sim.Duration
	Bytes                 int64
}

func (a Action) String() string {
	switch a.Kind {
	case ActBlock, ActPersist, ActStopPersist, ActPrioritize:
		return fmt.Sprintf("%v ch=%d", a.Kind, a.Channel)
	case ActCheckpoint:
		if a.Unaligned {
			return fmt.Sprintf("checkpoint %d unaligned", a.Checkpoint)
		}
		return fmt.Sprintf("checkpoint %d aligned", a.Checkpoint)
	case ActAbort:
		if a.Decline {
			return fmt.Sprintf("abort %d declined", a.Checkpoint)
		}
		return fmt.Sprintf("abort %d", a.Checkpoint)
	case ActTimer:
		return fmt.Sprintf("timer at %v", a.At)
	case ActAligned:
		return fmt.Sprintf("aligned %d start-delay=%v alignment=%v processed=%d B", a.Checkpoint, a.StartDelay, a.Alignment, a.Bytes)
	}
	return a.Kind.String()
}
