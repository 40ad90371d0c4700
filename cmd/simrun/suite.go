package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/reports"
	"github.com/ckptsim/ckptsim/scenarios"
	"github.com/spf13/cobra"
)

func suiteCmd() *cobra.Command {
	var (
		out         string
		parallel    int
		protocols   []string
		asJSON      bool
		determinism bool
	)
	c := &cobra.Command{
		Use:   "suite",
		Short: "Run every named scenario under every protocol, in parallel, and summarize",
		Long: `Run every named scenario (simrun list) under every protocol (simrun protocols,
except the deliberately broken mutant/ ones unless named with --protocols), on a
pool of worker goroutines, one independent run each. Prints a table, or with
--json an array of results in the same order; with --out writes DIR/results.json
and DIR/summary.txt.

Exit status: 0 when every run is OK, 1 when any is not, 2 for usage errors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if parallel < 1 {
				return usageErr("--parallel must be at least 1, got %d", parallel)
			}
			protos, err := suiteProtocols(protocols)
			if err != nil {
				return err
			}
			start := time.Now()
			results, tables := runSuite(scenarios.Registry(), protos, parallel, determinism, cmd.ErrOrStderr())
			wall := time.Since(start)

			var table bytes.Buffer
			failed := writeSummary(&table, results, parallel, wall)
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), results); err != nil {
					return err
				}
			} else if _, err := cmd.OutOrStdout().Write(table.Bytes()); err != nil {
				return err
			}
			if out != "" {
				if err := writeJSONFile(out, "results.json", results); err != nil {
					return err
				}
				if err := writeOut(out, "summary.txt", table.Bytes()); err != nil {
					return err
				}
				if err := writeReports(out, tables); err != nil {
					return err
				}
				if err := reports.WriteIndex(out, filepath.Join(out, "figures"), results); err != nil {
					return err
				}
			}
			if failed > 0 {
				return failErr("%d of %d runs failed", failed, len(results))
			}
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "write DIR/results.json and DIR/summary.txt")
	c.Flags().IntVar(&parallel, "parallel", runtime.NumCPU(), "number of runs at a time")
	c.Flags().StringSliceVar(&protocols, "protocols", nil, "comma-separated protocols to run (default: every registered one but mutant/*)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the results as one JSON array instead of the table")
	c.Flags().BoolVar(&determinism, "check-determinism", false, "run every scenario twice and check the trace hashes agree")
	return c
}

// suiteProtocols validates the protocols asked for, or lists the default ones.
func suiteProtocols(asked []string) ([]string, error) {
	if len(asked) == 0 {
		var names []string
		for _, n := range engine.ProtocolNames() {
			if !strings.HasPrefix(n, mutantPrefix) {
				names = append(names, n)
			}
		}
		return names, nil
	}
	seen := map[string]bool{}
	var names []string
	for _, n := range asked {
		if _, err := engine.LookupProtocol(n); err != nil {
			return nil, usageErr("--protocols: %v", err)
		}
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names, nil
}

// runSuite runs every scenario under every protocol on a pool of workers. The
// results come back in scenario-major order whatever the pool does; a run that
// cannot start or panics is a failed result. A progress bar goes to progressTo
// when it is a terminal.
func runSuite(scs []*scenarios.Scenario, protos []string, workers int, determinism bool, progressTo io.Writer) ([]*scenarios.Result, *reports.Tables) {
	type job struct {
		sc    *scenarios.Scenario
		proto string
	}
	jobs := make([]job, 0, len(scs)*len(protos))
	for _, sc := range scs {
		for _, p := range protos {
			jobs = append(jobs, job{sc, p})
		}
	}
	results := make([]*scenarios.Result, len(jobs))
	perRun := make([]reports.Tables, len(jobs)) // one per run: workers share nothing
	prog := newProgress(progressTo, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(jobs)) {
		wg.Go(func() {
			for i := range next {
				j := jobs[i]
				results[i] = suiteRun(j.sc, j.proto, determinism, func(rt *engine.Runtime) {
					perRun[i].Add(j.sc.Name, j.proto, rt)
				})
				prog.done()
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	prog.finish()
	var all reports.Tables
	for _, t := range perRun {
		all.Checkpoints = append(all.Checkpoints, t.Checkpoints...)
		all.Subtasks = append(all.Subtasks, t.Subtasks...)
		all.Failures = append(all.Failures, t.Failures...)
	}
	return results, &all
}

// writeReports writes the tidy tables under DIR/data and, per scenario, the
// checkpoint-duration figure (protocols overlaid) and the alignment / start-delay
// box plots under DIR/figures.
func writeReports(dir string, t *reports.Tables) error {
	if err := t.Write(filepath.Join(dir, "data")); err != nil {
		return err
	}
	figs := filepath.Join(dir, "figures")
	if err := os.MkdirAll(figs, 0o755); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, r := range t.Checkpoints {
		if seen[r.Scenario] {
			continue
		}
		seen[r.Scenario] = true
		if err := reports.CheckpointDurations(figs, r.Scenario+"-checkpoint-durations", r.Scenario, t.Checkpoints); err != nil &&
			!strings.Contains(err.Error(), "no completed checkpoint") {
			return err
		}
		if err := reports.AlignmentAndStartDelay(figs, r.Scenario+"-alignment", r.Scenario, t.Subtasks); err != nil &&
			!strings.Contains(err.Error(), "no subtask checkpoint") {
			return err
		}
	}
	return nil
}

// suiteRun runs one scenario under one protocol and always returns a result.
func suiteRun(sc *scenarios.Scenario, proto string, determinism bool, observe func(*engine.Runtime)) *scenarios.Result {
	start := time.Now()
	setup, err := sc.Setup(proto)
	if err == nil {
		var res *scenarios.Result
		if res, err = runSetup(setup, sc.Name, scenarios.RunOptions{Seed: setup.Seed, CheckDeterminism: determinism, Observe: observe}); err == nil {
			return res
		}
	}
	// Not started or panicked: a failed result that says why.
	res := &scenarios.Result{Scenario: sc.Name, Protocol: proto, Seed: sc.Seed, Outcome: "error",
		Checks: []scenarios.Check{{Name: "run", Detail: err.Error()}},
		Replay: scenarios.ReplayCommand(sc.Name, proto, sc.Seed, ""),
		WallMS: float64(time.Since(start).Microseconds()) / 1000}
	if setup != nil {
		res.Seed, res.Expected = setup.Seed, setup.Expect
		res.Replay = scenarios.ReplayCommand(sc.Name, proto, setup.Seed, "")
	}
	return res
}

// writeSummary writes the suite table and the failures with their replay
// commands, and returns how many runs failed.
func writeSummary(w io.Writer, results []*scenarios.Result, workers int, wall time.Duration) int {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tprotocol\tresult\toutcome\tcheckpoints\tp50 checkpoint ms\trestarts\twall ms")
	failed := 0
	for _, r := range results {
		verdict := "ok"
		if !r.OK {
			verdict = "FAIL"
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\n", r.Scenario, r.Protocol, verdict, r.Outcome,
			r.Checkpoints.Completed, num(r.Checkpoints.DurationMS.P50), r.Restarts, num(r.WallMS))
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d runs, %d ok, %d failed; %d workers, wall %v\n", len(results), len(results)-failed, failed,
		workers, wall.Round(time.Millisecond))
	for _, r := range results {
		if !r.OK {
			fmt.Fprintf(w, "\nFAIL %s\n  replay: %s\n", failureText(r), r.Replay)
			for _, c := range r.Checks {
				if !c.OK {
					writeCheck(w, "  ", c)
				}
			}
		}
	}
	return failed
}
