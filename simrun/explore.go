package simrun

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/reports"
	"github.com/ckptsim/ckptsim/scenarios"
	"github.com/spf13/cobra"
)

func exploreCmd() *cobra.Command {
	var (
		runs        int
		seed        uint64
		protocol    string
		parallel    int
		shard       string
		shards      int
		determinism bool
		budget      time.Duration
		asJSON      bool
		caseSeed    uint64
		noShrink    bool
		hashes      string
		exhaustive  exhaustiveFlags
		profile     profileFlags
	)
	c := &cobra.Command{
		Use:   "explore",
		Short: "Random runs (swarm testing): random jobs, configurations and fault schedules, checked by every oracle",
		Long: `explore runs random cases of a job family (pipelines, fan-in, fan-out, joins,
windows; parallelism 1-4) with random configurations and swarm fault schedules
(a random subset of fault kinds with rates drawn from the seed), and checks every
oracle the protocol promises. Failures are listed with their shrunk fault
schedule and a replay command.

--shard i/n (or --shards n with the index from JOB_COMPLETION_INDEX, as in a
Kubernetes Indexed Job) runs case k when k mod n == i: the union of all shards
is the unsharded run, and results merge by seed.

--exhaustive SCENARIO searches systematically instead: it runs the scenario once
without faults and lists every point at which a crash could change the outcome
(each checkpoint trigger, barrier a task takes, snapshot, durable upload,
acknowledgement, completion and notification), and, when the scenario has faults
of its own, every point from the first restore they cause on (deployments,
restores, then the recovered run's checkpoints). It then runs one case per
(point, target) — a crash of each worker, of the coordinator (jobmanager) and of
the checkpoint store — under every oracle, and names the first failing point
with its replay command (--point N). --list prints the cases without running
them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if exhaustive.scenario != "" {
				return runExhaustive(cmd, &exhaustive, protocol, seed, parallel, determinism, asJSON)
			}
			for _, name := range exhaustiveOnly {
				if cmd.Flags().Changed(name) {
					return usageErr("--%s needs --exhaustive SCENARIO", name)
				}
			}
			opts := scenarios.ExploreOptions{Runs: runs, Seed: seed, Parallel: parallel, MaxFailures: exhaustive.maxFailures,
				CheckDeterminism: determinism, TimeBudget: budget, Shrink: !noShrink, RecordCases: hashes != ""}
			if runs < 0 || parallel < 0 || budget < 0 || exhaustive.maxFailures < 0 {
				return usageErr("--runs, --parallel, --time-budget and --max-failures must not be negative")
			}
			switch {
			case protocol == "all" || protocol == "":
			case strings.HasPrefix(protocol, "mutant/") || contains(checkpoint.Names(), protocol):
				if _, err := checkpoint.Lookup(protocol); err != nil {
					return usageErr("%v", err)
				}
				opts.Protocol = protocol
			default:
				_, err := checkpoint.Lookup(protocol)
				return usageErr("%v", err)
			}
			i, n, err := parseShard(shard, shards)
			if err != nil {
				return usageErr("%v", err)
			}
			opts.Shard, opts.Shards = i, n
			if cmd.Flags().Changed("case") {
				opts.Cases = []uint64{caseSeed}
			}
			total := runs / n
			if opts.Cases != nil {
				total = len(opts.Cases)
			}
			bar := newProgress(cmd.ErrOrStderr(), total)
			opts.Progress = func(int, int) { bar.done() }
			if !asJSON {
				fmt.Fprintf(cmd.OutOrStdout(), "exploring %d cases (root seed %d, shard %d/%d, protocol %s)\n",
					total, seed, i, n, orAll(opts.Protocol))
			}
			stopProfile, err := profile.start()
			if err != nil {
				return err
			}
			rep := scenarios.Explore(opts)
			bar.finish()
			if err := stopProfile(); err != nil {
				return err
			}
			if hashes != "" {
				if err := reports.WriteFileAtomic(hashes, caseHashes(rep.Cases)); err != nil {
					return err
				}
				rep.Cases = nil // in the file, not in the report
			}
			if asJSON {
				if err := json.NewEncoder(cmd.OutOrStdout()).Encode(rep); err != nil {
					return err
				}
			} else {
				printExplore(cmd, rep)
			}
			if rep.Failures > 0 || rep.DeterminismMismatches > 0 {
				return failErr("%d of %d runs failed, %d determinism mismatches", rep.Failures, rep.Runs, rep.DeterminismMismatches)
			}
			return nil
		},
	}
	f := c.Flags()
	f.IntVar(&runs, "runs", 100, "number of random cases (across all shards)")
	f.Uint64Var(&seed, "seed", 1, "root seed: case k's seed derives from (seed, k)")
	f.StringVar(&protocol, "protocol", "all", "protocol to run every case under, or all (a random correct protocol per case); mutant/NAME selects a mutant")
	f.IntVar(&parallel, "parallel", 0, "concurrent runs (default: number of CPUs)")
	f.StringVar(&shard, "shard", "", "run shard i of n, written i/n")
	f.IntVar(&shards, "shards", 0, "number of shards; the shard index comes from JOB_COMPLETION_INDEX")
	f.BoolVar(&determinism, "check-determinism", false, "run each case twice and compare trace hashes")
	f.DurationVar(&budget, "time-budget", 0, "stop starting new cases after this much wall time (e.g. 5m)")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	f.Uint64Var(&caseSeed, "case", 0, "replay exactly one case by its seed (from a failure's replay command)")
	f.BoolVar(&noShrink, "no-shrink", false, "do not shrink the fault schedules of failures")
	f.StringVar(&hashes, "hashes", "", "also write FILE: one line per case run, in case order: seed, protocol, scenario, trace hash (diff two to prove a change alters no run)")
	exhaustive.add(c)
	profile.register(c)
	return c
}

// caseHashes is the --hashes file: one line per case, "seed protocol scenario hash".
func caseHashes(cases []scenarios.ExploreCase) []byte {
	var b strings.Builder
	for _, c := range cases {
		fmt.Fprintf(&b, "%d %s %s %s\n", c.Seed, c.Protocol, c.Scenario, c.TraceHash)
	}
	return []byte(b.String())
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func orAll(p string) string {
	if p == "" {
		return "all"
	}
	return p
}

// parseShard reads --shard i/n, or --shards n with i from JOB_COMPLETION_INDEX.
func parseShard(shard string, shards int) (int, int, error) {
	if shard != "" {
		a, b, ok := strings.Cut(shard, "/")
		i, err1 := strconv.Atoi(a)
		n, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
			return 0, 0, fmt.Errorf("--shard %q: want i/n with 0 <= i < n", shard)
		}
		return i, n, nil
	}
	if shards < 0 {
		return 0, 0, fmt.Errorf("--shards must be positive")
	}
	if shards > 0 {
		idx := os.Getenv("JOB_COMPLETION_INDEX")
		i, err := strconv.Atoi(idx)
		if err != nil || i < 0 || i >= shards {
			return 0, 0, fmt.Errorf("--shards %d needs JOB_COMPLETION_INDEX in [0, %d), got %q", shards, shards, idx)
		}
		return i, shards, nil
	}
	if idx := os.Getenv("JOB_COMPLETION_INDEX"); idx != "" {
		return 0, 0, fmt.Errorf("JOB_COMPLETION_INDEX is set: say how many shards there are with --shards")
	}
	return 0, 1, nil
}

func printExplore(cmd *cobra.Command, rep *scenarios.ExploreReport) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "%d runs, %d failures, %d determinism mismatches", rep.Runs, rep.Failures, rep.DeterminismMismatches)
	if rep.Skipped > 0 {
		fmt.Fprintf(w, ", %d not run (time budget or enough failures)", rep.Skipped)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "wall %s s, %s runs/s, %d at a time\n", num(rep.WallMS/1000), num(rep.RunsPerSecond), rep.Parallel)
	for _, f := range rep.Failed {
		fmt.Fprintf(w, "\n✗ case %d (%s, %s): %s\n  %s\n  swarm: %s\n", f.Seed, f.Scenario, f.Protocol, f.Check, oneLine(f.Detail), f.Swarm)
		for _, s := range f.Faults {
			fmt.Fprintf(w, "  fault: %s\n", s)
		}
		if f.Shrunk != nil {
			fmt.Fprintf(w, "  shrunk to %d fault(s):\n", len(f.Shrunk))
			for _, s := range f.Shrunk {
				fmt.Fprintf(w, "    %s\n", s)
			}
		}
		fmt.Fprintf(w, "  replay: %s\n", f.Replay)
	}
	fmt.Fprintln(w, "\ncoverage (runs that reached each situation):")
	for _, name := range scenarios.CoverageNames(rep.Coverage) {
		fmt.Fprintf(w, "  %-40s %d\n", name, rep.Coverage[name])
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
