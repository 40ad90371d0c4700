package scenarios

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"
)

// ExploreOptions configure a swarm exploration.
type ExploreOptions struct {
	Runs int    // number of cases (across all shards)
	Seed uint64 // root seed; case i's seed derives from (Seed, i)
	// Protocol runs every case under one protocol; "" draws one per case.
	Protocol string
	// Impl, when set, is the protocol every case runs under (a value that need not
	// be registered, e.g. a user's own); Protocol is then ignored.
	Impl     checkpoint.Protocol
	Parallel int // concurrent runs (default: number of CPUs)
	// Shard and Shards split the cases: this process runs case i when
	// i mod Shards == Shard. The union of all shards is the unsharded run.
	Shard, Shards int
	// CheckDeterminism runs each case twice and compares trace hashes.
	CheckDeterminism bool
	// TimeBudget stops starting new cases after this much wall time (0: none).
	TimeBudget time.Duration
	// Shrink minimises the fault schedule of each failure.
	Shrink bool
	// Progress, when set, is called after each case (from one goroutine at a time).
	Progress func(done, total int)
	// Cases, when set, runs exactly these case seeds instead of deriving them.
	Cases []uint64
	// MaxFailures stops starting new cases once this many failed (0: never).
	MaxFailures int
	// RecordCases lists every case run, with its trace hash, in the report's Cases.
	RecordCases bool
}

// ExploreCase is one case that ran: what it was and the trace hash of its run
// with faults. Two explorations with the same options list the same cases with the
// same hashes; a change that must not alter any run compares these lists.
type ExploreCase struct {
	Seed      uint64 `json:"seed"`
	Protocol  string `json:"protocol"`
	Scenario  string `json:"scenario"`
	TraceHash string `json:"trace_hash"`
}

// ExploreFailure is one failed case with what reproduces it.
type ExploreFailure struct {
	Seed     uint64   `json:"seed"`
	Protocol string   `json:"protocol"`
	Scenario string   `json:"scenario"`
	Check    string   `json:"check"`
	Detail   string   `json:"detail"`
	Replay   string   `json:"replay"`
	Swarm    string   `json:"swarm"`
	Faults   []string `json:"faults"`
	// Shrunk is the smallest fault schedule found that still fails.
	Shrunk []string `json:"shrunk,omitempty"`
}

// ExploreReport summarises an exploration.
type ExploreReport struct {
	Runs                  int              `json:"runs"`
	Failures              int              `json:"failures"`
	Failed                []ExploreFailure `json:"failed"`
	DeterminismMismatches int              `json:"determinism_mismatches"`
	Coverage              map[string]int   `json:"coverage"`
	Skipped               int              `json:"skipped,omitempty"`
	// Cases lists every case run, in case order, when RecordCases is set.
	Cases []ExploreCase `json:"cases,omitempty"`
	// Parallel is how many cases ran at once, WallMS how long the exploration
	// took on this machine and RunsPerSecond the cases run per wall second
	// (shrinking included): reporting only, no case depends on them.
	Parallel      int     `json:"parallel"`
	WallMS        float64 `json:"wall_ms"`
	RunsPerSecond float64 `json:"runs_per_second"`
}

// CaseSeed is the seed of case i of an exploration rooted at root.
func CaseSeed(root uint64, i int) uint64 {
	r := sim.NewRand(root, fmt.Sprintf("explore/%d", i))
	return r.Uint64()
}

// ExploreReplay is the command that replays one case.
func ExploreReplay(seed uint64, protocol string) string {
	return fmt.Sprintf("simrun explore --case %d --protocol %s", seed, protocol)
}

// Explore runs random cases (swarm testing) in parallel, one simulation per
// goroutine, and collects failures (with shrunk schedules), determinism
// mismatches and coverage.
func Explore(opts ExploreOptions) *ExploreReport {
	if opts.Parallel <= 0 {
		opts.Parallel = runtime.NumCPU()
	}
	if opts.Shards <= 0 {
		opts.Shards = 1
	}
	defer tuneExploreGC()() // many small runs: a higher collector target (gc.go)
	// the shard's cases are derived as they start, never all at once: --runs may be
	// far more than a time budget lets run
	total := len(opts.Cases)
	seedOf := func(j int) uint64 { return opts.Cases[j] }
	if opts.Cases == nil {
		total = 0
		if opts.Shard < opts.Runs {
			total = (opts.Runs - opts.Shard + opts.Shards - 1) / opts.Shards
		}
		seedOf = func(j int) uint64 { return CaseSeed(opts.Seed, opts.Shard+j*opts.Shards) }
	}
	rep := &ExploreReport{Coverage: map[string]int{}}
	type outcome struct {
		i        int
		fail     *ExploreFailure
		mismatch bool
		coverage []string
		run      ExploreCase
	}
	var results []outcome
	// Wall time and goroutines are the harness's, not the simulations': each
	// worker runs whole, independent runs (one world per goroutine, nothing
	// shared), so neither can affect a trace.
	start := time.Now() // harness wall time for --time-budget and the report only: never part of a trace
	var mu sync.Mutex
	done, failed, started := 0, 0, 0
	var wg sync.WaitGroup
	for w := 0; w < opts.Parallel; w++ {
		wg.Add(1)
		go func() { // one whole, independent run at a time per worker: see above
			defer wg.Done()
			for {
				mu.Lock()
				// the budget only decides which cases start, never what a run does
				stop := started >= total || (opts.MaxFailures > 0 && failed >= opts.MaxFailures) ||
					(opts.TimeBudget > 0 && time.Since(start) > opts.TimeBudget) // harness budget: see above
				i := started
				if !stop {
					started++
				}
				mu.Unlock()
				if stop {
					return
				}
				o := outcome{i: i}
				o.fail, o.mismatch, o.coverage, o.run = exploreOne(seedOf(i), opts)
				tickExploreGC(opts.Parallel)
				mu.Lock()
				results = append(results, o)
				if o.fail != nil {
					failed++
				}
				done++
				if opts.Progress != nil {
					opts.Progress(done, total)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start) // reported only, never part of a trace
	rep.Parallel, rep.WallMS = opts.Parallel, float64(wall.Microseconds())/1000
	sort.Slice(results, func(a, b int) bool { return results[a].i < results[b].i }) // case order
	rep.Skipped = total - len(results)
	for _, o := range results {
		rep.Runs++
		if o.mismatch {
			rep.DeterminismMismatches++
		}
		if o.fail != nil {
			rep.Failures++
			rep.Failed = append(rep.Failed, *o.fail)
		}
		for _, c := range o.coverage {
			rep.Coverage[c]++
		}
		if opts.RecordCases {
			rep.Cases = append(rep.Cases, o.run)
		}
	}
	if wall > 0 {
		rep.RunsPerSecond = float64(rep.Runs) / wall.Seconds()
	}
	return rep
}

// exploreOne runs one case and reports its failure, if any, and what ran.
func exploreOne(seed uint64, opts ExploreOptions) (*ExploreFailure, bool, []string, ExploreCase) {
	run := ExploreCase{Seed: seed, Protocol: opts.Protocol}
	loops := anyLoop
	if opts.Impl != nil && !checkpoint.SupportsFeedback(opts.Impl) {
		loops = noLoop
	}
	c, err := newRandomCase(seed, opts.Protocol, loops)
	if err != nil {
		return &ExploreFailure{Seed: seed, Protocol: opts.Protocol, Check: "setup", Detail: err.Error()}, false, nil, run
	}
	if opts.Impl != nil {
		c.Setup = c.Setup.WithProtocol(opts.Impl)
	}
	run.Protocol, run.Scenario = c.Setup.Protocol, c.Setup.Name
	refs := NewReferenceCache(1) // the case's reference, reused by shrinking
	res, err := RunRecovered(c.Setup, RunOptions{CheckDeterminism: opts.CheckDeterminism, CheckRestorePoints: true, MaxRestorePoints: 2,
		FaultsMayNotFire: true, References: refs})
	fail := func(check, detail string) *ExploreFailure {
		f := &ExploreFailure{Seed: seed, Protocol: c.Setup.Protocol, Scenario: c.Setup.Name, Check: check, Detail: detail,
			Replay: ExploreReplay(seed, c.Setup.Protocol), Swarm: c.Swarm.String()}
		for _, s := range c.Setup.Faults {
			f.Faults = append(f.Faults, s.String())
		}
		return f
	}
	if err != nil {
		return fail(errCheck(err), err.Error()), false, nil, run
	}
	run.TraceHash = res.TraceHash
	mismatch := false
	for _, ch := range res.Checks {
		if ch.Name == "determinism" && !ch.OK {
			mismatch = true
		}
	}
	for _, ch := range res.Checks {
		if !ch.OK && ch.Name != "determinism" {
			f := fail(ch.Name, ch.Detail)
			if opts.Shrink {
				f.Shrunk = shrink(c.Setup, ch.Name, refs)
			}
			return f, mismatch, res.Coverage, run
		}
	}
	return nil, mismatch, res.Coverage, run
}

// shrink removes faults one at a time, keeping each removal after which the same
// check still fails, and returns the smallest schedule found. Every candidate
// shares the case's reference (refs).
func shrink(setup *Setup, check string, refs *ReferenceCache) []string {
	sched := append(faults.Schedule(nil), setup.Faults...)
	fails := func(s faults.Schedule) bool {
		try := *setup
		try.Faults = s
		res, err := RunRecovered(&try, RunOptions{FaultsMayNotFire: true, References: refs, verdictOnly: true})
		if err != nil {
			return false
		}
		for _, ch := range res.Checks {
			if ch.Name == check && !ch.OK {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(sched); {
		cand := append(append(faults.Schedule(nil), sched[:i]...), sched[i+1:]...)
		if fails(cand) {
			sched = cand
			continue
		}
		i++
	}
	out := make([]string, len(sched))
	for i, s := range sched {
		out[i] = s.String()
	}
	return out
}

// CoverageNames lists the situations explore counts, in a stable order.
func CoverageNames(c map[string]int) []string {
	names := make([]string, 0, len(c))
	for k := range c {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
