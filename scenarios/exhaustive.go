package scenarios

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"
)

// ExhaustiveOptions configure a systematic search of crash points.
type ExhaustiveOptions struct {
	// Seed overrides the scenario's seed when not 0.
	Seed uint64
	// Parallel is the number of concurrent runs (default: number of CPUs).
	Parallel int
	// Down is how long a crashed worker or coordinator stays down, and how long a
	// crashed checkpoint store stays unavailable (default 1 s).
	Down sim.Duration
	// CheckDeterminism runs each case twice and compares trace hashes.
	CheckDeterminism bool
	// Cases, when set, runs only these case numbers (from a replay command).
	Cases []int
	// MaxFailures stops starting new cases once this many failed (0: never).
	MaxFailures int
	// Progress, when set, is called after each case (from one goroutine at a time).
	Progress func(done, total int)
}

// CrashCase is one case of an exhaustive search: a crash of one target at one
// point of the scenario's run.
type CrashCase struct {
	// N numbers the case in the enumeration (from 1): a replay names it.
	N      int
	Point  faults.Point
	Target string // a worker's name, "jobmanager" or "checkpoint-store"
	// Faults is the schedule of the case: the crash, after the scenario's own
	// faults when the point is a restore step of the failure they cause.
	Faults faults.Schedule
}

// Targets of crashes besides the workers.
const (
	TargetCoordinator = "jobmanager"
	TargetStore       = "checkpoint-store"
)

// CrashFailure is a case whose run failed a check.
type CrashFailure struct {
	Case   int    `json:"case"`
	Point  string `json:"point"`
	Target string `json:"target"`
	Fault  string `json:"fault"`
	Check  string `json:"check"`
	Detail string `json:"detail"`
	Replay string `json:"replay"`
}

// ExhaustiveReport summarises an exhaustive search.
type ExhaustiveReport struct {
	Scenario string `json:"scenario"`
	Protocol string `json:"protocol"`
	Seed     uint64 `json:"seed"`
	// Points counts the distinct crash points of the fault-free run,
	// RecoveryPoints those of the run with the scenario's own faults from its
	// first restore on.
	Points         int `json:"points"`
	RecoveryPoints int `json:"recovery_points"`
	Targets        int `json:"targets"`
	// Cases is the number of (point, target) cases; Tried were run, Failures of
	// them failed a check (in case order, first first).
	Cases                 int            `json:"cases"`
	Tried                 int            `json:"tried"`
	Failures              int            `json:"failures"`
	Failed                []CrashFailure `json:"failed"`
	DeterminismMismatches int            `json:"determinism_mismatches"`
}

// ExhaustiveReplay is the command that replays case n of an exhaustive search.
func ExhaustiveReplay(scenario, protocol string, seed uint64, n int) string {
	return fmt.Sprintf("simrun explore --exhaustive %s --protocol %s --seed %d --point %d",
		ShellWord(scenario), ShellWord(protocol), seed, n)
}

// CrashCases enumerates the cases of an exhaustive search of a setup: it runs the
// setup once without faults and lists every point at which a crash could change
// the outcome (each trigger, barrier a task takes, snapshot, durable upload,
// acknowledgement, completion and notification), and, when the setup has faults of
// its own, runs it with them and lists every point from the first restore they
// cause on (each deployment, each task's restore, then the steps of the recovered
// run's checkpoints): there a case adds the crash to the setup's faults. Each
// point gives one case per target: every worker, the coordinator and the
// checkpoint store. It returns the cases and the numbers of points of both runs.
func CrashCases(setup *Setup, opts ExhaustiveOptions) ([]CrashCase, int, int, error) {
	if setup.Expect != OutcomePass {
		return nil, 0, 0, fmt.Errorf("scenario %q expects %s: crash points need a scenario expected to pass", setup.Name, setup.Expect)
	}
	seed := setup.Seed
	if opts.Seed != 0 {
		seed = opts.Seed
	}
	down := opts.Down
	if down <= 0 {
		down = sim.Second
	}
	clean := *setup
	clean.Faults = nil
	points, workers, err := recordPoints(&clean, seed, false)
	if err != nil {
		return nil, 0, 0, err
	}
	var restore []faults.Point
	if len(setup.Faults) > 0 {
		all, _, err := recordPoints(setup, seed, true)
		if err != nil {
			return nil, 0, 0, err
		}
		// from the first restore on: the recovery's steps, then the checkpoints of
		// the recovered run (catching up, often under backpressure)
		for i, p := range all {
			if p.Phase == faults.StepRestored || p.Phase == faults.PhaseRecovery {
				restore = all[i:]
				break
			}
		}
	}
	targets := append(append([]string(nil), workers...), TargetCoordinator, TargetStore)
	var cases []CrashCase
	add := func(p faults.Point, base faults.Schedule) {
		for _, target := range targets {
			crash := crashAt(p, target, down)
			cases = append(cases, CrashCase{N: len(cases) + 1, Point: p, Target: target,
				Faults: append(append(faults.Schedule(nil), base...), crash)})
		}
	}
	for _, p := range points {
		add(p, nil)
	}
	for _, p := range restore {
		add(p, setup.Faults)
	}
	return cases, len(points), len(restore), nil
}

// crashAt is the fault that crashes target at point p.
func crashAt(p faults.Point, target string, down sim.Duration) faults.Spec {
	s := faults.Spec{When: p.When()}
	switch target {
	case TargetCoordinator:
		s.Kind, s.RestartAfter = faults.CrashCoordinator, down
	case TargetStore:
		s.Kind, s.For = faults.CrashStore, down
	default:
		s.Kind, s.Worker, s.RestartAfter = faults.CrashWorker, target, down
	}
	return s
}

// recordPoints runs a setup once and lists the crash points it reached and the
// names of its workers.
func recordPoints(setup *Setup, seed uint64, withFaults bool) ([]faults.Point, []string, error) {
	var rec *faults.Recorder
	var workers []string
	o, err := execute(setup, seed, withFaults, func(rt *engine.Runtime) {
		rec = faults.Record(rt)
		for _, w := range rt.Workers() {
			workers = append(workers, w.Name())
		}
	}, observe{})
	if err != nil {
		return nil, nil, err
	}
	if !o.Finished || o.Failed {
		return nil, nil, fmt.Errorf("scenario %q: the run to enumerate crash points did not finish (%s)", setup.Name, o.Reason)
	}
	return rec.Points(), workers, nil
}

// Exhaustive runs every case of CrashCases (or the ones opts.Cases names) under
// every oracle, in parallel, one simulation per goroutine.
func Exhaustive(setup *Setup, opts ExhaustiveOptions) (*ExhaustiveReport, error) {
	cases, points, restore, err := CrashCases(setup, opts)
	if err != nil {
		return nil, err
	}
	seed := setup.Seed
	if opts.Seed != 0 {
		seed = opts.Seed
	}
	rep := &ExhaustiveReport{Scenario: setup.Name, Protocol: setup.Protocol, Seed: seed, Points: points,
		RecoveryPoints: restore, Cases: len(cases)}
	if len(cases) > 0 {
		rep.Targets = len(cases) / (points + restore)
	}
	todo := cases
	if opts.Cases != nil {
		todo = nil
		for _, n := range opts.Cases {
			if n < 1 || n > len(cases) {
				return nil, fmt.Errorf("scenario %q has crash cases 1 to %d, not %d", setup.Name, len(cases), n)
			}
			todo = append(todo, cases[n-1])
		}
	}
	type outcome struct {
		ran, mismatch bool
		fail          *CrashFailure
	}
	results := make([]outcome, len(todo))
	refs := NewReferenceCache(1) // every case shares the setup's reference
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = runtime.NumCPU()
	}
	var mu sync.Mutex
	next, done, failed := 0, 0, 0
	var wg sync.WaitGroup
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() { // whole, independent runs, one world per goroutine: nothing shared
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := opts.MaxFailures > 0 && failed >= opts.MaxFailures
				mu.Unlock()
				if i >= len(todo) {
					return
				}
				var o outcome
				if !stop {
					o.ran = true
					o.fail, o.mismatch = runCrashCase(setup, seed, todo[i], opts, refs)
				}
				mu.Lock()
				results[i] = o
				if o.fail != nil {
					failed++
				}
				done++
				if opts.Progress != nil {
					opts.Progress(done, len(todo))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, o := range results {
		if !o.ran {
			continue
		}
		rep.Tried++
		if o.mismatch {
			rep.DeterminismMismatches++
		}
		if o.fail != nil {
			rep.Failures++
			rep.Failed = append(rep.Failed, *o.fail)
		}
	}
	return rep, nil
}

// runCrashCase runs one case and reports its failure, if any, and whether its two
// runs disagreed on the trace hash. Every case shares the setup's reference (refs).
func runCrashCase(setup *Setup, seed uint64, c CrashCase, opts ExhaustiveOptions, refs *ReferenceCache) (*CrashFailure, bool) {
	try := *setup
	try.Faults = c.Faults
	fail := func(check, detail string) *CrashFailure {
		return &CrashFailure{Case: c.N, Point: c.Point.String(), Target: c.Target, Fault: c.Faults[len(c.Faults)-1].String(),
			Check: check, Detail: detail, Replay: ExhaustiveReplay(setup.Name, setup.Protocol, seed, c.N)}
	}
	res, err := RunRecovered(&try, RunOptions{Seed: seed, CheckDeterminism: opts.CheckDeterminism, FaultsMayNotFire: true, References: refs})
	if err != nil {
		return fail(errCheck(err), err.Error()), false
	}
	mismatch := false
	for _, ch := range res.Checks {
		if ch.Name == "determinism" && !ch.OK {
			mismatch = true
		}
	}
	for _, ch := range res.Checks {
		if !ch.OK && ch.Name != "determinism" {
			return fail(ch.Name, ch.Detail), mismatch
		}
	}
	if !res.OK {
		return fail("outcome", fmt.Sprintf("expected %s, got %s", setup.Expect, res.Outcome)), mismatch
	}
	return nil, mismatch
}

// SmallCrashScenario is a job small enough that every crash point runs in
// seconds, and busy enough for every class of protocol bug to show: a fast and a
// slow source feed a union that cannot keep up, so the barriers of the slow
// channels arrive long before those of the backlogged ones (alignment under
// backpressure, over four channels) and unaligned barriers overtake queued
// buffers. check.Protocol searches its crash points by default. It is not in the
// registry.
func SmallCrashScenario() *Scenario {
	return &Scenario{
		Name: "small-crash-points",
		Description: "A fast source (2 splits at 400/s) and a slow one (2 at 50/s) → a union costing 3 ms per record " +
			"(backpressured, aligning four channels) → keyed sum → sink, on two workers; a worker crashes right after " +
			"checkpoint 1 completes, so the job restores it.",
		Seed:     5,
		Duration: "1 min",
		Job: JobSpec{
			Sources: []SourceSpec{
				{Name: "orders", Splits: 2, Parallelism: 2, Rate: "400/s", Records: 200, Keys: &KeySpec{Count: 50}, RecordSize: "64 B"},
				{Name: "refunds", Splits: 2, Parallelism: 2, Rate: "50/s", Records: 25, Keys: &KeySpec{Count: 50}, RecordSize: "64 B"},
			},
			Operators: []OperatorSpec{
				{Name: "all", Type: "union", Inputs: []string{"orders", "refunds"}, Partitioning: "rebalance", Parallelism: 2, Cost: "3 ms"},
				{Name: "totals", Type: "sum", Input: "all", KeyBy: "key", Parallelism: 2, Cost: "50 us"},
				{Name: "out", Type: "sink", Input: "totals", Parallelism: 1, Cost: "100 us"},
			},
		},
		Cluster: ClusterSpec{Workers: 2, SlotsPerWorker: 4,
			Network:           &LinkSpec{Latency: "1 ms", Jitter: "200 us", Bandwidth: "1 Gbit/s"},
			CheckpointStorage: &StorageSpec{Latency: "20 ms", Bandwidth: "200 MB/s"}},
		Config: config("execution.checkpointing.interval", "250 ms", "execution.buffer-timeout", "10 ms"),
		Faults: []FaultSpec{
			{When: &WhenSpec{Checkpoint: 1, Phase: "after-complete"}, Kind: "crash-worker", Worker: "worker-1", RestartAfter: "500 ms"},
		},
	}
}
