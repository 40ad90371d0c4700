// Package check is ckptsim's conformance kit for a checkpoint protocol of your
// own: from your module's tests, point it at a value implementing
// checkpoint.Protocol and it runs the whole battery against it, with no
// registration anywhere:
//
//	func TestMyProtocol(t *testing.T) { check.Protocol(t, myprotocol.Protocol{}) }
//
// The battery is three searches, each under every oracle the protocol's
// guarantee calls for (exactly-once or at-least-once state and output, the
// verifying sinks, liveness, every completed checkpoint a valid restore point,
// and the same trace hash on a second run):
//
//   - the named scenarios of package scenarios that test a guarantee (every one
//     with faults, and the steady run), under your protocol;
//   - a budget of random cases from explore's family (random jobs, configurations
//     and swarm fault schedules), each failure shrunk to its smallest schedule;
//   - every crash point of a small backpressured job: a crash of each worker,
//     the coordinator and the checkpoint store at each barrier, snapshot, upload,
//     acknowledgement, completion, notification and restore step.
//
// A failure names the case, its (shrunk) fault schedule and a command that
// replays exactly that case: go test -run TEST -ckptsim.replay=CASE. The root
// seed of the random cases comes from -ckptsim.seed or $CKPTSIM_SEED (as
// madsim's MADSIM_TEST_SEED), else from Seed, else 1; -ckptsim.budget or
// $CKPTSIM_BUDGET overrides the number of random cases. Everything is
// deterministic: the same seed runs the same cases.
package check

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/scenarios"
)

// Parts of the battery, as failures and replay keys name them.
const (
	PartScenario = "scenario"
	PartExplore  = "explore"
	PartCrash    = "crash"
)

// Failure is one case of the battery that failed.
type Failure struct {
	// Part is PartScenario, PartExplore or PartCrash.
	Part string
	// Case identifies the case; -ckptsim.replay=Case runs it alone.
	Case string
	// Check is the oracle that failed (or "panic", "run", "determinism").
	Check  string
	Detail string
	// Faults is the case's fault schedule; Shrunk, when set, the smallest
	// schedule found that still fails the same check.
	Faults []string
	Shrunk []string
	// Where says what the case ran: the scenario, or the random case's job and
	// swarm, or the crash point and target.
	Where string
	// Replay is the command that runs the case alone.
	Replay string
}

func (f Failure) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s failed %s: %s\n", f.Part, f.Case, f.Check, clip(f.Detail, 1500))
	if f.Where != "" {
		fmt.Fprintf(&b, "  case: %s\n", f.Where)
	}
	sched, what := f.Faults, "faults"
	if f.Shrunk != nil {
		sched, what = f.Shrunk, fmt.Sprintf("shrunk from %d to %d fault(s)", len(f.Faults), len(f.Shrunk))
	}
	if len(sched) > 0 {
		fmt.Fprintf(&b, "  %s:\n", what)
		for _, s := range sched {
			fmt.Fprintf(&b, "    %s\n", s)
		}
	}
	fmt.Fprintf(&b, "  replay: %s", f.Replay)
	return b.String()
}

// Report is what a battery found.
type Report struct {
	Protocol string
	Seed     uint64
	// Scenarios, Explored and CrashCases count the cases each part ran.
	Scenarios, Explored, CrashCases int
	// CrashPoints is the number of distinct crash points of the crash part's job.
	CrashPoints int
	Failures    []Failure
	// DeterminismMismatches counts cases whose two runs had different trace hashes.
	DeterminismMismatches int
}

// OK reports whether every case passed.
func (r *Report) OK() bool { return len(r.Failures) == 0 && r.DeterminismMismatches == 0 }

// Summary is one line: what ran and what failed.
func (r *Report) Summary() string {
	return fmt.Sprintf("%s: %d scenarios, %d random cases (root seed %d), %d crash cases at %d points: %d failed, %d determinism mismatches",
		r.Protocol, r.Scenarios, r.Explored, r.Seed, r.CrashCases, r.CrashPoints, len(r.Failures), r.DeterminismMismatches)
}

// maxShown is how many failures of each part Protocol prints in full.
const maxShown = 3

// Protocol runs the battery on p inside a test and fails the test with every
// failing case: its shrunk fault schedule and the command that replays it.
func Protocol(t *testing.T, p checkpoint.Protocol, opts ...Option) {
	t.Helper()
	c := newConfig(opts)
	if c.testName == "" {
		c.testName = strings.SplitN(t.Name(), "/", 2)[0]
	}
	rep, err := run(p, c, t.Logf)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	shown := map[string]int{}
	for _, f := range rep.Failures {
		if shown[f.Part]++; shown[f.Part] <= maxShown {
			t.Errorf("%s", f)
		}
	}
	for _, part := range []string{PartScenario, PartExplore, PartCrash} {
		if n := shown[part] - maxShown; n > 0 {
			t.Errorf("... and %d more %s cases failed (Run returns them all)", n, part)
		}
	}
	if rep.DeterminismMismatches > 0 {
		t.Errorf("%d cases gave different trace hashes on a second run with the same seed: the protocol is not deterministic (map iteration, wall clock, global randomness?)", rep.DeterminismMismatches)
	}
	t.Log(rep.Summary())
}

// Run runs the battery on p and returns what it found, without a test: to assert
// that a broken protocol is caught, or to run the battery from a program. Replay
// commands name the test given by TestName (default TestProtocol).
func Run(p checkpoint.Protocol, opts ...Option) (*Report, error) {
	return run(p, newConfig(opts), func(string, ...any) {})
}

func run(p checkpoint.Protocol, c *config, logf func(string, ...any)) (rep *Report, err error) {
	if c.err != nil {
		return nil, c.err
	}
	if p == nil {
		return nil, fmt.Errorf("a nil protocol")
	}
	if g := p.Guarantee(); g != checkpoint.ExactlyOnce && g != checkpoint.AtLeastOnce {
		return nil, fmt.Errorf("protocol %q promises %v: want checkpoint.ExactlyOnce or checkpoint.AtLeastOnce", p.Name(), g)
	}
	if c.testName == "" {
		c.testName = "TestProtocol"
	}
	rep = &Report{Protocol: p.Name(), Seed: c.seed}
	if c.replay != "" {
		return rep, replay(p, c, rep)
	}
	for _, part := range []func(checkpoint.Protocol, *config, *Report, func(string, ...any)) error{runScenarios, runExplore, runCrashPoints} {
		if err := part(p, c, rep, logf); err != nil {
			return rep, err
		}
		if c.failFast && !rep.OK() {
			break
		}
	}
	return rep, nil
}

// replay runs the one case c.replay names.
func replay(p checkpoint.Protocol, c *config, rep *Report) error {
	part, key, _ := strings.Cut(c.replay, "/")
	switch part {
	case PartScenario:
		c.scenarios = []string{key}
		return runScenarios(p, c, rep, nil)
	case PartExplore:
		var seed uint64
		if _, err := fmt.Sscan(key, &seed); err != nil {
			return fmt.Errorf("-ckptsim.replay=%s: want explore/SEED", c.replay)
		}
		return exploreCases(p, c, rep, []uint64{seed})
	case PartCrash:
		i := strings.LastIndex(key, "/")
		var n int
		if i < 0 {
			return fmt.Errorf("-ckptsim.replay=%s: want crash/SCENARIO/N", c.replay)
		}
		if _, err := fmt.Sscan(key[i+1:], &n); err != nil {
			return fmt.Errorf("-ckptsim.replay=%s: want crash/SCENARIO/N", c.replay)
		}
		c.crashScenario = key[:i]
		return crashCases(p, c, rep, []int{n})
	}
	return fmt.Errorf("-ckptsim.replay=%s: want scenario/NAME, explore/SEED or crash/SCENARIO/N", c.replay)
}

// replayCommand is the go test command that runs one case alone.
func (c *config) replayCommand(key string) string {
	return fmt.Sprintf("go test -run '^%s$' -ckptsim.replay=%s", c.testName, scenarios.ShellWord(key))
}

// workers is how many runs go at once.
func (c *config) workers() int {
	if c.parallel > 0 {
		return c.parallel
	}
	return runtime.GOMAXPROCS(0)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "\n..."
	}
	return s
}
