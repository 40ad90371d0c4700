package scenarios

import (
	"fmt"
	"strings"

	"github.com/ckptsim/ckptsim/engine"
)

// maxInvariantViolations bounds the violations an invariants check keeps: the
// first ones name the problem, the rest are counted.
const maxInvariantViolations = 10

// invariantLog collects what engine.Runtime.CheckInvariants finds while a run goes
// on, as TigerBeetle checks its invariants continuously rather than only at the
// end: after every checkpoint completion and every deployment of a restart (a
// full or a region restart; the first deployment is made before a run's hooks
// are attached), and once when the run ended.
type invariantLog struct {
	checks     int      // times CheckInvariants ran
	violations int      // violations found, all of them
	first      []string // the first maxInvariantViolations of them
}

// watchInvariants subscribes an invariantLog to rt's hooks. It only observes: the
// run's trace hash stays the same.
func watchInvariants(rt *engine.Runtime) *invariantLog {
	l := &invariantLog{}
	rt.Hooks.OnCheckpointCompleted(func(*engine.CompletedCheckpoint) bool {
		l.check(rt)
		return false
	})
	rt.Hooks.OnDeployed(func(int) { l.check(rt) })
	return l
}

// check runs CheckInvariants once and keeps what it found.
func (l *invariantLog) check(rt *engine.Runtime) {
	l.checks++
	for _, v := range rt.CheckInvariants() {
		l.violations++
		if len(l.first) < maxInvariantViolations {
			l.first = append(l.first, fmt.Sprintf("at %v: %s", rt.World().Now(), v))
		}
	}
}

// result is the "invariants" check of a run.
func (l *invariantLog) result() Check {
	c := Check{Name: "invariants", OK: true}
	switch {
	case l == nil:
		c.Skipped, c.Detail = true, "not checked: the engine's invariants are coordinated checkpointing's"
	case l.violations == 0:
		c.Detail = fmt.Sprintf("the engine's invariants held at all %d checks (each checkpoint completion, deployment and the end)", l.checks)
	default:
		c.OK = false
		c.Detail = fmt.Sprintf("%d violations in %d checks: %s", l.violations, l.checks, strings.Join(l.first, "; "))
		c.Diff = strings.Join(l.first, "\n")
	}
	return c
}
