package protocol

import (
	"sort"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// checkpointUnderBackpressure runs Flink's CheckpointingTimeBenchmark shape (source
// → rebalance → map → rebalance → sink costing sinkCost per record, parallelism 4,
// 1 KiB records) under a protocol and returns the median end-to-end duration and
// the largest persisted in-flight data of completed checkpoints.
func checkpointUnderBackpressure(t *testing.T, proto string, sinkCost sim.Duration) (sim.Duration, int64, int) {
	t.Helper()
	p, _ := checkpoint.Lookup(proto)
	j := engine.NewJob("checkpointing-time")
	j.Source("src", engine.SourceSpec{Splits: 4, RecordSize: 1024, Keys: engine.KeySpec{Count: 1000}}).Parallelism(4).
		Rebalance().Map("map", nil).Parallelism(4).
		Rebalance().Sink("sink", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit}).Parallelism(4).Cost(sinkCost)
	w := sim.NewWorld(7)
	rt, err := engine.NewRuntime(w, j, engine.Config{Workers: 2, Protocol: p,
		Net:        sim.NetConfig{Remote: sim.LinkConfig{Latency: 100 * sim.Microsecond, Bandwidth: 1 << 30}},
		Checkpoint: engine.CheckpointConfig{Interval: sim.Second, AlignedTimeout: 50 * sim.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	rt.RunToCompletion(sim.Time(90 * sim.Second))
	var durs []sim.Duration
	var persisted int64
	for _, st := range rt.Coordinator().Stats() {
		if st.Status != engine.StatusCompleted || st.TriggerAt < sim.Time(20*sim.Second) {
			continue // skip the checkpoints taken while the buffers were still filling
		}
		durs = append(durs, st.Duration)
		if st.PersistedData > persisted {
			persisted = st.PersistedData
		}
	}
	if len(durs) == 0 {
		t.Fatalf("%s: no checkpoint completed once backpressure was steady", proto)
	}
	sort.Slice(durs, func(i, k int) bool { return durs[i] < durs[k] })
	return durs[len(durs)/2], persisted, len(durs)
}

func TestUnalignedBeatsAlignedUnderBackpressure(t *testing.T) {
	aligned, alignedPersisted, na := checkpointUnderBackpressure(t, "aligned", 10*sim.Millisecond)
	unaligned, unalignedPersisted, nu := checkpointUnderBackpressure(t, "unaligned", 10*sim.Millisecond)
	t.Logf("sink 10 ms/record: aligned p50 %v (%d checkpoints), unaligned p50 %v (%d checkpoints), ratio %.0f×; persisted in-flight: aligned %d B, unaligned %d B",
		aligned, na, unaligned, nu, float64(aligned)/float64(unaligned), alignedPersisted, unalignedPersisted)
	if aligned < 100*unaligned {
		t.Errorf("unaligned %v is not 100× shorter than aligned %v", unaligned, aligned)
	}
	if unalignedPersisted == 0 {
		t.Errorf("unaligned persisted no in-flight data")
	}
	if alignedPersisted != 0 {
		t.Errorf("aligned persisted %d bytes of in-flight data", alignedPersisted)
	}
}

// TestIncrementalCheckpointSizes: with pebble and incremental checkpoints, the
// checkpointed size is the delta (files shared with earlier checkpoints count
// once) and the full size is reported beside it; heap snapshots are always full.
func TestIncrementalCheckpointSizes(t *testing.T) {
	for _, backend := range []string{"heap", "pebble"} {
		p, _ := checkpoint.Lookup("aligned")
		j := engine.NewJob("incremental")
		j.Source("src", engine.SourceSpec{Splits: 2, Records: 20000, Rate: 4000, Keys: engine.KeySpec{Count: 5000}}).Parallelism(2).
			KeyBy().Sum("sum").Parallelism(2).
			Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit})
		w := sim.NewWorld(3)
		rt, err := engine.NewRuntime(w, j, engine.Config{Workers: 2, Protocol: p, StateBackend: backend,
			Checkpoint: engine.CheckpointConfig{Interval: 500 * sim.Millisecond, Incremental: true}})
		if err != nil {
			t.Fatal(err)
		}
		if !rt.RunToCompletion(sim.Time(sim.Minute)) {
			t.Fatalf("%s: job did not finish", backend)
		}
		delta := 0
		for _, st := range rt.Coordinator().Stats() {
			if st.Status != engine.StatusCompleted || st.FullSize == 0 {
				continue
			}
			if st.StateSize > st.FullSize {
				t.Fatalf("%s: checkpoint %d size %d above full size %d", backend, st.ID, st.StateSize, st.FullSize)
			}
			if st.StateSize < st.FullSize {
				delta++
			}
		}
		if backend == "heap" && delta != 0 {
			t.Fatalf("heap reported %d incremental checkpoints", delta)
		}
		if backend == "pebble" && delta == 0 {
			t.Fatalf("pebble reported no incremental checkpoint")
		}
	}
}
