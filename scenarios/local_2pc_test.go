package scenarios

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// pendingProbe notes the first time, from a start on, that a sink subtask holds
// a pre-committed transaction it has not committed yet, and its worker.
type pendingProbe struct {
	rt     *engine.Runtime
	task   string
	period sim.Duration
	at     sim.Time
	worker string
}

func (p *pendingProbe) Handle(sim.Event) {
	if p.at > 0 {
		return
	}
	for _, t := range p.rt.TasksOf("out") {
		if t.Name() == p.task && t.PendingCommits() > 0 {
			p.at, p.worker = p.rt.World().Now(), t.Node().Name()
			return
		}
	}
	p.rt.World().After(p.period, p, 0, 0, 0)
}

// TestLocalProtocolsTwoPhaseCommitExactlyOnce: under uncoordinated and cic a
// two-phase-commit sink's transaction commits only once its checkpoint is below
// the floor; crashing the sink's worker while it holds a pre-committed,
// uncommitted transaction (found by a probe run, then injected at that instant
// in the same deterministic run) restarts the job, and its output and state are
// still exactly once.
func TestLocalProtocolsTwoPhaseCommitExactlyOnce(t *testing.T) {
	base, err := Lookup("crash-between-precommit-and-commit")
	if err != nil {
		t.Fatal(err)
	}
	for _, proto := range []string{"uncoordinated", "cic"} {
		t.Run(proto, func(t *testing.T) {
			sc := base.Clone()
			sc.Faults = nil
			setup, err := sc.Setup(proto)
			if err != nil {
				t.Fatal(err)
			}
			p := &pendingProbe{task: "out[0]", period: 10 * sim.Millisecond}
			if _, err := Run(setup, RunOptions{FaultsMayNotFire: true, Attach: func(rt *engine.Runtime) {
				p.rt = rt
				rt.World().After(2*sim.Second, p, 0, 0, 0)
			}}); err != nil {
				t.Fatal(err)
			}
			if p.at == 0 {
				t.Fatalf("out[0] never held a pre-committed transaction under %s", proto)
			}
			sc.Faults = []FaultSpec{{At: fmt.Sprintf("%d us", int64(p.at)/int64(sim.Microsecond)),
				Kind: "crash-worker", Worker: p.worker, RestartAfter: "1 s"}}
			setup, err = sc.Setup(proto)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(setup, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK {
				t.Fatalf("%s: %+v", proto, res.Checks)
			}
			if res.Restarts == 0 || !slices.Contains(res.Coverage, "crash-between-precommit-and-commit") {
				t.Fatalf("%s: restarts %d, coverage %v: the crash did not hit a pending commit", proto, res.Restarts, res.Coverage)
			}
			for _, want := range []string{"exactly-once-output", "exactly-once-state", "verifying-sink"} {
				found := false
				for _, c := range res.Checks {
					found = found || (c.Name == want && c.OK)
				}
				if !found {
					t.Errorf("%s: check %s missing or failed: %+v", proto, want, res.Checks)
				}
			}
			t.Logf("%s: crashed %s at %v holding a pre-committed transaction; %d restarts, checks %+v", proto, p.worker, p.at, res.Restarts, res.Checks)
		})
	}
}
