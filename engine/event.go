package engine

import "github.com/ckptsim/ckptsim/sim"

// Watermarks and idleness travel inside data buffers, as Flink's StreamElements do:
// as records whose Split is one of these markers (Time carries the watermark).
const (
	splitWatermark int32 = -1 << 31
	splitIdle      int32 = -1<<31 + 1
	markerSize           = 16
)

// EventKind is the kind of a stream event: what travels on channels besides data.
type EventKind uint8

// Stream event kinds.
const (
	EvEndOfPartition EventKind = iota + 1 // the producer finished
	EvBarrier                             // checkpoint barrier (Checkpoint, Time = creation)
	EvCancelBarrier                       // the checkpoint was aborted upstream
)

func (k EventKind) String() string {
	return [...]string{"?", "end-of-partition", "barrier", "cancel-barrier"}[k]
}

// StreamEvent is an event on a channel. Events are immutable once sent; one event
// value may be sent on many channels.
type StreamEvent struct {
	Kind       EventKind
	Time       sim.Time // watermark time, or the barrier's creation time
	Checkpoint int64    // checkpoint id of a barrier or cancellation
	// Unaligned is set on barriers that overtake data (an unaligned checkpoint).
	Unaligned bool
	// OvertakenUpTo is set on a barrier that was made to overtake data at its
	// sender after it was queued (an aligned checkpoint that timed out): the data
	// buffers up to this send sequence number follow it although they were sent
	// before it, and the consumer persists them.
	OvertakenUpTo int64
	// OutputStateFrom is set on a barrier that overtook data buffers at its sender
	// which the sender persisted as output channel state: the send sequence number
	// of the first of them. They reach the consumer after the barrier (possibly
	// before the consumer takes it from its queue), and the consumer must not
	// persist them again as input channel state.
	OutputStateFrom int64
	// OvertakeAt is set on aligned barriers that turn unaligned when they are still
	// queued at that time (the aligned checkpoint timeout).
	OvertakeAt sim.Time
	// Seq, Epoch and Stamp are an end of partition's sequence number, sender epoch
	// and piggybacked information under a local protocol (as Buffer's).
	Seq   int64
	Epoch int
	Stamp []uint64
}

// eventSize is the modelled wire size of an event.
const eventSize = 32

// MaxWatermark is the watermark of a finished input: end of event time.
const MaxWatermark = sim.Never
