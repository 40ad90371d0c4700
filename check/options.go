package check

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// The command-line flags of a test binary that imports check (go test
// -ckptsim.seed=N ...). Each has an environment variable for CI jobs that cannot
// pass flags.
var (
	seedFlag   = flag.Uint64("ckptsim.seed", 0, "root seed of check's random cases (0: $CKPTSIM_SEED, else the Seed option, else 1)")
	budgetFlag = flag.Int("ckptsim.budget", 0, "number of check's random cases (0: $CKPTSIM_BUDGET, else the Budget option)")
	replayFlag = flag.String("ckptsim.replay", "", "run only this case of check's battery (scenario/NAME, explore/SEED or crash/SCENARIO/N), as a failure prints it; $CKPTSIM_REPLAY")
)

// Default budgets of random cases.
const (
	DefaultBudget      = 24
	DefaultShortBudget = 6
)

// Option tunes a battery.
type Option func(*config)

type config struct {
	seed          uint64
	budget        int
	determinism   bool
	crashDet      bool
	scenarios     []string // nil: every scenario that applies
	noScenarios   bool
	crashScenario string // "": SmallCrashScenario
	noCrash       bool
	parallel      int
	testName      string
	replay        string
	failFast      bool
	maxFailures   int
	err           error // a bad environment variable
}

// Seed sets the root seed of the random cases (-ckptsim.seed and $CKPTSIM_SEED
// win over it, so a failure's seed can be replayed without editing the test).
func Seed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// Budget sets the number of random cases (default DefaultBudget, or
// DefaultShortBudget under go test -short); 0 skips them. -ckptsim.budget and
// $CKPTSIM_BUDGET win over it.
func Budget(n int) Option { return func(c *config) { c.budget = n } }

// Determinism runs every scenario and random case twice (on by default) and, with
// crashPoints, every crash case too (off by default: they are many), and fails on
// a different trace hash.
func Determinism(on, crashPoints bool) Option {
	return func(c *config) { c.determinism, c.crashDet = on, crashPoints }
}

// Scenarios runs only the named scenarios; with no names, none.
func Scenarios(names ...string) Option {
	return func(c *config) {
		c.scenarios = append([]string(nil), names...)
		c.noScenarios = len(names) == 0
	}
}

// CrashPoints searches the crash points of the named scenario instead of the
// default small job (scenarios.SmallCrashScenario); "" skips the search. A named
// scenario's points take minutes: crash-during-alignment has about 3000 cases.
func CrashPoints(scenario string) Option {
	return func(c *config) {
		c.crashScenario = scenario
		c.noCrash = scenario == ""
	}
}

// Parallel sets how many runs go at once (default GOMAXPROCS).
func Parallel(n int) Option { return func(c *config) { c.parallel = n } }

// TestName is the test the replay commands name (Protocol sets it to its test).
func TestName(name string) Option { return func(c *config) { c.testName = name } }

// FailFast stops after the first part (scenarios, random cases, crash points)
// that failed, and each search after its first failure: to assert that a broken
// protocol is caught, quickly.
func FailFast() Option { return func(c *config) { c.failFast, c.maxFailures = true, 1 } }

// Replay runs only the case a failure names (Failure.Case), as
// -ckptsim.replay does.
func Replay(caseKey string) Option { return func(c *config) { c.replay = caseKey } }

// Replaying reports whether the test binary was asked to replay one case
// (-ckptsim.replay or $CKPTSIM_REPLAY).
func Replaying() bool { return *replayFlag != "" || os.Getenv("CKPTSIM_REPLAY") != "" }

func newConfig(opts []Option) *config {
	c := &config{seed: 1, budget: -1, determinism: true}
	for _, o := range opts {
		o(c)
	}
	if c.budget < 0 {
		c.budget = DefaultBudget
		if testing.Testing() && testing.Short() {
			c.budget = DefaultShortBudget
		}
	}
	if s := c.envUint("CKPTSIM_SEED"); s != 0 {
		c.seed = s
	}
	if *seedFlag != 0 {
		c.seed = *seedFlag
	}
	if n := c.envUint("CKPTSIM_BUDGET"); n != 0 {
		c.budget = int(n)
	}
	if *budgetFlag != 0 {
		c.budget = *budgetFlag
	}
	if r := os.Getenv("CKPTSIM_REPLAY"); r != "" {
		c.replay = r
	}
	if *replayFlag != "" {
		c.replay = *replayFlag
	}
	return c
}

// envUint reads a non-negative integer from the environment (0 when unset); a
// value that is not one is the battery's error.
func (c *config) envUint(name string) uint64 {
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil && c.err == nil {
		c.err = fmt.Errorf("$%s=%q: want a non-negative integer", name, v)
	}
	return n
}
