package engine

import (
	"testing"

	"github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/sim"
)

// twoRegions is a job of two pipelined regions: a keyed sum over two source
// subtasks, slow enough for backpressure (unaligned barriers overtake in-flight
// data on its all-to-all channels), and beside it a one-subtask pipeline. Slot i
// runs on worker i mod 2, so a crash of worker 1 fails the first region only.
func twoRegions(records int64) *Job {
	j := NewJob("two-regions")
	j.Source("src", SourceSpec{Splits: 2, Records: records, RecordSize: 1024, Keys: KeySpec{Count: 10}}).Parallelism(2).
		KeyBy().Sum("slow").Cost(200*sim.Microsecond).
		Sink("a", SinkSpec{Kind: SinkTwoPhaseCommit})
	j.Source("other", SourceSpec{Splits: 1, Records: records, Rate: 5000, Keys: KeySpec{Count: 10}}).
		Sink("b", SinkSpec{Kind: SinkTwoPhaseCommit})
	return j
}

// crashSubtask1 crashes the worker of subtask 1 once a checkpoint holding
// in-flight data of that subtask has completed, and brings it back later.
func crashSubtask1(rt *Runtime) {
	crashed := false
	rt.Hooks.OnCheckpointCompleted(func(cp *CompletedCheckpoint) bool {
		if crashed {
			return false
		}
		for _, s := range cp.Tasks {
			if s.Subtask == 1 && s.HasChannelState() {
				crashed = true
				n := rt.Workers()[1]
				rt.World().After(sim.Millisecond, crashFault{n}, 1, 0, 0)
				rt.World().After(2*sim.Second, crashFault{n}, 2, 0, 0)
				return false
			}
		}
		return false
	})
}

type crashFault struct{ n *sim.Node }

func (c crashFault) Handle(ev sim.Event) {
	if ev.Kind == 1 {
		c.n.Crash()
	} else {
		c.n.Restart()
	}
}

// A region restart records, as a full restart does, that the checkpoint it
// restored held in-flight data of the restarted tasks.
func TestRestartReportsChannelState(t *testing.T) {
	for _, failover := range []string{"region", "full"} {
		t.Run(failover, func(t *testing.T) {
			cfg := Config{
				Workers:    2,
				Protocol:   protocol.Unaligned{},
				Checkpoint: CheckpointConfig{Interval: 100 * sim.Millisecond},
				Restart:    RestartConfig{Failover: failover},
			}
			rt, err := NewRuntime(sim.NewWorld(3), twoRegions(5000), cfg)
			if err != nil {
				t.Fatal(err)
			}
			crashSubtask1(rt)
			if !rt.RunToCompletion(sim.Never) {
				t.Fatalf("job did not finish; failures: %v", rt.Failures())
			}
			if rt.Restarts() != 1 {
				t.Fatalf("%d restarts, want 1: %+v", rt.Restarts(), rt.Recoveries())
			}
			recs := rt.Recoveries()
			r := recs[len(recs)-1] // the failures before it are the same crash, seen by channels
			wantRegions := map[string]int{"region": 1, "full": 0}[failover]
			if r.RestartedAt == 0 || r.Regions != wantRegions || r.FromCheckpoint == 0 || !r.WithChannelState {
				t.Fatalf("recovery %+v: want %d regions restarted from a checkpoint with channel state", r, wantRegions)
			}
			a, b := rt.Sink("a").Verifier(), rt.Sink("b").Verifier()
			if a.Duplicates != 0 || a.Lost([]int32{0, 1}, 5000) != 0 || b.Duplicates != 0 || b.Total != 5000 {
				t.Fatalf("sink a: %d duplicates, %d lost; sink b: %d duplicates, %d records", a.Duplicates, a.Lost([]int32{0, 1}, 5000), b.Duplicates, b.Total)
			}
		})
	}
}
