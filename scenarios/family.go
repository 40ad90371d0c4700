package scenarios

import (
	"fmt"
	"github.com/ckptsim/ckptsim/checkpoint"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"
)

// Shapes of the random job family explore draws from. A join case is a window
// join or coGroup instead of an interval join half the time (drawn from a stream
// of its own, so that the other cases keep their draws).
var Shapes = []string{"pipeline", "fan-in", "fan-out", "join", "window"}

// RandomCase is one case of the explore family: a random job of one shape with
// parallelism 1–4, a random configuration, and a swarm fault schedule, all derived
// from Seed.
type RandomCase struct {
	Seed  uint64
	Shape string
	Swarm faults.Swarm
	// Pressure names what the case drew to stress its checkpoints (tiny buffers,
	// backpressure, concurrent checkpoints), or "none".
	Pressure string
	Setup    *Setup
}

// NewRandomCase derives a case from its seed. protocol "" draws one of the
// correct protocols.
func NewRandomCase(seed uint64, protocol string) (*RandomCase, error) {
	return newRandomCase(seed, protocol, anyLoop)
}

// newRandomCase is NewRandomCase with the cyclic jobs loops allows: noLoop
// keeps them out (the case will run under a protocol value that refuses them).
func newRandomCase(seed uint64, protocol string, loops cycleLoops) (*RandomCase, error) {
	r := sim.NewRand(seed, "explore/case")
	shape := Shapes[r.IntN(len(Shapes))]
	par := func() int { return 1 + r.IntN(4) }
	records := int64(300 + r.IntN(900))
	rate := float64(500 + r.IntN(1500))
	splits := 1 + r.IntN(4)
	srcPar, midPar := par(), par()
	sinkCost := sim.Duration(r.Int64N(int64(1500 * sim.Microsecond)))
	keys := engine.KeySpec{Count: 10 + r.IntN(200)}
	if shape == "join" {
		// a join's output grows with matches per key: keep the job within capacity
		keys.Count = 200 + r.IntN(300)
		sinkCost /= 8
	}
	if r.Chance(0.3) && shape != "join" { // a hot-key join explodes quadratically
		keys = engine.KeySpec{Dist: engine.Hot, Count: 20, HotRatio: 0.8}
	}
	disorder := sim.Duration(r.Int64N(int64(100 * sim.Millisecond)))
	cyc := drawCycle(seed, loops) // a cyclic case replaces the shape (if its protocol allows)
	var wjoin *engine.WindowJoinSpec
	if wr := sim.NewRand(seed, "explore/window-join"); shape == "join" && wr.Chance(0.5) {
		// windows short enough that pairs per key and window stay few
		size := sim.Duration(20+wr.IntN(40)) * sim.Millisecond
		wjoin = &engine.WindowJoinSpec{Size: size, Slide: size / sim.Duration(1+wr.IntN(2)), CoGroup: wr.Chance(0.5)}
		if wjoin.CoGroup && wr.Chance(0.5) {
			wjoin.Aggregate = "sum"
		}
		shape = "window-join"
	}
	src := func(j *engine.Job, name string, seed uint64, n int64, rt float64) *engine.Stream {
		return j.Source(name, engine.SourceSpec{Splits: splits, Records: n, Rate: rt, Keys: keys, Disorder: disorder, Seed: seed}).Parallelism(srcPar)
	}
	sink := engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit}
	// every draw happens here: newJob must build the same job each time
	auditPar := par()
	size := sim.Duration(100+r.IntN(400)) * sim.Millisecond
	slide := size / sim.Duration(1+r.IntN(2))
	newJob := func() *engine.Job {
		j := engine.NewJob("random-" + shape)
		switch shape {
		case "pipeline":
			src(j, "src", 1, records, rate).Rebalance().Map("map", nil).Parallelism(midPar).
				KeyBy().Sum("sum").Parallelism(midPar).Sink("out", sink).Cost(sinkCost)
		case "fan-in":
			a := src(j, "a", 1, records, rate)
			b := src(j, "b", 2, records/3, rate/5)
			a.KeyBy().Union(b.KeyBy()).Count("count").Parallelism(midPar).Sink("out", sink).Cost(sinkCost)
		case "fan-out":
			s := src(j, "src", 1, records, rate).KeyBy().Sum("sum").Parallelism(midPar)
			s.Sink("out", sink).Cost(sinkCost)
			s.Rebalance().Sink("audit", sink).Parallelism(auditPar)
		case "join":
			a := src(j, "orders", 1, records, rate)
			b := src(j, "payments", 2, records/2, rate/2)
			a.KeyBy().Join("join", b.KeyBy(), engine.JoinSpec{Lower: -20 * sim.Millisecond, Upper: 20 * sim.Millisecond}).Parallelism(midPar).
				Sink("out", sink).Cost(sinkCost)
		case "window-join":
			a := src(j, "orders", 1, records, rate)
			b := src(j, "payments", 2, records/2, rate/2)
			join := a.KeyBy().WindowJoin
			if wjoin.CoGroup {
				join = a.KeyBy().CoGroup
			}
			join("join", b.KeyBy(), *wjoin).Parallelism(midPar).Sink("out", sink).Cost(sinkCost)
		case "window":
			src(j, "src", 1, records, rate).KeyBy().Window("window", engine.WindowSpec{Size: size, Slide: slide}).
				Parallelism(midPar).Sink("out", sink).Cost(sinkCost)
		case cycleShape:
			cyc.build(j, splits, srcPar, sink, sinkCost)
		}
		return j
	}
	drawn := []string{"aligned", "unaligned", "hybrid", "atleastonce"}[r.IntN(4)] // always drawn: replays keep the draws aligned
	asked := protocol
	if protocol == "" {
		protocol = drawn
		// a third of the cases take a local family instead; their own stream keeps
		// every other draw (and every coordinated case) as it was
		if fam := sim.NewRand(seed, "explore/family"); fam.Chance(1.0 / 3) {
			protocol = []string{"uncoordinated", "cic"}[fam.IntN(2)]
		}
	}
	if cyc != nil {
		if p, ok := cycleProtocol(asked, protocol); ok {
			shape, protocol = cycleShape, p
		}
	}
	cfg := engine.Config{
		Workers:        2 + r.IntN(2),
		SlotsPerWorker: 4,
		Net:            sim.NetConfig{Remote: sim.LinkConfig{Latency: sim.Duration(100+r.IntN(900)) * sim.Microsecond, Jitter: sim.Duration(r.IntN(300)) * sim.Microsecond}},
		Checkpoint: engine.CheckpointConfig{Interval: sim.Duration(100+r.IntN(400)) * sim.Millisecond,
			// a timeout far beyond the longest alignment a case's backpressure can
			// cause (about 10 s: a hot key's backlog at a slow sink, the fuzzer's
			// 27cffa455fa4b5ba): at 10 s four aligned checkpoints in a row expired
			// there, the job failed over, restored the same backlog and never
			// finished, a livelock of the configuration, not of the protocol
			AlignedTimeout: sim.Duration(10+r.IntN(90)) * sim.Millisecond, TolerableFailures: 3, Timeout: 60 * sim.Second},
		Restart:          engine.RestartConfig{Strategy: "fixed-delay", Attempts: 1000, Delay: 200 * sim.Millisecond},
		HeartbeatTimeout: 500 * sim.Millisecond,
	}
	if r.Chance(0.5) {
		cfg.Restart.Failover = "full"
	}
	if r.Chance(0.3) {
		cfg.Checkpoint.MaxConcurrent = 2
	}
	if r.Chance(0.25) {
		// a checkpoint timeout tight enough to expire under backpressure
		cfg.Checkpoint.Timeout = sim.Duration(100+r.IntN(400)) * sim.Millisecond
		cfg.Checkpoint.TolerableFailures = 1 << 20 // expiries are tolerated: the job must stay live
	}
	total := rate * float64(splits) // records per second of all sources together
	switch shape {
	case "fan-in":
		total += rate / 5 * float64(splits)
	case "join":
		total += rate / 2 * float64(splits)
	}
	press := drawPressure(seed)
	press.apply(&cfg, &sinkCost, total, midPar)
	var rescale map[string]int
	if shape == "pipeline" && r.Chance(0.5) {
		// restore at a new parallelism (in-flight data is redistributed)
		p := midPar%4 + 1 // always a different parallelism
		rescale = map[string]int{"sum": p, "out": p}
	}
	acts := drawActions(seed, newJob, &cfg)
	if shape == cycleShape {
		acts = nil // no savepoints or restores at a new parallelism on a cycle
	}
	c := &RandomCase{Seed: seed, Shape: shape, Pressure: press.String()}
	targets, err := faultTargets(newJob, cfg)
	if err != nil {
		return nil, err
	}
	targets.Window = 2 * sim.Second
	targets.Sinks = true
	swarm, sched := faults.Random(sim.NewRand(seed, "explore/faults"), targets)
	c.Swarm = swarm
	if rescale != nil {
		// a failure to restore from, at the new parallelism
		sched = append(sched, faults.Spec{Kind: faults.CrashTask, Task: targets.Tasks[r.IntN(len(targets.Tasks))],
			At: sim.Duration(300+r.IntN(1500)) * sim.Millisecond})
	}
	if p, err := engine.LookupProtocol(protocol); err == nil && checkpoint.FamilyOf(p) != checkpoint.Coordinated {
		rescale = nil // local protocols refuse rescaling (checkpoint.ErrLocalRescale); the crash stays
		acts = nil    // and take no savepoints (engine.ErrLocalSavepoint)
	}
	sched = append(sched, drawSavepointFaults(seed, acts, newJob, cfg)...)
	c.Setup = &Setup{Name: "random/" + shape, Seed: seed, NewJob: newJob, Config: cfg, Protocol: protocol,
		Faults: sched, Limit: 2 * sim.Minute, Expect: OutcomePass, Bounded: true, Rescale: rescale, Actions: acts,
		JobKey: fmt.Sprintf("random-case\x00%d", seed)} // the job and configuration follow from the seed alone
	return c, nil
}

// faultTargets lists the task and worker names of a job on a scratch world.
func faultTargets(newJob func() *engine.Job, cfg engine.Config) (faults.Targets, error) {
	rt, err := engine.NewRuntime(sim.NewWorld(1), newJob(), cfg)
	if err != nil {
		return faults.Targets{}, fmt.Errorf("random case: %w", err)
	}
	var t faults.Targets
	for _, task := range rt.Tasks() {
		t.Tasks = append(t.Tasks, task.Name())
	}
	for _, w := range rt.Workers() {
		t.Workers = append(t.Workers, w.Name())
	}
	return t, nil
}
