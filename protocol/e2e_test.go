package protocol

import (
	"fmt"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

func sumJob(records int64, sinkCost sim.Duration) *engine.Job {
	j := engine.NewJob("e2e")
	j.Source("src", engine.SourceSpec{Splits: 4, Records: records, Rate: 2000, Keys: engine.KeySpec{Count: 100}}).Parallelism(4).
		Rebalance().Map("map", nil).Parallelism(4).
		KeyBy().Sum("sum").Parallelism(4).
		Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit}).Cost(sinkCost)
	return j
}

func TestCheckpointsComplete(t *testing.T) {
	for _, name := range []string{"aligned", "unaligned", "hybrid", "atleastonce"} {
		t.Run(name, func(t *testing.T) {
			p, _ := checkpoint.Lookup(name)
			w := sim.NewWorld(1)
			rt, err := engine.NewRuntime(w, sumJob(5000, 100*sim.Microsecond), engine.Config{Workers: 2, Protocol: p,
				Net:        sim.NetConfig{Remote: sim.LinkConfig{Latency: sim.Millisecond}},
				Checkpoint: engine.CheckpointConfig{Interval: 500 * sim.Millisecond, AlignedTimeout: 50 * sim.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			ok := rt.RunToCompletion(sim.Time(60 * sim.Second))
			st := rt.Coordinator().Stats()
			completed := 0
			for _, s := range st {
				if s.Status == engine.StatusCompleted {
					completed++
				}
			}
			fmt.Println(name, "finished", ok, "at", w.Now(), "checkpoints", len(st), "completed", completed, "committed", rt.Sink("out").Verifier().Total, "dups", rt.Sink("out").Verifier().Duplicates)
			for _, s := range st[:min(3, len(st))] {
				fmt.Printf("  %d %s %v dur=%v size=%d persisted=%d unaligned=%v %s\n", s.ID, s.Status, s.TriggerAt, s.Duration, s.StateSize, s.PersistedData, s.Unaligned, s.Reason)
			}
			if !ok || completed == 0 {
				t.Fatalf("finished=%v, %d checkpoints completed", ok, completed)
			}
		})
	}
}
