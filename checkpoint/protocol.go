// Package checkpoint is the contract between ckptsim's engine and its checkpoint
// protocols: what a protocol is (Protocol), the per-task barrier handler it
// provides (BarrierHandler: inputs in, Actions out) and what the handler is told
// (HandlerConfig, BarrierInfo), the guarantee it promises, and the registry that
// makes protocols selectable by name. It imports only package sim, so a protocol,
// in this module or another, is written against this package alone.
package checkpoint

import (
	"errors"
	"fmt"
)

// Protocol is a checkpoint protocol: it decides, per task, what happens when
// barriers, cancellation barriers and end-of-partition arrive on input channels and
// when its timers fire. The built-in ones live in package protocol; the engine only
// executes the actions their barrier handlers return.
type Protocol interface {
	// Name is how users select the protocol, e.g. "aligned".
	Name() string
	// Guarantee is what the protocol promises: what the oracles check.
	Guarantee() Guarantee
	// NewHandler returns the barrier handler of one task.
	NewHandler(cfg HandlerConfig) BarrierHandler
}

// FeedbackSupport is implemented by protocols that checkpoint cyclic jobs: their
// handlers honour HandlerConfig.Feedback (ABS's Algorithm 2 for coordinated
// protocols: no alignment on back edges, their records logged from the snapshot
// until the barrier comes back) or they do not need barriers at all (local
// protocols with message logs). The engine refuses a cyclic job under any other
// protocol.
type FeedbackSupport interface {
	SupportsFeedback() bool
}

// ErrNoFeedback is wrapped by the error that refuses a job with a back edge
// under a protocol that does not SupportsFeedback.
var ErrNoFeedback = errors.New("the protocol does not support feedback edges")

// SupportsFeedback reports whether p checkpoints jobs with back edges.
func SupportsFeedback(p Protocol) bool {
	f, ok := p.(FeedbackSupport)
	return ok && f.SupportsFeedback()
}

// Guarantee is what a protocol promises about state and output after a recovery.
// The oracles hold every protocol to its promise.
type Guarantee uint8

// Guarantees a protocol can promise.
const (
	// ExactlyOnce: after any recovery, keyed state and committed output are those
	// of a run without failures: nothing lost, nothing duplicated.
	ExactlyOnce Guarantee = iota + 1
	// AtLeastOnce: nothing is lost, but records replayed after a recovery may be
	// counted in state and output twice.
	AtLeastOnce
)

// String is the guarantee as Flink's configuration spells it, lower case:
// "exactly-once" or "at-least-once".
func (g Guarantee) String() string {
	switch g {
	case ExactlyOnce:
		return "exactly-once"
	case AtLeastOnce:
		return "at-least-once"
	}
	return fmt.Sprintf("guarantee(%d)", uint8(g))
}

// ParseGuarantee reads a guarantee as String writes it.
func ParseGuarantee(s string) (Guarantee, error) {
	for _, g := range []Guarantee{ExactlyOnce, AtLeastOnce} {
		if s == g.String() {
			return g, nil
		}
	}
	return 0, fmt.Errorf("unknown guarantee %q (exactly-once or at-least-once)", s)
}

// MarshalText implements encoding.TextMarshaler: JSON and YAML carry the name.
func (g Guarantee) MarshalText() ([]byte, error) {
	if g != ExactlyOnce && g != AtLeastOnce {
		return nil, fmt.Errorf("invalid guarantee %d", uint8(g))
	}
	return []byte(g.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (g *Guarantee) UnmarshalText(b []byte) error {
	v, err := ParseGuarantee(string(b))
	if err != nil {
		return err
	}
	*g = v
	return nil
}
