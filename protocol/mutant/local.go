package mutant

import (
	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/checkpoint/recoveryline"
	"github.com/ckptsim/ckptsim/protocol"
)

// LocalMutant is a broken local (uncoordinated or communication-induced)
// protocol: a correct one with its recovery line, its replay or its checkpoint
// decisions changed, and/or engine mutations.
type LocalMutant struct {
	name string
	// Doc says what is broken.
	Doc  string
	base checkpoint.LocalProtocol
	// line, replays and local replace the base's decisions when set.
	line    func(h *recoveryline.History) (recoveryline.Line, error)
	replays func(h *recoveryline.History, l recoveryline.Line) []recoveryline.Replay
	local   func(cfg checkpoint.LocalConfig) checkpoint.LocalHandler
	mut     checkpoint.Mutation
	// Cyclic marks a mutant only a job with a back edge can catch.
	Cyclic bool
}

// Name implements checkpoint.Protocol.
func (m *LocalMutant) Name() string { return "mutant/" + m.name }

// Guarantee implements checkpoint.Protocol: mutants claim exactly once.
func (m *LocalMutant) Guarantee() checkpoint.Guarantee { return checkpoint.ExactlyOnce }

// NewHandler implements checkpoint.Protocol; local protocols have no barrier handler.
func (m *LocalMutant) NewHandler(checkpoint.HandlerConfig) checkpoint.BarrierHandler { return nil }

// Mutation implements checkpoint.Mutant.
func (m *LocalMutant) Mutation() checkpoint.Mutation { return m.mut }

// SupportsFeedback implements checkpoint.FeedbackSupport as the base does.
func (m *LocalMutant) SupportsFeedback() bool { return checkpoint.SupportsFeedback(m.base) }

// Family implements checkpoint.LocalProtocol.
func (m *LocalMutant) Family() checkpoint.Family { return m.base.Family() }

// NewLocal implements checkpoint.LocalProtocol.
func (m *LocalMutant) NewLocal(cfg checkpoint.LocalConfig) checkpoint.LocalHandler {
	if m.local != nil {
		return m.local(cfg)
	}
	return m.base.NewLocal(cfg)
}

// Recovery implements checkpoint.LocalProtocol.
func (m *LocalMutant) Recovery() checkpoint.RecoveryPlanner { return planner{m} }

type planner struct{ m *LocalMutant }

func (p planner) Line(h *recoveryline.History) (recoveryline.Line, error) {
	if p.m.line != nil {
		if err := h.Validate(); err != nil {
			return recoveryline.Line{}, err
		}
		return p.m.line(h)
	}
	return p.m.base.Recovery().Line(h)
}

func (p planner) Replays(h *recoveryline.History, l recoveryline.Line) []recoveryline.Replay {
	if p.m.replays != nil {
		return p.m.replays(h, l)
	}
	return p.m.base.Recovery().Replays(h, l)
}

// Local lists the broken local protocols. The first three break issue #12's
// decisions; the others reproduce simplifications of CheckMate's published
// implementation (issue #13).
var Local = []*LocalMutant{
	{name: "unc-line-ignores-orphans", Doc: "the recovery line restores every task's latest checkpoint, ignoring orphan messages (processed by a receiver's checkpoint, not sent by its sender's)",
		base: protocol.Uncoordinated{}, line: func(h *recoveryline.History) (recoveryline.Line, error) {
			return recoveryline.NewGraph(h, func(recoveryline.Channel) bool { return false }).Line()
		}},
	{name: "unc-replay-off-by-one", Doc: "replay re-sends (processed+1, sent] instead of (processed, sent]: the first in-transit message of each channel is lost",
		base: protocol.Uncoordinated{}, replays: func(h *recoveryline.History, l recoveryline.Line) []recoveryline.Replay {
			return l.Replays(h, func(processed, sent int64) (int64, int64) { return processed + 1, sent })
		}},
	{name: "unc-replay-single-lost", Doc: "a channel with exactly one in-transit message replays nothing (CheckMate's replay range)",
		base: protocol.Uncoordinated{}, replays: func(h *recoveryline.History, l recoveryline.Line) []recoveryline.Replay {
			return l.Replays(h, func(processed, sent int64) (int64, int64) {
				if sent-processed == 1 {
					return processed, processed
				}
				return processed, sent
			})
		}},
	{name: "unc-replay-active-only", Doc: "only channels the receiver processed something on in its last checkpoint interval are replayed: a quiet channel's in-transit messages are lost",
		base: protocol.Uncoordinated{}, replays: activeOnly},
	{name: "unc-same-worker-edges", Doc: "the recovery line ignores the dependencies between tasks on the same worker (their orphan messages)",
		base: protocol.Uncoordinated{}, line: func(h *recoveryline.History) (recoveryline.Line, error) {
			return recoveryline.NewGraph(h, func(c recoveryline.Channel) bool {
				return len(h.Nodes) <= max(c.From, c.To) || h.Nodes[c.From] != h.Nodes[c.To]
			}).Line()
		}},
	{name: "unc-seq-not-rewound", Doc: "a restored sender numbers on from its failed incarnation and keeps its log: messages of the rolled-back execution are replayed after a second failure",
		base: protocol.Uncoordinated{}, mut: checkpoint.Mutation{SeqNotRewound: true}},
	{name: "cic-skip-forced", Doc: "HMNR without its second forcing condition (m.ckpt[i] = ckpt[i] and m.taken[i]): forced checkpoints it skips leave useless ones on Z-cycles",
		// on a job without a cycle no message comes back to a task, so there is no
		// Z-cycle and no forced checkpoint it skips can leave a useless one
		base: protocol.CIC{}, local: func(cfg checkpoint.LocalConfig) checkpoint.LocalHandler { return protocol.NewHMNR(cfg, false) },
		Cyclic: true},
}

func init() {
	for _, m := range Local {
		checkpoint.Register(m)
	}
}

// activeOnly replays a channel only when its receiver processed something on it
// between its restored checkpoint and the one before.
func activeOnly(h *recoveryline.History, l recoveryline.Line) []recoveryline.Replay {
	var out []recoveryline.Replay
	for _, r := range l.Replays(h, recoveryline.InTransit) {
		c := h.Channels[r.Channel]
		at := l.At[c.To]
		if at < len(h.Points[c.To]) && at > 0 && h.Points[c.To][at].Processed[c.In] == h.Points[c.To][at-1].Processed[c.In] {
			continue // quiet in the receiver's last interval
		}
		out = append(out, r)
	}
	return out
}

// CyclicOnly reports whether name is a built-in mutant that only a job with a
// back edge can catch: on a job without one it runs exactly as its base does.
func CyclicOnly(name string) bool {
	for _, m := range All {
		if m.Name() == name {
			return m.Cyclic
		}
	}
	for _, m := range Local {
		if m.Name() == name {
			return m.Cyclic
		}
	}
	return false
}
