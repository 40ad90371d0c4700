package simrun

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/protocol/mutant"
	"github.com/ckptsim/ckptsim/scenarios"
	"github.com/spf13/cobra"
)

// exhaustiveFlags are explore's flags for a systematic search of crash points.
type exhaustiveFlags struct {
	scenario    string
	points      []int
	list        bool
	maxFailures int
	sets        []string
}

func (e *exhaustiveFlags) add(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&e.scenario, "exhaustive", "", "instead of random cases, crash every worker, the coordinator and the checkpoint store at every crash point of SCENARIO (a named scenario expected to pass)")
	f.IntSliceVar(&e.points, "point", nil, "with --exhaustive: run only these cases (numbers from the listing or a failure's replay command)")
	f.BoolVar(&e.list, "list", false, "with --exhaustive: list the cases (point and target) without running them")
	f.IntVar(&e.maxFailures, "max-failures", 0, "stop starting cases after this many failed (0: run all); with --no-shrink, the time to a first failure")
	f.StringArrayVar(&e.sets, "set", nil, "with --exhaustive: KEY=VALUE, override one value of the scenario (repeatable, as in simrun run)")
}

// exhaustiveOnly and randomOnly list the explore flags only one of the two
// searches takes.
var exhaustiveOnly = []string{"point", "list", "set"}
var randomOnly = []string{"runs", "shard", "shards", "time-budget", "case", "no-shrink", "hashes"}

// runExhaustive is explore --exhaustive: enumerate the scenario's crash points,
// run one case per (point, target) and print the summary.
func runExhaustive(cmd *cobra.Command, e *exhaustiveFlags, protocol string, seed uint64, parallel int, determinism, asJSON bool) error {
	for _, name := range randomOnly {
		if cmd.Flags().Changed(name) {
			return usageErr("--%s is for random exploration, not --exhaustive", name)
		}
	}
	if e.maxFailures < 0 {
		return usageErr("--max-failures must not be negative")
	}
	sc, err := lookupScenario(e.scenario)
	if err != nil {
		return err
	}
	if sc, err = applySets(sc, e.sets); err != nil {
		return err
	}
	if protocol == "all" {
		protocol = "" // the protocol the scenario's configuration selects
	} else if _, err := checkpoint.Lookup(protocol); err != nil {
		return usageErr("%v", err)
	}
	setup, err := sc.Setup(protocol)
	if err != nil {
		return usageErr("%v", err)
	}
	if setup.Expect != scenarios.OutcomePass {
		return usageErr("scenario %q expects %s: --exhaustive needs a scenario expected to pass", sc.Name, setup.Expect)
	}
	opts := scenarios.ExhaustiveOptions{Parallel: parallel, CheckDeterminism: determinism, MaxFailures: e.maxFailures, Cases: e.points}
	if cmd.Flags().Changed("seed") {
		opts.Seed = seed
	}
	w := cmd.OutOrStdout()
	start := time.Now() // harness wall time, printed only: never part of a trace
	cases, points, recovery, err := scenarios.CrashCases(setup, opts)
	if err != nil {
		return usageErr("%v", err)
	}
	enumerated := time.Since(start) // reported only
	if e.list {
		return listCrashCases(w, setup, cases, points, recovery, asJSON)
	}
	total := len(cases)
	if e.points != nil {
		total = len(e.points)
	}
	if !asJSON {
		fmt.Fprintf(w, "exhaustive crash points of %s under %s (seed %d): %d points in the fault-free run, %d from the first restore of its own faults on; %d targets (every worker, jobmanager, checkpoint-store): %d cases, %d to run (enumerated in %v)\n",
			setup.Name, setup.Protocol, seedOf(setup, opts), points, recovery, targetsOf(cases), len(cases), total, enumerated.Round(time.Millisecond))
	}
	bar := newProgress(cmd.ErrOrStderr(), total)
	opts.Progress = func(int, int) { bar.done() }
	rep, err := scenarios.Exhaustive(setup, opts)
	bar.finish()
	if err != nil {
		return usageErr("%v", err)
	}
	for i := range rep.Failed { // the replay commands carry the overrides
		for _, kv := range e.sets {
			rep.Failed[i].Replay += " --set " + scenarios.ShellWord(kv)
		}
	}
	if asJSON {
		if err := json.NewEncoder(w).Encode(rep); err != nil {
			return err
		}
	} else {
		printExhaustive(w, rep, time.Since(start))
		if rep.Failures == 0 && mutant.CyclicOnly(setup.Protocol) && !setup.NewJob().Cyclic() {
			fmt.Fprintf(w, "note: %s changes only jobs with a feedback edge and %s has none: every case ran as its base protocol does; "+
				"search a cyclic scenario instead, e.g. simrun explore --exhaustive cyclic-narrow-loop --protocol %s\n",
				setup.Protocol, setup.Name, setup.Protocol)
		}
	}
	if rep.Failures > 0 || rep.DeterminismMismatches > 0 {
		return failErr("%d of %d crash cases failed, %d determinism mismatches", rep.Failures, rep.Tried, rep.DeterminismMismatches)
	}
	return nil
}

func seedOf(setup *scenarios.Setup, opts scenarios.ExhaustiveOptions) uint64 {
	if opts.Seed != 0 {
		return opts.Seed
	}
	return setup.Seed
}

func targetsOf(cases []scenarios.CrashCase) int {
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.Target] = true
	}
	return len(seen)
}

// listCrashCases prints every case: its number, point, target and fault.
func listCrashCases(w io.Writer, setup *scenarios.Setup, cases []scenarios.CrashCase, points, recovery int, asJSON bool) error {
	if asJSON {
		type row struct {
			Case   int      `json:"case"`
			Point  string   `json:"point"`
			Target string   `json:"target"`
			Faults []string `json:"faults"`
		}
		rows := make([]row, len(cases))
		for i, c := range cases {
			rows[i] = row{Case: c.N, Point: c.Point.String(), Target: c.Target}
			for _, f := range c.Faults {
				rows[i].Faults = append(rows[i].Faults, f.String())
			}
		}
		return json.NewEncoder(w).Encode(rows)
	}
	fmt.Fprintf(w, "%s under %s: %d points in the fault-free run, %d from the first restore of its own faults on, %d cases\n",
		setup.Name, setup.Protocol, points, recovery, len(cases))
	for _, c := range cases {
		fmt.Fprintf(w, "%6d  %-16s  %s\n", c.N, c.Target, c.Point)
	}
	return nil
}

// printExhaustive prints the summary: cases tried and failed, the failing points
// (the first one first) with their replay commands.
func printExhaustive(w io.Writer, rep *scenarios.ExhaustiveReport, wall time.Duration) {
	points := map[string]bool{}
	for _, f := range rep.Failed {
		points[f.Point] = true
	}
	fmt.Fprintf(w, "%d of %d cases tried, %d failed at %d points, %d determinism mismatches (wall %v)\n",
		rep.Tried, rep.Cases, rep.Failures, len(points), rep.DeterminismMismatches, wall.Round(time.Millisecond))
	if rep.Failures == 0 {
		return
	}
	f := rep.Failed[0]
	fmt.Fprintf(w, "\nfirst failing point: case %d, %s, crash of %s\n  fault:  %s\n  ✗ %s: %s\n  replay: %s\n",
		f.Case, f.Point, f.Target, f.Fault, f.Check, oneLine(f.Detail), f.Replay)
	const shown = 10
	if len(rep.Failed) > 1 {
		fmt.Fprintf(w, "\nother failing cases:\n")
	}
	for i, f := range rep.Failed[1:] {
		if i == shown {
			fmt.Fprintf(w, "  ... and %d more (--json lists them all)\n", len(rep.Failed)-1-shown)
			break
		}
		fmt.Fprintf(w, "  case %d, %s, crash of %s: %s\n", f.Case, f.Point, f.Target, f.Check)
	}
}
