package checkpoint

import (
	"fmt"

	"github.com/ckptsim/ckptsim/checkpoint/recoveryline"
	"github.com/ckptsim/ckptsim/sim"
)

// Family is how a protocol's tasks come to checkpoint.
type Family uint8

// Protocol families.
const (
	// Coordinated: the coordinator triggers each checkpoint and barriers carry it
	// through the job (Flink's protocols). Recovery restores the latest completed
	// checkpoint.
	Coordinated Family = iota
	// Uncoordinated: every task checkpoints on its own timer and logs every
	// message it sends; recovery restores a recovery line computed from the
	// checkpoints' dependencies and replays the in-transit messages from the logs.
	Uncoordinated
	// CommunicationInduced: uncoordinated, plus checkpoints forced before a message
	// is processed, decided from information piggybacked on every message, so that
	// no checkpoint is useless. Recovery as Uncoordinated.
	CommunicationInduced
)

func (f Family) String() string {
	switch f {
	case Coordinated:
		return "coordinated"
	case Uncoordinated:
		return "uncoordinated"
	case CommunicationInduced:
		return "communication-induced"
	}
	return fmt.Sprintf("family(%d)", f)
}

// FamilyOf is the family of a protocol: the one it declares when it is a
// LocalProtocol, otherwise Coordinated.
func FamilyOf(p Protocol) Family {
	if lp, ok := p.(LocalProtocol); ok {
		return lp.Family()
	}
	return Coordinated
}

// LocalProtocol is a protocol whose tasks checkpoint independently (the
// Uncoordinated and CommunicationInduced families). The engine never calls its
// NewHandler (there are no barriers); every decision is in the three methods
// below, each a pure function or state machine.
type LocalProtocol interface {
	Protocol
	// Family is Uncoordinated or CommunicationInduced.
	Family() Family
	// NewLocal returns the checkpoint decisions of one task.
	NewLocal(cfg LocalConfig) LocalHandler
	// Recovery decides what a recovery restores and what it replays.
	Recovery() RecoveryPlanner
}

// LocalConfig describes one task to its local handler.
type LocalConfig struct {
	// Task is the task's index among the job's tasks (its process number), Tasks
	// the number of tasks.
	Task, Tasks int
	// Outputs gives, per output channel (numbered across the task's outputs), the
	// task it sends to; Inputs, per input channel, the task it receives from.
	Outputs, Inputs []int
	// Interval is execution.checkpointing.interval.
	Interval sim.Duration
	// Seed seeds the handler's own random choices (timer jitter); it derives from
	// the run's seed and the task's name.
	Seed uint64
	// Restored is the protocol state saved with the checkpoint the task restored
	// (LocalHandler.Save), nil for a fresh start.
	Restored []uint64
}

// LocalHandler is the per-task core of a local protocol: a pure state machine.
// Each input is one call; actions are appended to out. The engine calls Timer and
// Receive only at a message boundary (no message half processed), so that every
// LocalCheckpoint it returns is taken at once.
type LocalHandler interface {
	// Start is called once when the task starts (fresh or restored).
	Start(now sim.Time, out []LocalAction) []LocalAction
	// Timer handles a timer the handler asked for with LocalTimer.
	Timer(now sim.Time, out []LocalAction) []LocalAction
	// Stamp is called for every message the task sends on output channel ch: it
	// appends the information piggybacked on it to dst (nothing for protocols
	// that piggyback nothing).
	Stamp(ch int, dst []uint64) []uint64
	// Receive is called before the task processes a message of input channel ch
	// that carried stamp; it may force a checkpoint first.
	Receive(ch int, stamp []uint64, now sim.Time, out []LocalAction) []LocalAction
	// Finished is called when the task has consumed all its input and sent its
	// last message: its final checkpoint follows.
	Finished(now sim.Time, out []LocalAction) []LocalAction
	// Save appends the protocol state to store with the checkpoint the handler
	// just asked for, for LocalConfig.Restored.
	Save(dst []uint64) []uint64
}

// LocalActionKind is what a local handler asks its task to do.
type LocalActionKind uint8

// Actions of local handlers.
const (
	// LocalCheckpoint: checkpoint now (Forced: before processing the message
	// being received, as a communication-induced protocol decides).
	LocalCheckpoint LocalActionKind = iota + 1
	// LocalTimer: call Timer at At.
	LocalTimer
)

// LocalAction is one step a local handler asks of its task.
type LocalAction struct {
	Kind   LocalActionKind
	Forced bool
	At     sim.Time
}

func (a LocalAction) String() string {
	switch a.Kind {
	case LocalCheckpoint:
		if a.Forced {
			return "checkpoint forced"
		}
		return "checkpoint basic"
	case LocalTimer:
		return fmt.Sprintf("timer at %v", a.At)
	}
	return fmt.Sprintf("local-action(%d)", a.Kind)
}

// RecoveryPlanner is how a local protocol recovers: which checkpoint each task
// restores, and which logged messages each sender replays.
type RecoveryPlanner interface {
	// Line is the recovery line of h: what each task restores after the failure
	// of every task whose current state is nil.
	Line(h *recoveryline.History) (recoveryline.Line, error)
	// Replays lists, per channel whose sender restores a checkpoint of line l,
	// the range of logged messages to re-send (correct: every message sent and
	// not processed at the line, recoveryline.Line.Replays with InTransit).
	Replays(h *recoveryline.History, l recoveryline.Line) []recoveryline.Replay
}

// ErrLocalRescale is the refusal to restore a local protocol's checkpoints at a new
// parallelism: its message logs, sequence numbers and recovery line are per
// channel between two subtasks, and a rescale changes the channels.
var ErrLocalRescale = fmt.Errorf("uncoordinated and communication-induced checkpoints cannot be restored at a new parallelism (their message logs and recovery line are per channel between two subtasks)")
