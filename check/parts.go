package check

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/scenarios"
)

// applies reports whether a named scenario tests a guarantee: it injects faults,
// or it is the steady run (the benchmark scenarios without faults measure cost).
func applies(sc *scenarios.Scenario) bool { return len(sc.Faults) > 0 || sc.Name == "steady" }

// runScenarios runs the named scenarios under p, in parallel.
func runScenarios(p checkpoint.Protocol, c *config, rep *Report, logf func(string, ...any)) error {
	if c.noScenarios {
		return nil
	}
	var list []*scenarios.Scenario
	if c.scenarios != nil {
		for _, name := range c.scenarios {
			sc, err := scenarios.Lookup(name)
			if err != nil {
				return err
			}
			list = append(list, sc)
		}
	} else {
		for _, sc := range scenarios.Registry() {
			if applies(sc) {
				list = append(list, sc)
			}
		}
	}
	found := make([]*Failure, len(list))
	mismatch := make([]bool, len(list))
	var setupErr error
	var mu sync.Mutex
	forEach(len(list), c.workers(), func(i int) {
		f, m, err := scenarioCase(p, c, list[i])
		mu.Lock()
		defer mu.Unlock()
		if err != nil && setupErr == nil {
			setupErr = err
		}
		found[i], mismatch[i] = f, m
	})
	if setupErr != nil {
		return setupErr
	}
	for i := range list {
		rep.Scenarios++
		if mismatch[i] {
			rep.DeterminismMismatches++
		}
		if found[i] != nil {
			rep.Failures = append(rep.Failures, *found[i])
		}
	}
	if logf != nil {
		logf("check: %d named scenarios under %s", len(list), p.Name())
	}
	return nil
}

// scenarioCase runs one named scenario under p.
func scenarioCase(p checkpoint.Protocol, c *config, sc *scenarios.Scenario) (*Failure, bool, error) {
	setup, err := sc.SetupWith(p)
	if errors.Is(err, checkpoint.ErrNoFeedback) {
		return nil, false, nil // a cyclic scenario, and p refuses cycles: it does not apply
	}
	if err != nil {
		return nil, false, err
	}
	key := PartScenario + "/" + sc.Name
	f := &Failure{Part: PartScenario, Case: key, Replay: c.replayCommand(key),
		Where: fmt.Sprintf("scenario %s (seed %d): %s", sc.Name, setup.Seed, sc.Description)}
	for _, s := range setup.Faults {
		f.Faults = append(f.Faults, s.String())
	}
	res, err := scenarios.RunRecovered(setup, scenarios.RunOptions{Seed: setup.Seed, CheckDeterminism: c.determinism,
		CheckRestorePoints: true, MaxRestorePoints: 2})
	if err != nil {
		f.Check, f.Detail = checkOf(err), err.Error()
		return f, false, nil
	}
	mismatch := false
	for _, ch := range res.Checks {
		if ch.Name == "determinism" && !ch.OK {
			mismatch = true
		}
	}
	if res.OK {
		return nil, mismatch, nil
	}
	f.Check, f.Detail = "outcome", fmt.Sprintf("expected %s, got %s", res.Expected, res.Outcome)
	for _, ch := range res.Checks {
		if !ch.OK && ch.Name != "determinism" {
			f.Check, f.Detail = ch.Name, ch.Detail
			break
		}
	}
	return f, mismatch, nil
}

// runExplore runs the budget of random cases under p.
func runExplore(p checkpoint.Protocol, c *config, rep *Report, logf func(string, ...any)) error {
	if c.budget <= 0 {
		return nil
	}
	seeds := make([]uint64, c.budget)
	for i := range seeds {
		seeds[i] = scenarios.CaseSeed(c.seed, i)
	}
	if err := exploreCases(p, c, rep, seeds); err != nil {
		return err
	}
	logf("check: %d random cases under %s (root seed %d; -ckptsim.seed=N or $CKPTSIM_SEED for others)", c.budget, p.Name(), c.seed)
	return nil
}

// exploreCases runs random cases by their seeds.
func exploreCases(p checkpoint.Protocol, c *config, rep *Report, seeds []uint64) error {
	er := scenarios.Explore(scenarios.ExploreOptions{Cases: seeds, Impl: p, Parallel: c.workers(),
		CheckDeterminism: c.determinism, Shrink: true, MaxFailures: c.maxFailures})
	rep.Explored += er.Runs
	rep.DeterminismMismatches += er.DeterminismMismatches
	for _, ef := range er.Failed {
		key := fmt.Sprintf("%s/%d", PartExplore, ef.Seed)
		rep.Failures = append(rep.Failures, Failure{Part: PartExplore, Case: key, Check: ef.Check, Detail: ef.Detail,
			Faults: ef.Faults, Shrunk: ef.Shrunk, Where: fmt.Sprintf("random case %d: job %s, swarm %s", ef.Seed, ef.Scenario, ef.Swarm),
			Replay: c.replayCommand(key)})
	}
	return nil
}

// crashSetup is the scenario whose crash points the battery searches, under p.
func crashSetup(p checkpoint.Protocol, c *config) (*scenarios.Setup, error) {
	sc := scenarios.SmallCrashScenario()
	if c.crashScenario != "" && c.crashScenario != sc.Name {
		var err error
		if sc, err = scenarios.Lookup(c.crashScenario); err != nil {
			return nil, err
		}
	}
	return sc.SetupWith(p)
}

// runCrashPoints runs every crash case of the crash scenario under p.
func runCrashPoints(p checkpoint.Protocol, c *config, rep *Report, logf func(string, ...any)) error {
	if c.noCrash {
		return nil
	}
	if err := crashCases(p, c, rep, nil); err != nil {
		return err
	}
	logf("check: %d crash cases at %d crash points under %s", rep.CrashCases, rep.CrashPoints, p.Name())
	return nil
}

// crashCases runs the crash cases numbered in only (nil: all of them).
func crashCases(p checkpoint.Protocol, c *config, rep *Report, only []int) (err error) {
	defer func() {
		// enumerating the points runs the protocol once outside a search
		if r := recover(); r != nil {
			err = fmt.Errorf("%s panicked while its crash points were enumerated: %v", p.Name(), r)
		}
	}()
	setup, err := crashSetup(p, c)
	if err != nil {
		return err
	}
	xr, err := scenarios.Exhaustive(setup, scenarios.ExhaustiveOptions{Parallel: c.workers(), CheckDeterminism: c.crashDet,
		MaxFailures: c.maxFailures, Cases: only})
	if err != nil {
		return err
	}
	rep.CrashCases += xr.Tried
	rep.CrashPoints = xr.Points + xr.RecoveryPoints
	rep.DeterminismMismatches += xr.DeterminismMismatches
	for _, xf := range xr.Failed {
		key := fmt.Sprintf("%s/%s/%d", PartCrash, setup.Name, xf.Case)
		rep.Failures = append(rep.Failures, Failure{Part: PartCrash, Case: key, Check: xf.Check, Detail: xf.Detail,
			Faults: []string{xf.Fault}, Where: fmt.Sprintf("crash of %s at %s, in %s (seed %d)", xf.Target, xf.Point, setup.Name, xr.Seed),
			Replay: c.replayCommand(key)})
	}
	return nil
}

// forEach calls fn(i) for i in [0, n) on up to workers goroutines: one whole,
// independent simulation per call, nothing shared between them.
func forEach(n, workers int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// checkOf names the check a run error fails.
func checkOf(err error) string {
	if _, ok := err.(*scenarios.PanicError); ok {
		return "panic"
	}
	return "run"
}
