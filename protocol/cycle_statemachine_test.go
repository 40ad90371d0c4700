package protocol

import (
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
	"pgregory.net/rapid"
)

// reachability is a small cyclic job: links and starts path-joined, the new paths
// fed back keyed by their end.
func reachability() *engine.Job {
	j := engine.NewJob("cycle")
	links := j.Source("links", engine.SourceSpec{Splits: 2, Records: 80, Rate: 400, Keys: engine.KeySpec{Count: 40}, Seed: 3}).Parallelism(2)
	starts := j.Source("starts", engine.SourceSpec{Splits: 1, Records: 4, Rate: 20, Keys: engine.KeySpec{Count: 40}, Seed: 4})
	join := links.KeyBy().PathJoin("join", starts.KeyBy(), engine.PathJoinSpec{Nodes: 40}).Parallelism(2)
	project := join.Map("select", nil).Cost(100*sim.Microsecond).Map("project", nil)
	project.KeyBy().FeedbackTo(join, 1)
	project.Rebalance().Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit}).Parallelism(1)
	return j
}

// TestCycleStateMachine is TestCoordinatorAndTasksStateMachine on a cyclic job
// under aligned (ABS Algorithm 2): random time steps (checkpoints by interval),
// crashes, restarts and cuts, the invariants after every step, and a job that
// finishes once every fault healed. Every run is bounded in virtual time.
func TestCycleStateMachine(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		p, _ := checkpoint.Lookup("aligned") // CheckInvariants is the coordinated protocols' (local ones: explore)
		w := sim.NewWorld(rapid.Uint64().Draw(rt, "seed"))
		run, err := engine.NewRuntime(w, reachability(), engine.Config{Workers: 3, Protocol: p,
			Net:              sim.NetConfig{Remote: sim.LinkConfig{Latency: 500 * sim.Microsecond}},
			Checkpoint:       engine.CheckpointConfig{Interval: 50 * sim.Millisecond, Timeout: 5 * sim.Second, MaxConcurrent: 2},
			Restart:          engine.RestartConfig{Attempts: 1000, Delay: 100 * sim.Millisecond},
			HeartbeatTimeout: 300 * sim.Millisecond})
		if err != nil {
			rt.Fatal(err)
		}
		driveStateMachine(rt, run, 100*sim.Millisecond, false)
	})
}
