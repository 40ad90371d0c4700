package engine

import (
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/google/go-cmp/cmp"
)

// reachabilityJob is CheckMate's cyclic query: links and starts joined per node,
// select -> project, the new paths fed back keyed by their end.
func reachabilityJob(links, starts int64, nodes int, par int, sink SinkKind) *Job {
	j := NewJob("reach")
	l := j.Source("links", SourceSpec{Splits: 2, Rate: 2000, Records: links, Keys: KeySpec{Count: nodes}, Seed: 7}).Parallelism(2)
	s := j.Source("starts", SourceSpec{Splits: 1, Rate: 200, Records: starts, Keys: KeySpec{Count: nodes}, Seed: 9})
	join := l.KeyBy().PathJoin("join", s.KeyBy(), PathJoinSpec{Nodes: int64(nodes)}).Parallelism(par).Cost(20 * sim.Microsecond)
	project := join.Map("select", nil).Map("project", nil)
	project.KeyBy().FeedbackTo(join, 1)
	project.Rebalance().Sink("out", SinkSpec{Kind: sink}).Parallelism(1)
	return j
}

// wantReachability is the reference output of reachabilityJob's run.
func wantReachability(rt *Runtime, links, starts int64, nodes int) map[[2]uint64]int {
	var ls [][2]uint64
	lg := rt.Generator("links")
	for _, sp := range lg.Splits() {
		for off := int64(0); off < links; off++ {
			r := lg.Record(sp, off)
			ls = append(ls, [2]uint64{r.Key, LinkTarget(r.Value, int64(nodes))})
		}
	}
	var ss []uint64
	sg := rt.Generator("starts")
	for _, sp := range sg.Splits() {
		for off := int64(0); off < starts; off++ {
			ss = append(ss, sg.Record(sp, off).Key)
		}
	}
	return Reachability(ls, ss)
}

func gotPaths(rt *Runtime) map[[2]uint64]int {
	got := map[[2]uint64]int{}
	for _, r := range rt.Sink("out").Committed() {
		got[[2]uint64{uint64(r.Value), r.Key}]++
	}
	return got
}

// A cyclic job ends once its paths stop circulating, with the reference output,
// without checkpoints and with aligned checkpoints and a crash mid-iteration.
func TestReachabilityCycle(t *testing.T) {
	const links, starts, nodes = 60, 6, 40
	for _, tc := range []struct {
		name  string
		cfg   Config
		crash bool
	}{
		{"no-checkpoints", Config{Workers: 2}, false},
		{"aligned", Config{Workers: 2, Protocol: protocol.Aligned{}, Checkpoint: CheckpointConfig{Interval: 20 * sim.Millisecond}}, false},
		{"aligned-crash", Config{Workers: 2, Protocol: protocol.Aligned{}, Checkpoint: CheckpointConfig{Interval: 20 * sim.Millisecond}}, true},
		{"unaligned-crash", Config{Workers: 2, Protocol: protocol.Unaligned{}, Checkpoint: CheckpointConfig{Interval: 20 * sim.Millisecond}}, true},
		{"uncoordinated-crash", Config{Workers: 2, Protocol: protocol.Uncoordinated{}, Checkpoint: CheckpointConfig{Interval: 20 * sim.Millisecond}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sinkKind := SinkTwoPhaseCommit
			if tc.cfg.Protocol == nil {
				sinkKind = SinkCollect
			}
			w := sim.NewWorld(5)
			rt, err := NewRuntime(w, reachabilityJob(links, starts, nodes, 2, sinkKind), tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			rt.KeepCommitted()
			logged := false
			if tc.crash {
				// crash worker 1 while a head logs its back edge
				rt.Hooks.OnCheckpointCompleted(func(cp *CompletedCheckpoint) bool {
					for _, s := range cp.Tasks {
						if s.HasChannelState() && !logged {
							logged = true
							n := rt.Workers()[1]
							w.After(sim.Millisecond, crashFault{n}, 1, 0, 0)
							w.After(200*sim.Millisecond, crashFault{n}, 2, 0, 0)
						}
					}
					return false
				})
			}
			if !rt.RunToCompletion(sim.Time(60 * sim.Second)) {
				t.Fatalf("job did not finish by %v: %v", w.Now(), rt.Failures())
			}
			want := wantReachability(rt, links, starts, nodes)
			if len(want) < 20 {
				t.Fatalf("only %d paths: the graph is too sparse", len(want))
			}
			if d := cmp.Diff(want, gotPaths(rt)); d != "" {
				t.Fatalf("paths differ from the reference (-want +got):\n%s", d)
			}
			if tc.crash && tc.name == "aligned-crash" && (!logged || rt.Restarts() == 0) {
				t.Fatalf("no crash after a checkpoint with a back-edge log (logged=%v, restarts=%d)", logged, rt.Restarts())
			}
		})
	}
}

// Protocols that cannot checkpoint a cycle refuse it, naming the edge.
func TestCycleRefused(t *testing.T) {
	_, err := NewRuntime(sim.NewWorld(1), reachabilityJob(10, 2, 10, 1, SinkTwoPhaseCommit), Config{Protocol: protocol.Hybrid{}})
	if err == nil || !strings.Contains(err.Error(), `protocol hybrid does not support feedback edge "project -> join"`) {
		t.Fatalf("got %v", err)
	}
}
