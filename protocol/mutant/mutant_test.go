package mutant

import (
	"fmt"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

type fn func()

func (f fn) Handle(sim.Event) { f() }

// job is a backpressured keyed sum over two sources of very different rates, so
// that barriers reach its inputs at different times (alignment takes a while),
// with a two-phase-commit sink: (fast ∪ slow) → keyBy → sum → sink.
func job() *engine.Job {
	j := engine.NewJob("mutant-check")
	fast := j.Source("fast", engine.SourceSpec{Splits: 4, Records: 2000, Rate: 1000, Keys: engine.KeySpec{Count: 100}, Seed: 11}).Parallelism(4)
	slow := j.Source("slow", engine.SourceSpec{Splits: 1, Records: 400, Rate: 200, Keys: engine.KeySpec{Count: 100}, Seed: 12}).Parallelism(1)
	fast.KeyBy().Union(slow.KeyBy()).Sum("sum").Parallelism(4).
		Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit}).Cost(2 * sim.Millisecond)
	return j
}

// cyclicJob is incremental reachability with a slow loop, so that paths are in
// flight on the back edge at most snapshots: (links, starts) -> path join ->
// select -> project -> sink, project fed back to the join.
func cyclicJob() *engine.Job {
	j := engine.NewJob("mutant-check-cycle")
	links := j.Source("links", engine.SourceSpec{Splits: 2, Records: 150, Rate: 150, Keys: engine.KeySpec{Count: 100}, Seed: 13}).Parallelism(2)
	starts := j.Source("starts", engine.SourceSpec{Splits: 1, Records: 10, Rate: 10, Keys: engine.KeySpec{Count: 100}, Seed: 14})
	join := links.KeyBy().PathJoin("join", starts.KeyBy(), engine.PathJoinSpec{Nodes: 100}).Parallelism(2)
	project := join.Map("select", nil).Cost(300*sim.Microsecond).Map("project", nil)
	project.KeyBy().FeedbackTo(join, 1)
	project.Rebalance().Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit}).Parallelism(1)
	return j
}

// verdict runs the job with worker crashes shortly after some checkpoints (and
// store crashes while some checkpoints' metadata is written) and
// reports whether an exactly-once oracle failed: state differs from the fault-free
// run, or the verifying sink saw duplicates, losses or reordering.
func verdict(t *testing.T, p checkpoint.Protocol, seed uint64) string {
	t.Helper()
	return verdictOn(t, p, seed, stateOnly(p))
}

// verdictOn is verdict on the cyclic job (cyclic) or the keyed sum.
func verdictOn(t *testing.T, p checkpoint.Protocol, seed uint64, cyclic bool) string {
	t.Helper()
	runOnce := func(faulty bool) (map[uint64]int64, engine.Verifier, bool) {
		w := sim.NewWorld(seed)
		j, stateOf := job(), "sum"
		if cyclic {
			j, stateOf = cyclicJob(), "join"
		}
		rt, err := engine.NewRuntime(w, j, engine.Config{Workers: 3, Protocol: p,
			Net:        sim.NetConfig{Remote: sim.LinkConfig{Latency: 500 * sim.Microsecond, Jitter: 200 * sim.Microsecond}},
			Checkpoint: engine.CheckpointConfig{Interval: 150 * sim.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		if faulty {
			r := w.Rand("mutant-faults")
			crashes := 0
			rt.Hooks.OnSnapshotTaken(func(task *engine.Task, id int64) {
				if crashes < 2 && id >= 2 && r.Chance(0.05) {
					crashes++
					n := task.Node()
					w.After(sim.Duration(r.Int64N(int64(30*sim.Millisecond))), fn(n.Crash), 0, 0, 0)
					w.After(800*sim.Millisecond, fn(n.Restart), 0, 0, 0)
				}
			})
			// now and then the checkpoint store crashes while a checkpoint's
			// metadata is written (that checkpoint never completes) and a worker
			// crashes soon after, so the job restores an older checkpoint
			rt.Hooks.OnMetadataWriting(func(id int64) {
				if crashes < 2 && id >= 2 && r.Chance(0.2) {
					crashes++
					st := rt.Store()
					st.Crash()
					w.After(200*sim.Millisecond, fn(func() { st.SetOutage(false) }), 0, 0, 0)
					n := rt.Workers()[r.IntN(len(rt.Workers()))]
					w.After(300*sim.Millisecond, fn(n.Crash), 0, 0, 0)
					w.After(1100*sim.Millisecond, fn(n.Restart), 0, 0, 0)
				}
			})
		}
		ok := rt.RunToCompletion(sim.Time(5 * sim.Minute))
		state := map[uint64]int64{}
		for _, task := range rt.TasksOf(stateOf) {
			for _, e := range task.State().Entries() {
				state[e.Key^uint64(e.Sub)<<32^uint64(e.NS)<<56] += e.Value // a path join keeps one entry per (key, sub)
			}
		}
		return state, *rt.Sink("out").Verifier(), ok
	}
	refState, _, _ := runOnce(false)
	state, v, ok := runOnce(true)
	switch {
	case !ok:
		return "job did not finish"
	case fmt.Sprint(state) != fmt.Sprint(refState):
		return "keyed state differs from the fault-free run"
	case cyclic:
		return "" // a cyclic job's output is derived records: the state says it all
	case v.Duplicates > 0:
		return fmt.Sprintf("%d duplicates", v.Duplicates)
	case v.Unique() < 2000*4+400:
		return fmt.Sprintf("%d records lost", 2000*4+400-v.Unique())
	}
	return ""
}

func stateOnly(p checkpoint.Protocol) bool {
	m, ok := p.(*Mutant)
	return ok && m.Cyclic
}

// TestMutantsAreCaught: within a small budget of seeds, every mutant fails an
// exactly-once oracle; the correct protocols never do on the same seeds.
func TestMutantsAreCaught(t *testing.T) {
	const budget = 12
	for _, m := range All {
		t.Run(m.name, func(t *testing.T) {
			for seed := uint64(1); seed <= budget; seed++ {
				if why := verdict(t, m, seed); why != "" {
					t.Logf("caught with seed %d: %s", seed, why)
					return
				}
			}
			t.Fatalf("%s survived %d seeds", m.Name(), budget)
		})
	}
}

// The cyclic job passes under the protocols that checkpoint cycles on the seeds
// that catch aligned-no-backedge-log.
func TestCorrectProtocolsPassTheCyclicHarness(t *testing.T) {
	for _, name := range []string{"aligned", "uncoordinated", "cic"} {
		p, _ := checkpoint.Lookup(name)
		for seed := uint64(1); seed <= 4; seed++ {
			if why := verdictOn(t, p, seed, true); why != "" {
				t.Fatalf("%s failed with seed %d: %s", name, seed, why)
			}
		}
	}
}

func TestCorrectProtocolsPassTheMutantHarness(t *testing.T) {
	for _, name := range []string{"aligned", "unaligned", "hybrid"} {
		p, _ := checkpoint.Lookup(name)
		for seed := uint64(1); seed <= 4; seed++ {
			if why := verdict(t, p, seed); why != "" {
				t.Fatalf("%s failed with seed %d: %s", name, seed, why)
			}
		}
	}
}
