package engine

import (
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/sim"
)

// A long run keeps only its latest completed checkpoints, in the coordinator and
// in the checkpoint store (Flink's state.checkpoints.num-retained), and the
// subtask statistics of its latest subtaskHistory checkpoints (older ones folded
// into histograms): memory does not grow with the number of checkpoints.
func TestCompletedCheckpointsAreDiscarded(t *testing.T) {
	cfg := Config{Workers: 2, Protocol: protocol.Aligned{}, Checkpoint: CheckpointConfig{Interval: 50 * sim.Millisecond}}
	j := NewJob("unbounded")
	j.Source("src", SourceSpec{Splits: 2, Rate: 1000, Keys: KeySpec{Count: 100}}).Parallelism(2).
		KeyBy().Sum("sum").
		Sink("out", SinkSpec{})
	rt, err := NewRuntime(sim.NewWorld(5), j, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rt.RunToCompletion(sim.Time(60 * sim.Second))
	completed := 0
	for _, st := range rt.Coordinator().Stats() {
		if st.Status == StatusCompleted {
			completed++
		}
	}
	if completed < subtaskHistory+100 {
		t.Fatalf("%d checkpoints completed in 60 s at a 50 ms interval, want at least %d", completed, subtaskHistory+100)
	}
	// the subtask statistics of all but the latest subtaskHistory are folded
	stats, older := rt.Coordinator().Stats(), rt.Coordinator().OlderSubtasks()
	kept := 0
	for _, st := range stats {
		if st.Subtasks != nil {
			kept++
		}
	}
	if kept > subtaskHistory || older.Checkpoints == 0 || older.Checkpoints+kept < completed ||
		older.Alignment.Count() != int64(older.Subtasks) || older.Subtasks < older.Checkpoints*len(rt.tasks) {
		t.Fatalf("%d checkpoints completed: %d keep their subtasks, %d folded (%d subtasks of %d tasks)",
			completed, kept, older.Checkpoints, older.Subtasks, len(rt.tasks))
	}
	if n := len(rt.Coordinator().Completed()); n != retainedCheckpoints {
		t.Fatalf("the coordinator retains %d completed checkpoints, want %d", n, retainedCheckpoints)
	}
	var metadata []string
	for _, name := range rt.Store().List("chk-") {
		if strings.HasSuffix(name, "/_metadata") {
			metadata = append(metadata, name)
		}
	}
	// the retained ones, plus at most one in flight whose metadata is being written
	if len(metadata) < retainedCheckpoints || len(metadata) > retainedCheckpoints+1 {
		t.Fatalf("the store holds the metadata of %d checkpoints after %d completed: %v", len(metadata), completed, metadata)
	}
	if max := (retainedCheckpoints + 1) * (len(rt.tasks) + 1); rt.Store().Len() > max {
		t.Fatalf("the store holds %d blobs, want at most %d (the retained checkpoints' snapshots and metadata)", rt.Store().Len(), max)
	}
	for _, cp := range rt.Coordinator().Completed() {
		for _, s := range cp.Tasks {
			if _, ok := rt.Store().Lookup(rt.snapshotName(cp.ID, s.Task)); !ok {
				t.Fatalf("retained checkpoint %d: the snapshot of %s is not in the store", cp.ID, s.Task)
			}
		}
	}
}
