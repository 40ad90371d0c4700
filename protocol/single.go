package protocol

import (
	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
)

type mode uint8

const (
	modeAligned mode = iota
	modeUnaligned
	modeHybrid
)

// single handles one checkpoint at a time, as Flink's
// SingleCheckpointBarrierHandler: waiting for the first barrier, then collecting
// barriers aligned (blocking) or unaligned (persisting).
type single struct {
	cfg       checkpoint.HandlerConfig
	mode      mode
	current   int64 // checkpoint being collected; 0 when waiting for a first barrier
	highest   int64 // largest checkpoint id seen, completed or aborted ones included
	created   sim.Time
	unaligned bool // the current checkpoint is (now) unaligned
	forced    bool // the current checkpoint must stay aligned (a savepoint)
	received  []bool
	ended     []bool
	count     int // channels with the barrier or ended
	alignment     // the figures of the current alignment
	cycle         // the back edges of a cycle's head (cycle.go)
}

func newSingle(cfg checkpoint.HandlerConfig, m mode) *single {
	s := &single{cfg: cfg, mode: m, received: make([]bool, cfg.Channels), ended: make([]bool, cfg.Channels)}
	if m == modeAligned {
		s.cycle.init(cfg) // unaligned: a back edge is one more channel to persist until its barrier
	}
	return s
}

// Pending implements checkpoint.BarrierHandler.
func (s *single) Pending() (int64, bool) { return s.current, s.current != 0 }

func (s *single) timedOut(now sim.Time) bool {
	return s.mode == modeHybrid && !s.forced && now.Sub(s.created) >= s.cfg.AlignedTimeout
}

// switches reports whether the current checkpoint may switch from aligned to
// unaligned (hybrid checkpoints; never a savepoint).
func (s *single) switches() bool { return s.mode == modeHybrid && !s.forced }

// Barrier implements checkpoint.BarrierHandler.
func (s *single) Barrier(ch int, b checkpoint.BarrierInfo, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	id := b.Checkpoint
	if s.back(ch) {
		return s.backBarrier(ch, id, out)
	}
	if id < s.highest || (id == s.highest && s.current != id) {
		return out // a barrier of a checkpoint already completed, aborted or subsumed
	}
	if s.current != 0 && id > s.current {
		out = s.abort(now, out) // subsumed by a newer checkpoint
	}
	if s.current == 0 {
		out = s.start(ch, b, now, out)
	} else {
		out = s.next(ch, b, now, out)
	}
	return s.maybeComplete(now, out)
}

// start handles the first barrier of a checkpoint.
func (s *single) start(ch int, b checkpoint.BarrierInfo, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	s.current, s.highest, s.created = b.Checkpoint, b.Checkpoint, b.Created
	s.forced = b.Savepoint
	s.alignment.begin(b.Checkpoint, b.Created, now)
	s.count = 0
	for i := range s.received {
		s.received[i] = false
		if s.ended[i] && !s.back(i) {
			s.count++
		}
	}
	if !s.ended[ch] { // a trigger of a head whose forward inputs ended comes on an ended channel
		s.received[ch] = true
		s.count++
	}
	// A late barrier that completes the alignment still gives an aligned
	// checkpoint: Flink checks for all barriers before the timeout.
	s.unaligned = !s.forced && (s.mode == modeUnaligned || b.Unaligned || (s.timedOut(now) && s.count < len(s.received)))
	if s.unaligned {
		out = append(out, checkpoint.Action{Kind: checkpoint.ActCheckpoint, Checkpoint: s.current, Unaligned: true})
		// hybrid: the other barriers are still aligned upstream; let them overtake
		return s.persistMissing(s.mode == modeHybrid, out)
	}
	if !s.ended[ch] {
		out = append(out, checkpoint.Action{Kind: checkpoint.ActBlock, Channel: ch})
	}
	if s.switches() {
		out = append(out, checkpoint.Action{Kind: checkpoint.ActTimer, At: s.created.Add(s.cfg.AlignedTimeout)})
	}
	return out
}

// next handles a later barrier of the current checkpoint.
func (s *single) next(ch int, b checkpoint.BarrierInfo, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	if s.received[ch] || s.ended[ch] {
		return out
	}
	s.received[ch] = true
	s.count++
	if s.unaligned {
		return append(out, checkpoint.Action{Kind: checkpoint.ActStopPersist, Channel: ch})
	}
	if !s.forced && (b.Unaligned || (s.timedOut(now) && s.count < len(s.received))) {
		return s.toUnaligned(out)
	}
	return append(out, checkpoint.Action{Kind: checkpoint.ActBlock, Channel: ch})
}

// toUnaligned switches the aligned checkpoint in progress to unaligned: snapshot
// now, resume the blocked channels, persist the rest until their barriers come.
func (s *single) toUnaligned(out []checkpoint.Action) []checkpoint.Action {
	s.unaligned = true
	out = append(out, checkpoint.Action{Kind: checkpoint.ActCheckpoint, Checkpoint: s.current, Unaligned: true},
		checkpoint.Action{Kind: checkpoint.ActResume})
	return s.persistMissing(true, out)
}

func (s *single) persistMissing(prioritize bool, out []checkpoint.Action) []checkpoint.Action {
	for i := range s.received {
		if s.received[i] || s.ended[i] {
			continue
		}
		out = append(out, checkpoint.Action{Kind: checkpoint.ActPersist, Channel: i})
		if prioritize {
			out = append(out, checkpoint.Action{Kind: checkpoint.ActPrioritize, Channel: i, Checkpoint: s.current})
		}
	}
	return out
}

func (s *single) maybeComplete(now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	if s.current == 0 || s.count < len(s.received)-s.backs {
		return out
	}
	// the alignment ends before the checkpoint is taken (Flink marks its end
	// before the state triggers the checkpoint)
	out = s.alignment.end(s.current, now, out)
	if !s.unaligned {
		cp := checkpoint.Action{Kind: checkpoint.ActCheckpoint, Checkpoint: s.current}
		if s.switches() {
			// the forwarded barrier may still time out in the output queues
			cp.At = s.created.Add(s.cfg.AlignedTimeout)
		}
		out = append(out, cp, checkpoint.Action{Kind: checkpoint.ActResume})
		out = s.startLogs(s.current, s.ended, out)
	}
	s.current = 0
	return out
}

func (s *single) abort(now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	s.alignment.reset()
	out = append(out, checkpoint.Action{Kind: checkpoint.ActAbort, Checkpoint: s.current})
	if !s.unaligned {
		out = append(out, checkpoint.Action{Kind: checkpoint.ActResume})
	}
	for i := range s.received {
		if s.unaligned && !s.received[i] && !s.ended[i] {
			out = append(out, checkpoint.Action{Kind: checkpoint.ActStopPersist, Channel: i})
		}
	}
	s.current = 0
	return out
}

// Cancel implements checkpoint.BarrierHandler.
func (s *single) Cancel(ch int, id int64, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	if s.back(ch) {
		return s.backBarrier(ch, id, out) // the head's own cancellation came round
	}
	if id < s.highest || (id == s.highest && s.current != id) {
		return out
	}
	if s.current != 0 {
		cur := s.current
		out = s.abort(now, out)
		if id == cur {
			return out
		}
	}
	// forward the cancellation, also when it is of a newer checkpoint than the
	// pending one, which was aborted above
	out = append(out, checkpoint.Action{Kind: checkpoint.ActAbort, Checkpoint: id})
	s.highest = id
	return out
}

// EndOfPartition implements checkpoint.BarrierHandler.
func (s *single) EndOfPartition(ch int, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	if s.ended[ch] {
		return out
	}
	if s.back(ch) {
		s.ended[ch] = true
		return s.endLogs(ch, out)
	}
	if s.current != 0 && s.cfg.AbortOnEndOfPartition {
		// checkpoints-after-tasks-finish: false (SingleCheckpointBarrierHandler:
		// CHECKPOINT_DECLINED_INPUT_END_OF_STREAM); the abort comes first
		from := len(out)
		out = s.abort(now, out)
		out[from].Decline = true
	}
	s.ended[ch] = true
	if s.current == 0 || s.received[ch] {
		return out
	}
	s.count++
	if s.unaligned {
		out = append(out, checkpoint.Action{Kind: checkpoint.ActStopPersist, Channel: ch})
	} else if s.mode == modeHybrid && s.count < len(s.received) && s.timedOut(now) {
		// AlternatingCollectingBarriers.endOfPartitionReceived: past the timeout,
		// an end of partition that does not complete the alignment turns it
		// unaligned
		out = s.toUnaligned(out)
	}
	return s.maybeComplete(now, out)
}

// Timer implements checkpoint.BarrierHandler: the alignment timeout of a hybrid
// checkpoint.
func (s *single) Timer(now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	if s.current != 0 && !s.unaligned && s.timedOut(now) {
		return s.toUnaligned(out)
	}
	return out
}

// Abort implements checkpoint.BarrierHandler.
func (s *single) Abort(id int64, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	s.forgetLog(id)
	if s.current != 0 && id > s.current {
		// a newer checkpoint was aborted: the pending one is subsumed (otherwise
		// its barriers, older than highest, would be ignored while it stays
		// pending)
		out = s.abort(now, out)
	}
	if id > s.highest {
		s.highest = id
	}
	if s.current == 0 || s.current != id {
		return out
	}
	s.alignment.reset()
	if !s.unaligned {
		out = append(out, checkpoint.Action{Kind: checkpoint.ActResume})
	}
	for i := range s.received {
		if s.unaligned && !s.received[i] && !s.ended[i] {
			out = append(out, checkpoint.Action{Kind: checkpoint.ActStopPersist, Channel: i})
		}
	}
	s.current = 0
	return out
}
