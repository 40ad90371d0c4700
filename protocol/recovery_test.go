package protocol

import (
	"fmt"
	"sort"
	"testing"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/google/go-cmp/cmp"
)

// outcome is what the exactly-once oracles compare: final keyed state, committed
// sink output as a multiset, and the verifying sink's counts.
type outcome struct {
	State      []engine.StateEntry
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
	job      func() *engine.Job
	keyed    string // vertex whose keyed state is compared
	sink     string
	splits   []int32
	records  int64
	ordered  bool // the topology keeps per-split order
	cfg      engine.Config
	limit    sim.Time
	faults   func(rt *engine.Runtime)
	parallel map[string]int
}

func run(t testing.TB, seed uint64, sc scenario, withFaults bool) outcome {
	t.Helper()
	w := sim.NewWorld(seed)
	rt, err := engine.NewRuntime(w, sc.job(), sc.cfg)
	if err != nil {
		t.Fatal(err)
	}
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
			Map("by-split", func(r engine.Record) engine.Record { r.Key = uint64(r.Split); return r }).
			KeyBy().Sum("sum").Parallelism(4).
			Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit}).Cost(sinkCost)
		return j
	}
}

// crashEveryThird crashes a worker soon after every third completed checkpoint and
// restarts it a second later.
func crashEveryThird(rt *engine.Runtime) {
	crashes := 0
	rt.Hooks.CheckpointCompleted = func(cp *engine.CompletedCheckpoint) bool {
		if cp.ID%3 != 0 || crashes >= 3 {
			return false
		}
		crashes++
		n := rt.Workers()[crashes%len(rt.Workers())]
		rt.World().After(150*sim.Millisecond, crashFault{n}, 1, 0, 0)
		rt.World().After(1150*sim.Millisecond, crashFault{n}, 2, 0, 0)
		return false
	}
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
				p, _ := engine.LookupProtocol(proto)
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
				if p.Guarantee() == AtLeastOnce {
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
