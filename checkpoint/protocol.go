// Package checkpoint is the contract between ckptsim's engine and its checkpoint
// protocols: what a protocol is (Protocol), the per-task barrier handler it
// provides (BarrierHandler: inputs in, Actions out) and what the handler is told
// (HandlerConfig, BarrierInfo), the guarantee it promises, and the registry that
// makes protocols selectable by name. It imports only package sim, so a protocol,
// in this module or another, is written against this package alone.
package checkpoint

import (
	"fmt"
	"sort"

	"github.com/ckptsim/ckptsim/sim"
)

// Protocol is a checkpoint protocol: it decides, per task, what happens when
// barriers, cancellation barriers and end-of-partition arrive on input channels and
// when its timers fire. The built-in ones live in package protocol; the engine only
// executes the actions their barrier handlers return.
type Protocol interface {
	// Name is how users select the protocol, e.g. "aligned".
	Name() string
	// Guarantee is "exactly-once" or "at-least-once": what the oracles check.
	Guarantee() string
	// NewHandler returns the barrier handler of one task.
	NewHandler(cfg HandlerConfig) BarrierHandler
}

// HandlerConfig describes the inputs of one task to its barrier handler.
type HandlerConfig struct {
	// Channels is the number of input channels, numbered across the task's gates.
	Channels int
	// Pointwise marks channels of forward and broadcast edges, which Flink keeps
	// aligned even for unaligned checkpoints.
	Pointwise []bool
	// AlignedTimeout is execution.checkpointing.aligned-checkpoint-timeout for
	// protocols that switch from aligned to unaligned.
	AlignedTimeout sim.Duration
}

// BarrierInfo is what a handler learns of a barrier.
type BarrierInfo struct {
	Checkpoint int64
	Created    sim.Time // when the coordinator triggered the checkpoint
	Unaligned  bool     // the barrier was sent as an overtaking (unaligned) barrier
}

// BarrierHandler is the per-task core of a protocol: a pure state machine. Each
// method receives one input and appends the resulting actions to out; it never
// calls the simulator or the task.
type BarrierHandler interface {
	// Barrier handles the barrier of a checkpoint arriving on channel ch.
	Barrier(ch int, b BarrierInfo, now sim.Time, out []Action) []Action
	// Cancel handles a cancellation barrier of checkpoint id on channel ch.
	Cancel(ch int, id int64, now sim.Time, out []Action) []Action
	// EndOfPartition handles the end of channel ch.
	EndOfPartition(ch int, now sim.Time, out []Action) []Action
	// Timer handles a timer the handler asked for with ActTimer.
	Timer(now sim.Time, out []Action) []Action
	// Abort tells the handler that the task aborted checkpoint id (coordinator
	// abort, subsumption); it forgets the checkpoint.
	Abort(id int64, now sim.Time, out []Action) []Action
	// Pending is the checkpoint the handler is aligning, if any.
	Pending() (id int64, ok bool)
}

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
	// ActStopPersist: channel Channel's barrier arrived: stop persisting it.
	ActStopPersist
	// ActAbort: give up checkpoint Checkpoint and tell the consumers (cancellation
	// barrier).
	ActAbort
	// ActTimer: call Timer at time At.
	ActTimer
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
		return fmt.Sprintf("abort %d", a.Checkpoint)
	case ActTimer:
		return fmt.Sprintf("timer at %v", a.At)
	}
	return a.Kind.String()
}

var protocols = map[string]Protocol{}

// Register makes a protocol selectable by name. It panics on a duplicate name:
// registration happens at init time.
func Register(p Protocol) {
	if _, dup := protocols[p.Name()]; dup {
		panic("checkpoint: protocol " + p.Name() + " registered twice")
	}
	protocols[p.Name()] = p
}

// Lookup returns the protocol registered under name.
func Lookup(name string) (Protocol, error) {
	if p, ok := protocols[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("unknown protocol %q (known: %v)", name, Names())
}

// Names lists the registered protocols, sorted.
func Names() []string {
	names := make([]string, 0, len(protocols))
	for n := range protocols {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
