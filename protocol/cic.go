package protocol

import (
	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
)

// CIC is communication-induced checkpointing by the HMNR protocol (Hélary,
// Mostefaoui, Netzer and Raynal, "Communication-based prevention of useless
// checkpoints in distributed computations", 2000), as CheckMate models it: tasks
// take basic checkpoints on their own timer and forced checkpoints before
// processing a message whose piggybacked information shows that processing it
// could put a checkpoint on a Z-cycle. No checkpoint is ever useless. Every message
// carries the sender's logical clock lc and its vectors ckpt[], taken[] and
// greater[] (one entry per task). Logging and recovery are those of Uncoordinated.
type CIC struct{}

// Name implements engine.Protocol.
func (CIC) Name() string { return CICName }

// Guarantee implements engine.Protocol.
func (CIC) Guarantee() checkpoint.Guarantee { return checkpoint.ExactlyOnce }

// NewHandler implements engine.Protocol; local protocols have no barrier handler.
func (CIC) NewHandler(checkpoint.HandlerConfig) checkpoint.BarrierHandler { return nil }

// SupportsFeedback implements checkpoint.FeedbackSupport: a local protocol
// needs no barriers; its message logs replay what a back edge carried.
func (CIC) SupportsFeedback() bool { return true }

// Family implements checkpoint.LocalProtocol.
func (CIC) Family() checkpoint.Family { return checkpoint.CommunicationInduced }

// NewLocal implements checkpoint.LocalProtocol.
func (CIC) NewLocal(cfg checkpoint.LocalConfig) checkpoint.LocalHandler { return NewHMNR(cfg, true) }

// Recovery implements checkpoint.LocalProtocol.
func (CIC) Recovery() checkpoint.RecoveryPlanner { return lineRecovery{} }

// HMNR is the state of one task (process i of n) in the HMNR protocol:
//   - lc, a logical clock that counts checkpoints along causal paths;
//   - ckpt[k], the number of checkpoints of task k that i knows of (ckpt[i]: its own);
//   - taken[k], that a causal path from task k's latest checkpoint known to i
//     reaches i through a checkpoint (a path that could close a Z-cycle);
//   - greater[k], that lc is above the clock of task k's latest checkpoint known to i;
//   - sentTo[k], that i sent to task k since its last checkpoint.
//
// It is a pure state machine; the engine calls it through checkpoint.LocalHandler.
type HMNR struct {
	self, n int
	outputs []int // the receiving task of each output channel
	inputs  []int // the sending task of each input channel
	lc      int64
	ckpt    []int64
	taken   []bool
	greater []bool
	sentTo  []bool
	timer   basicTimer
	// forceTaken turns the second forcing condition off: a deliberately broken
	// variant (mutant) that skips forced checkpoints.
	forceTaken bool
	m          stamp // scratch for the received stamp
}

// stamp is the information piggybacked on one message.
type stamp struct {
	lc      int64
	ckpt    []int64
	taken   []bool
	greater []bool
}

// NewHMNR returns the HMNR state of one task, restored from cfg.Restored when set.
// forceTaken false drops the forcing condition on taken[] (a broken variant).
func NewHMNR(cfg checkpoint.LocalConfig, forceTaken bool) *HMNR {
	n := cfg.Tasks
	h := &HMNR{self: cfg.Task, n: n, outputs: cfg.Outputs, inputs: cfg.Inputs, forceTaken: forceTaken,
		ckpt: make([]int64, n), taken: make([]bool, n), greater: make([]bool, n), sentTo: make([]bool, n),
		timer: newBasicTimer(cfg)}
	h.m = stamp{ckpt: make([]int64, n), taken: make([]bool, n), greater: make([]bool, n)}
	if len(cfg.Restored) > 0 {
		var s stamp
		s.ckpt, s.taken, s.greater = h.ckpt, h.taken, h.greater
		if decode(cfg.Restored, &s, n) {
			h.lc = s.lc
		}
	}
	return h
}

// stampWords is the number of 64-bit words of a stamp of n tasks: lc, ckpt[] and
// the two bit vectors.
func stampWords(n int) int { return 1 + n + 2*((n+63)/64) }

func encode(dst []uint64, lc int64, ckpt []int64, taken, greater []bool) []uint64 {
	dst = append(dst, uint64(lc))
	for _, c := range ckpt {
		dst = append(dst, uint64(c))
	}
	for _, bits := range [2][]bool{taken, greater} {
		for w := 0; w < len(bits); w += 64 {
			var word uint64
			for b := w; b < min(w+64, len(bits)); b++ {
				if bits[b] {
					word |= 1 << (b - w)
				}
			}
			dst = append(dst, word)
		}
	}
	return dst
}

// decode reads a stamp of n tasks into s (whose slices have length n); it reports
// false when the words do not hold one.
func decode(words []uint64, s *stamp, n int) bool {
	if len(words) != stampWords(n) {
		return false
	}
	s.lc = int64(words[0])
	for k := 0; k < n; k++ {
		s.ckpt[k] = int64(words[1+k])
	}
	bw := (n + 63) / 64
	for k := 0; k < n; k++ {
		s.taken[k] = words[1+n+k/64]&(1<<(k%64)) != 0
		s.greater[k] = words[1+n+bw+k/64]&(1<<(k%64)) != 0
	}
	return true
}

// checkpoint updates the state for a checkpoint (basic or forced) taken at now.
func (h *HMNR) checkpoint(now sim.Time) {
	for k := range h.sentTo {
		h.sentTo[k] = false
		if k != h.self {
			h.taken[k], h.greater[k] = true, true
		}
	}
	h.lc++
	h.ckpt[h.self]++
	h.timer.taken(now)
}

// Start implements checkpoint.LocalHandler.
func (h *HMNR) Start(now sim.Time, out []checkpoint.LocalAction) []checkpoint.LocalAction {
	h.timer.last = now
	return h.timer.arm(out)
}

// Timer implements checkpoint.LocalHandler: a basic checkpoint once the period since
// the last checkpoint (basic or forced) has passed.
func (h *HMNR) Timer(now sim.Time, out []checkpoint.LocalAction) []checkpoint.LocalAction {
	if now < h.timer.due() {
		return h.timer.arm(out) // a forced checkpoint restarted the period
	}
	h.checkpoint(now)
	out = append(out, checkpoint.LocalAction{Kind: checkpoint.LocalCheckpoint})
	return h.timer.arm(out)
}

// Stamp implements checkpoint.LocalHandler: the message to output channel ch carries
// lc, ckpt[], taken[] and greater[].
func (h *HMNR) Stamp(ch int, dst []uint64) []uint64 {
	if ch >= 0 && ch < len(h.outputs) {
		h.sentTo[h.outputs[ch]] = true
	}
	return encode(dst, h.lc, h.ckpt, h.taken, h.greater)
}

// Receive implements checkpoint.LocalHandler: force a checkpoint before processing m
// when (C1) i sent to some task k in this interval, m.greater[k] and m.lc > lc: m
// comes from an interval with a larger clock that k's latest checkpoint may not
// be ordered before; or when (C2) m.ckpt[i] == ckpt[i] and m.taken[i]: m closes a
// causal path from i's current interval through a checkpoint back to i. Then merge
// m's information into the state.
func (h *HMNR) Receive(ch int, words []uint64, now sim.Time, out []checkpoint.LocalAction) []checkpoint.LocalAction {
	m := &h.m
	if !decode(words, m, h.n) {
		return out // no stamp (the engine sends one on every message)
	}
	if h.mustForce(m) {
		h.checkpoint(now)
		out = append(out, checkpoint.LocalAction{Kind: checkpoint.LocalCheckpoint, Forced: true})
		out = h.timer.arm(out)
	}
	h.merge(m)
	return out
}

func (h *HMNR) mustForce(m *stamp) bool {
	if m.lc > h.lc {
		for k, s := range h.sentTo {
			if s && m.greater[k] {
				return true
			}
		}
	}
	return h.forceTaken && m.ckpt[h.self] == h.ckpt[h.self] && m.taken[h.self]
}

// merge takes in what m knows: the larger clock (greater[] from whichever side has
// it, AND on a tie) and, per task, the newer checkpoint count (taken[] with it, OR
// on a tie).
func (h *HMNR) merge(m *stamp) {
	switch {
	case m.lc > h.lc:
		h.lc = m.lc
		for k := range h.greater {
			if k != h.self {
				h.greater[k] = m.greater[k]
			}
		}
		h.greater[h.self] = false
	case m.lc == h.lc:
		for k := range h.greater {
			h.greater[k] = h.greater[k] && m.greater[k]
		}
	}
	for k := range h.ckpt {
		if k == h.self {
			continue
		}
		switch {
		case m.ckpt[k] > h.ckpt[k]:
			h.ckpt[k], h.taken[k] = m.ckpt[k], m.taken[k]
		case m.ckpt[k] == h.ckpt[k]:
			h.taken[k] = h.taken[k] || m.taken[k]
		}
	}
}

// Finished implements checkpoint.LocalHandler: the final checkpoint.
func (h *HMNR) Finished(now sim.Time, out []checkpoint.LocalAction) []checkpoint.LocalAction {
	h.checkpoint(now)
	return append(out, checkpoint.LocalAction{Kind: checkpoint.LocalCheckpoint})
}

// Save implements checkpoint.LocalHandler.
func (h *HMNR) Save(dst []uint64) []uint64 { return encode(dst, h.lc, h.ckpt, h.taken, h.greater) }

// String shows the state, for the step-by-step scripts.
func (h *HMNR) String() string {
	bits := func(b []bool) string {
		s := make([]byte, len(b))
		for i, v := range b {
			s[i] = '0'
			if v {
				s[i] = '1'
			}
		}
		return string(s)
	}
	return fmtState(h.lc, h.ckpt, bits(h.taken), bits(h.greater), bits(h.sentTo))
}
