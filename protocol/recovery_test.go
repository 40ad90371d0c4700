package protocol

import (
	"fmt"
	"sort"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
	"github.com/google/go-cmp/cmp"
)

// outcome is what the exactly-once oracles compare: final keyed state, committed
// sink output as a multiset, and the verifying sink's counts.
type outcome struct {
	State      []state.Entry
	Output     map[engine.Record]int
	Duplicates int64
	Lost       int64
	OutOfOrder int64
	Completed  int
	Restarts   int
	Finished   bool
	Failed     string
}

type scenario struct {
	job     func() *engine.Job
	keyed   string // vertex whose keyed state is compared
	sink    string
	splits  []int32
	records int64
	ordered bool // the topology keeps per-split order
	cfg     engine.Config
	limit   sim.Time
	faults  func(rt *engine.Runtime)
}

func run(t testing.TB, seed uint64, sc scenario, withFaults bool) outcome {
	t.Helper()
	w := sim.NewWorld(seed)
	rt, err := engine.NewRuntime(w, sc.job(), sc.cfg)
	if err != nil {
		t.Fatal(err)
	}
	rt.KeepCommitted()
	if withFaults && sc.faults != nil {
		sc.faults(rt)
	}
	ok := rt.RunToCompletion(sc.limit)
	var o outcome
	o.Finished = ok
	_, o.Failed = rt.Failed()
	for _, task := range rt.TasksOf(sc.keyed) {
		o.State = append(o.State, task.State().Entries()...)
	}
	sort.Slice(o.State, func(i, j int) bool {
		return o.State[i].Key < o.State[j].Key || (o.State[i].Key == o.State[j].Key && o.State[i].NS < o.State[j].NS)
	})
	s := rt.Sink(sc.sink)
	o.Output = map[engine.Record]int{}
	for _, r := range s.Committed() {
		if !sc.ordered {
			r.Value = 0 // a running aggregate's value depends on arrival order across channels
		}
		o.Output[r]++
	}
	v := s.Verifier()
	o.Duplicates, o.OutOfOrder = v.Duplicates, v.OutOfOrder
	o.Lost = v.Lost(sc.splits, sc.records)
	for _, st := range rt.Coordinator().Stats() {
		if st.Status == engine.StatusCompleted {
			o.Completed++
		}
	}
	o.Restarts = rt.Restarts()
	return o
}

// orderedJob keeps each split on one path (keyed by split), so the verifying sink
// can check per-split order: source → map (key := split) → keyBy → sum → 2PC sink
// costing sinkCost per record (backpressure).
func orderedJob(records int64, rate float64, sinkCost sim.Duration) func() *engine.Job {
	return func() *engine.Job {
		j := engine.NewJob("ordered")
		j.Source("src", engine.SourceSpec{Splits: 4, Records: records, Rate: rate, Keys: engine.KeySpec{Count: 100}}).Parallelism(4).
			Map("by-split", func(r *engine.Record) { r.Key = uint64(r.Split) }).
			KeyBy().Sum("sum").Parallelism(4).
			Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit}).Cost(sinkCost)
		return j
	}
}

// crashEveryThird crashes a worker soon after every third completed checkpoint and
// restarts it a second later.
func crashEveryThird(rt *engine.Runtime) {
	crashes := 0
	rt.Hooks.OnCheckpointCompleted(func(cp *engine.CompletedCheckpoint) bool {
		if cp.ID%3 != 0 || crashes >= 3 {
			return false
		}
		crashes++
		n := rt.Workers()[crashes%len(rt.Workers())]
		rt.World().After(150*sim.Millisecond, crashFault{n}, 1, 0, 0)
		rt.World().After(1150*sim.Millisecond, crashFault{n}, 2, 0, 0)
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

func TestRecoveryExactlyOnce(t *testing.T) {
	for _, proto := range []string{"aligned", "unaligned", "hybrid", "atleastonce"} {
		for _, backend := range []string{"heap"} {
			t.Run(proto+"/"+backend, func(t *testing.T) {
				p, _ := checkpoint.Lookup(proto)
				sc := scenario{job: orderedJob(3000, 1000, 2*sim.Millisecond), keyed: "sum", sink: "out",
					splits: []int32{0, 1, 2, 3}, records: 3000, ordered: true, limit: sim.Time(5 * sim.Minute),
					cfg: engine.Config{Workers: 3, Protocol: p, StateBackend: backend,
						Net:        sim.NetConfig{Remote: sim.LinkConfig{Latency: 500 * sim.Microsecond}},
						Checkpoint: engine.CheckpointConfig{Interval: 300 * sim.Millisecond, AlignedTimeout: 30 * sim.Millisecond}},
					faults: crashEveryThird}
				ref := run(t, 3, sc, false)
				got := run(t, 3, sc, true)
				fmt.Printf("%s: restarts %d completed %d dups %d lost %d ooo %d finished %v %s\n", proto, got.Restarts, got.Completed, got.Duplicates, got.Lost, got.OutOfOrder, got.Finished, got.Failed)
				if !got.Finished || got.Restarts == 0 {
					t.Fatalf("finished=%v restarts=%d failed=%q", got.Finished, got.Restarts, got.Failed)
				}
				if got.Lost != 0 {
					t.Errorf("%d records lost", got.Lost)
				}
				if p.Guarantee() == checkpoint.AtLeastOnce {
					return
				}
				if d := cmp.Diff(ref.State, got.State); d != "" {
					t.Errorf("keyed state differs from the fault-free run (-want +got):\n%s", d)
				}
				if d := cmp.Diff(ref.Output, got.Output); d != "" {
					t.Errorf("committed output differs from the fault-free run (-want +got):\n%s", d)
				}
				if got.Duplicates != 0 || got.OutOfOrder != 0 {
					t.Errorf("verifying sink: %d duplicates, %d out of order", got.Duplicates, got.OutOfOrder)
				}
			})
		}
	}
}

// benchmarkJob is the shape of Flink's CheckpointingTimeBenchmark with a keyed sum
// in the middle: source → rebalance → map → keyBy → sum → 2PC sink, parallelism 4.
func benchmarkJob(records int64, rate float64, sinkCost sim.Duration) func() *engine.Job {
	return func() *engine.Job {
		j := engine.NewJob("backpressured")
		j.Source("src", engine.SourceSpec{Splits: 4, Records: records, Rate: rate, Keys: engine.KeySpec{Count: 200}}).Parallelism(4).
			Rebalance().Map("map", nil).Parallelism(4).
			KeyBy().Sum("sum").Parallelism(4).
			Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit}).Cost(sinkCost)
		return j
	}
}

func TestRecoveryBackpressuredHeapAndPebble(t *testing.T) {
	for _, proto := range []string{"aligned", "unaligned", "hybrid", "atleastonce"} {
		for _, backend := range []string{"heap", "pebble"} {
			t.Run(proto+"/"+backend, func(t *testing.T) {
				p, _ := checkpoint.Lookup(proto)
				sc := scenario{job: benchmarkJob(2500, 1000, 2*sim.Millisecond), keyed: "sum", sink: "out",
					splits: []int32{0, 1, 2, 3}, records: 2500, limit: sim.Time(10 * sim.Minute),
					cfg: engine.Config{Workers: 3, Protocol: p, StateBackend: backend,
						Net:        sim.NetConfig{Remote: sim.LinkConfig{Latency: 500 * sim.Microsecond}},
						Checkpoint: engine.CheckpointConfig{Interval: 200 * sim.Millisecond, AlignedTimeout: 20 * sim.Millisecond, Incremental: backend == "pebble"}},
					faults: crashEveryThird}
				ref := run(t, 5, sc, false)
				got := run(t, 5, sc, true)
				if !got.Finished || got.Restarts == 0 {
					t.Fatalf("finished=%v restarts=%d failed=%q", got.Finished, got.Restarts, got.Failed)
				}
				if got.Lost != 0 {
					t.Fatalf("%d records lost", got.Lost)
				}
				if p.Guarantee() == checkpoint.AtLeastOnce {
					for r, n := range ref.Output {
						if got.Output[r] < n {
							t.Fatalf("at-least-once lost output %+v", r)
						}
					}
					t.Logf("at-least-once: %d duplicates", got.Duplicates)
					return
				}
				if d := cmp.Diff(ref.State, got.State); d != "" {
					t.Errorf("keyed state differs from the fault-free run (-want +got):\n%s", d)
				}
				if d := cmp.Diff(ref.Output, got.Output); d != "" {
					t.Errorf("committed output differs from the fault-free run (-want +got):\n%s", d)
				}
				if got.Duplicates != 0 {
					t.Errorf("verifying sink: %d duplicates", got.Duplicates)
				}
			})
		}
	}
}

// at schedules f at simulated time t.
type atFunc func()

func (f atFunc) Handle(sim.Event) { f() }

func TestCoordinatorCrashMidCheckpoint(t *testing.T) {
	for _, proto := range []string{"aligned", "unaligned", "hybrid"} {
		t.Run(proto, func(t *testing.T) {
			p, _ := checkpoint.Lookup(proto)
			sc := recoveryScenario(p, "heap")
			sc.faults = func(rt *engine.Runtime) {
				crashed := false
				rt.Hooks.OnFirstBarrier(func(task *engine.Task, id int64) {
					if id == 2 && !crashed { // the coordinator dies while checkpoint 2 is being taken
						crashed = true
						jm := rt.CoordinatorNode()
						jm.Crash()
						rt.World().After(500*sim.Millisecond, atFunc(jm.Restart), 0, 0, 0)
					}
				})
			}
			if got := checkExactlyOnce(t, sc, p); got.Restarts == 0 {
				t.Fatal("the coordinator crash did not restart the job")
			}
		})
	}
}

func TestCrashDuringRecovery(t *testing.T) {
	for _, proto := range []string{"aligned", "unaligned", "hybrid"} {
		t.Run(proto, func(t *testing.T) {
			p, _ := checkpoint.Lookup(proto)
			sc := recoveryScenario(p, "heap")
			sc.faults = func(rt *engine.Runtime) {
				first := true
				rt.Hooks.OnCheckpointCompleted(func(cp *engine.CompletedCheckpoint) bool {
					if cp.ID == 3 && first {
						first = false
						w := rt.Workers()[1]
						rt.World().After(50*sim.Millisecond, atFunc(w.Crash), 0, 0, 0)
						rt.World().After(800*sim.Millisecond, atFunc(w.Restart), 0, 0, 0)
					}
					return false
				})
				rt.Hooks.OnDeployed(func(attempt int) {
					if attempt == 2 { // crash again before the restored channel state is replayed
						w := rt.Workers()[0]
						rt.World().After(0, atFunc(w.Crash), 0, 0, 0)
						rt.World().After(700*sim.Millisecond, atFunc(w.Restart), 0, 0, 0)
					}
				})
			}
			got := checkExactlyOnce(t, sc, p)
			if got.Restarts < 2 {
				t.Fatalf("%d restarts; the crash during recovery should force a second one", got.Restarts)
			}
		})
	}
}

func TestRescaleOnRestore(t *testing.T) {
	for _, proto := range []string{"aligned", "unaligned", "hybrid"} {
		for _, par := range []int{2, 3, 6} {
			t.Run(fmt.Sprintf("%s/4to%d", proto, par), func(t *testing.T) {
				p, _ := checkpoint.Lookup(proto)
				sc := recoveryScenario(p, "heap")
				var rt *engine.Runtime
				sc.faults = func(r *engine.Runtime) {
					rt = r
					r.Rescale("sum", par) // applied at the first restore (sum and its chained sink)
					r.Rescale("out", par)
					done := false
					r.Hooks.OnCheckpointCompleted(func(cp *engine.CompletedCheckpoint) bool {
						if !done && cp.ID >= 2 {
							done = true
							task, _ := r.Task("map[0]")
							r.World().After(10*sim.Millisecond, atFunc(func() { r.FailTask(task, "injected") }), 0, 0, 0)
						}
						return false
					})
				}
				got := checkExactlyOnce(t, sc, p)
				if got.Restarts == 0 {
					t.Fatalf("no restart (failed: %q)", got.Failed)
				}
				rec := rt.Recoveries()[0]
				if !rec.Rescaled {
					t.Fatalf("the restore did not rescale: %+v", rec)
				}
				if proto == "unaligned" && !rec.WithChannelState {
					t.Fatalf("unaligned restore without in-flight data: the redistribution was not exercised")
				}
			})
		}
	}
}

func recoveryScenario(p checkpoint.Protocol, backend string) scenario {
	return scenario{job: benchmarkJob(2500, 1000, 2*sim.Millisecond), keyed: "sum", sink: "out",
		splits: []int32{0, 1, 2, 3}, records: 2500, limit: sim.Time(10 * sim.Minute),
		cfg: engine.Config{Workers: 3, Protocol: p, StateBackend: backend,
			Net:        sim.NetConfig{Remote: sim.LinkConfig{Latency: 500 * sim.Microsecond}},
			Checkpoint: engine.CheckpointConfig{Interval: 200 * sim.Millisecond, AlignedTimeout: 20 * sim.Millisecond}}}
}

// checkExactlyOnce runs sc with and without its faults and compares final keyed
// state, committed output and the verifying sink's counts.
func checkExactlyOnce(t *testing.T, sc scenario, p checkpoint.Protocol) outcome {
	t.Helper()
	ref := run(t, 5, sc, false)
	got := run(t, 5, sc, true)
	if !got.Finished {
		t.Fatalf("job did not finish: %q", got.Failed)
	}
	if d := cmp.Diff(ref.State, got.State); d != "" {
		t.Errorf("keyed state differs from the fault-free run (-want +got):\n%s", d)
	}
	if d := cmp.Diff(ref.Output, got.Output); d != "" {
		t.Errorf("committed output differs from the fault-free run (-want +got):\n%s", d)
	}
	if got.Duplicates != 0 || got.Lost != 0 {
		t.Errorf("verifying sink: %d duplicates, %d lost", got.Duplicates, got.Lost)
	}
	return got
}

// TestRegionFailover: in a job of independent pipelines (forward edges only), a
// failure restarts only the failed pipeline's region; the result stays exactly once.
func TestRegionFailover(t *testing.T) {
	for _, proto := range []string{"aligned", "unaligned"} {
		t.Run(proto, func(t *testing.T) {
			p, _ := checkpoint.Lookup(proto)
			sc := scenario{job: func() *engine.Job {
				j := engine.NewJob("pipelines")
				j.Source("src", engine.SourceSpec{Splits: 4, Records: 2000, Rate: 1000, Keys: engine.KeySpec{Count: 50}}).Parallelism(4).
					Map("map", nil).Parallelism(4).
					Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit}).Parallelism(4).Cost(100 * sim.Microsecond)
				return j
			}, sink: "out", splits: []int32{0, 1, 2, 3}, records: 2000, ordered: true, limit: sim.Time(5 * sim.Minute),
				cfg: engine.Config{Workers: 2, Protocol: p, Checkpoint: engine.CheckpointConfig{Interval: 200 * sim.Millisecond}}}
			var untouched *engine.Task
			var rt *engine.Runtime
			sc.faults = func(r *engine.Runtime) {
				rt = r
				done := false
				r.Hooks.OnCheckpointCompleted(func(cp *engine.CompletedCheckpoint) bool {
					if !done && cp.ID == 2 {
						done = true
						victim, _ := r.Task("map[1]")
						untouched, _ = r.Task("map[2]")
						r.World().After(30*sim.Millisecond, atFunc(func() { r.FailTask(victim, "injected") }), 0, 0, 0)
					}
					return false
				})
			}
			got := checkExactlyOnce(t, sc, p)
			if got.Restarts != 1 {
				t.Fatalf("%d restarts, want 1", got.Restarts)
			}
			if now, _ := rt.Task("map[2]"); now != untouched {
				t.Fatalf("the region of map[2] was restarted although only map[1] failed")
			}
			if r := rt.Recoveries()[0]; r.Regions != 1 {
				t.Fatalf("recovery restarted %d regions, want 1", r.Regions)
			}
		})
	}
}
