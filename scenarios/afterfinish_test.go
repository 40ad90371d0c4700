package scenarios

import (
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
)

// TestCheckpointsAfterTasksFinishOff runs a join whose slow source finishes long
// before the fast one with execution.checkpointing.checkpoints-after-tasks-finish
// false, under every correct protocol: no checkpoint is triggered while only some
// tasks finished, yet the job ends exactly once; with the default more
// checkpoints are taken.
func TestCheckpointsAfterTasksFinishOff(t *testing.T) {
	for _, proto := range []string{"aligned", "unaligned", "hybrid", "atleastonce"} {
		triggered := func(after string) int {
			s, err := Lookup("join-imbalanced")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Override("execution.checkpointing.checkpoints-after-tasks-finish", after); err != nil {
				t.Fatal(err)
			}
			setup, err := s.Setup(proto)
			if err != nil {
				t.Fatal(err)
			}
			if got := setup.Config.Checkpoint.NoCheckpointsAfterTasksFinish; got != (after == "false") {
				t.Fatalf("checkpoints-after-tasks-finish=%s gave NoCheckpointsAfterTasksFinish=%v", after, got)
			}
			var n int
			res, err := Run(setup, RunOptions{Observe: func(rt *engine.Runtime) {
				for _, st := range rt.Coordinator().Stats() {
					if st.Failure == checkpoint.ReasonInputEnded && after != "false" {
						t.Errorf("%s: checkpoint %d declined for an ended input with the switch on", proto, st.ID)
					}
				}
				n = len(rt.Coordinator().Stats())
			}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK {
				t.Errorf("%s with checkpoints-after-tasks-finish=%s: %s %+v", proto, after, res.Outcome, res.Checks)
			}
			return n
		}
		if off, on := triggered("false"), triggered("true"); off >= on {
			t.Errorf("%s: %d checkpoints with checkpoints-after-tasks-finish false, %d with true: want fewer", proto, off, on)
		}
	}
}
