package protocol

import (
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
	"pgregory.net/rapid"
)

// TestCoordinatorAndTasksStateMachine drives a running job step by step with
// random actions — advance time, trigger a checkpoint, crash and restart workers
// and the coordinator, cut and heal links — and checks the protocol invariants
// after every step. At the end every fault heals and the job must finish.
func TestCoordinatorAndTasksStateMachine(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		name := rapid.SampledFrom([]string{"aligned", "unaligned", "hybrid", "atleastonce"}).Draw(rt, "protocol")
		p, _ := checkpoint.Lookup(name)
		w := sim.NewWorld(rapid.Uint64().Draw(rt, "seed"))
		run, err := engine.NewRuntime(w, benchmarkJob(300, 1000, sim.Millisecond)(), engine.Config{Workers: 3, Protocol: p,
			Net:              sim.NetConfig{Remote: sim.LinkConfig{Latency: 500 * sim.Microsecond}},
			Checkpoint:       engine.CheckpointConfig{Interval: 150 * sim.Millisecond, AlignedTimeout: 20 * sim.Millisecond, Timeout: 5 * sim.Second},
			Restart:          engine.RestartConfig{Attempts: 1000, Delay: 100 * sim.Millisecond},
			HeartbeatTimeout: 300 * sim.Millisecond})
		if err != nil {
			rt.Fatal(err)
		}
		driveStateMachine(rt, run, 200*sim.Millisecond, true)
	})
}

// driveStateMachine starts a job and drives it step by step with random actions
// — advance time by up to maxStep, trigger a checkpoint (when trigger is set),
// crash and restart workers and the coordinator, cut and heal links — checking
// the protocol invariants after every step. At the end every fault heals and the
// job must finish within ten minutes of virtual time.
func driveStateMachine(rt *rapid.T, run *engine.Runtime, maxStep sim.Duration, trigger bool) {
	w := run.World()
	run.Start()
	nodes := append(append([]*sim.Node(nil), run.Workers()...), run.CoordinatorNode())
	check := func() {
		if bad := run.CheckInvariants(); len(bad) > 0 {
			rt.Fatalf("invariants violated at %v: %v", w.Now(), bad)
		}
	}
	actions := map[string]func(*rapid.T){
		"advance": func(t *rapid.T) {
			run.RunUntil(w.Now().Add(sim.Duration(rapid.Int64Range(1, int64(maxStep)).Draw(t, "dt"))))
			check()
		},
		"crash": func(t *rapid.T) {
			nodes[rapid.IntRange(0, len(nodes)-1).Draw(t, "node")].Crash()
			check()
		},
		"restart": func(t *rapid.T) {
			nodes[rapid.IntRange(0, len(nodes)-1).Draw(t, "node")].Restart()
			check()
		},
		"partition": func(t *rapid.T) {
			a := rapid.IntRange(0, len(nodes)-1).Draw(t, "a")
			b := rapid.IntRange(0, len(nodes)-1).Draw(t, "b")
			if a != b {
				run.Network().Partition(nodes[a].ID(), nodes[b].ID(), !run.Network().Partitioned(nodes[a].ID(), nodes[b].ID()))
			}
			check()
		},
		"": func(t *rapid.T) { check() },
	}
	if trigger {
		actions["trigger"] = func(t *rapid.T) {
			run.TriggerCheckpoint()
			check()
		}
	}
	rt.Repeat(actions)
	// liveness phase: heal everything; the bounded job must finish
	for i, a := range nodes {
		a.Restart()
		for _, b := range nodes[i+1:] {
			run.Network().Partition(a.ID(), b.ID(), false)
		}
	}
	if !run.RunUntil(w.Now().Add(10 * sim.Minute)) {
		failed, why := run.Failed()
		rt.Fatalf("job did not finish after every fault healed (failed=%v %s)", failed, why)
	}
	check()
}
