package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
)

// ContractViolation is an action of a barrier handler that breaks the protocol
// contract of package checkpoint. The engine refuses the action and fails the job
// for good: a broken protocol is a bug to fix, not a failure to restart from, and
// carrying the action out would only surface later as a confusing symptom (a
// stop-with-savepoint that never completes, a job that never finishes).
type ContractViolation struct {
	At         sim.Time
	Protocol   string
	Task       string
	Checkpoint int64
	// Detail says what the handler did and which rule it broke.
	Detail string
}

func (v ContractViolation) String() string {
	return fmt.Sprintf("protocol %s broke the barrier-handler contract at %v: %s", v.Protocol, v.At.Short(), v.Detail)
}

// ContractViolations lists the barrier-handler actions the engine refused (at
// most one: the first fails the job).
func (rt *Runtime) ContractViolations() []ContractViolation { return rt.violations }

// savepointRule is the rule every exactly-once and at-least-once handler keeps.
const savepointRule = "savepoints must be aligned (checkpoint.BarrierInfo.Savepoint)"

// violation checks one action of t's barrier handler against the contract and
// says what is wrong with it ("" when nothing is) and the checkpoint it concerns. A savepoint is always aligned:
// no unaligned snapshot, no aligned-checkpoint timeout overtaking at the
// outputs, no in-flight data persisted, no barrier asked to overtake. latest is
// the checkpoint an ActPersist without an id refers to.
func (t *Task) violation(a checkpoint.Action, latest int64) (id int64, detail string) {
	id = a.Checkpoint
	if a.Kind == checkpoint.ActPersist && id == 0 {
		id = latest // the checkpoint taken last, in this batch of actions or before (see execute)
	}
	if t.rt.savepointKinds[id] == NoSavepoint {
		return id, ""
	}
	switch a.Kind {
	case checkpoint.ActCheckpoint:
		if a.Unaligned {
			return id, fmt.Sprintf("savepoint %d taken unaligned by task %s: %s", id, t.name, savepointRule)
		}
		if a.At > 0 {
			return id, fmt.Sprintf("savepoint %d taken by task %s with an aligned-checkpoint timeout (its barrier would overtake data at the outputs): %s", id, t.name, savepointRule)
		}
	case checkpoint.ActPersist:
		if ig := t.gateOfChannel(a.Channel); ig != nil && ig.feedback {
			return id, "" // a back edge's log (ABS Algorithm 2) is part of a savepoint too
		}
		return id, fmt.Sprintf("task %s persists in-flight data of input channel %d for savepoint %d: %s", t.name, a.Channel, id, savepointRule)
	case checkpoint.ActPrioritize:
		return id, fmt.Sprintf("task %s asks the barrier of savepoint %d on input channel %d to overtake data: %s", t.name, id, a.Channel, savepointRule)
	}
	return id, ""
}

// keepsContract checks a batch of handler actions before any is carried out. On
// the first violation it fails the job for good and reports false: the batch is
// dropped.
func (t *Task) keepsContract(acts []checkpoint.Action) bool {
	latest := t.ck.latest
	for _, a := range acts {
		if a.Kind == checkpoint.ActCheckpoint && a.Checkpoint > latest {
			latest = a.Checkpoint
		}
		if id, d := t.violation(a, latest); d != "" {
			t.rt.breakContract(t, id, d)
			return false
		}
	}
	return true
}

// breakContract fails the job for good because t's handler broke the contract:
// pending checkpoints and savepoints are aborted, every task is cancelled, and
// no restart follows.
func (rt *Runtime) breakContract(t *Task, id int64, detail string) {
	if rt.jobDone || rt.jobFailed {
		return
	}
	v := ContractViolation{At: rt.w.Now(), Protocol: rt.cfg.Protocol.Name(), Task: t.name, Checkpoint: id, Detail: detail}
	rt.violations = append(rt.violations, v)
	rt.w.TraceNote(0x636f6e74, uint64(t.index), uint64(id))
	rt.coord.abortAll("protocol contract broken")
	rt.running = false
	rt.pendingRegions = nil
	rt.cancelAttempt()
	rt.jobFailed, rt.failReason = true, v.String()
}
