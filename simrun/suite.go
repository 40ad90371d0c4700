package simrun

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
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
		withSweeps  bool
		force       bool
	)
	c := &cobra.Command{
		Use:   "suite",
		Short: "Run every named scenario under every protocol, in parallel, and summarize",
		Long: `Run every named scenario (simrun list) under every protocol (simrun protocols,
except the deliberately broken mutant/ ones unless named with --protocols), on a
pool of worker goroutines, one independent run each. Prints a table, or with
--json an array of results in the same order. With --out DIR it writes the whole
report: DIR/results.json, DIR/summary.txt, the tidy tables in DIR/data, the
figures (PNG and SVG, each with its data) in DIR/figures — a timeline per run,
a Chrome trace per run in DIR/traces (open it in ui.perfetto.dev),
checkpoint durations and alignment box plots per scenario, and the sweeps of
figures 3 to 7 (unless --sweeps=false) — and DIR/index.html, which opens from
the file system.

With --out into the directory of an earlier suite, its outputs (index.html,
results.json, summary.txt, wall-clock.json, data/, figures/, scenarios/, sweeps/,
traces/) are removed first; a non-empty directory that is not an earlier suite's
output is refused unless --force (other files stay).

An interrupt (Ctrl-C) lets the runs in progress finish, writes the summary (and
results.json) of what finished with INTERRUPTED at the top, and exits 130; a
second interrupt quits at once.

Exit status: 0 when every run is OK, 1 when any is not, 2 for usage errors, 130
when interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if parallel < 1 {
				return usageErr("--parallel must be at least 1, got %d", parallel)
			}
			protos, err := suiteProtocols(protocols)
			if err != nil {
				return err
			}
			if err := checkOutputs(outDir{"--out", out}); err != nil {
				return err
			}
			traceDir := ""
			if out != "" {
				if err := prepareSuiteDir(out, force); err != nil {
					return err
				}
				traceDir = filepath.Join(out, "traces")
				if err := os.MkdirAll(traceDir, 0o755); err != nil {
					return usageErr("--out: %v", err)
				}
			}
			intr := catchInterrupts(cmd.ErrOrStderr())
			defer intr.stop()
			start := time.Now() // wall time, reported only
			scs := scenarios.Registry()
			results, tables := runSuite(scs, protos, parallel, determinism, traceDir, cmd.ErrOrStderr(), intr.Done())
			wall := time.Since(start)

			header := ""
			if intr.interrupted() {
				header = fmt.Sprintf("INTERRUPTED after %d of %d runs: the runs below finished; no report was written\n\n",
					len(results), len(scs)*len(protos))
			}
			var table bytes.Buffer
			table.WriteString(header)
			failed := writeSummary(&table, results, parallel, wall)
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), results); err != nil {
					return err
				}
			} else if _, err := cmd.OutOrStdout().Write(table.Bytes()); err != nil {
				return err
			}
			if out != "" {
				if err := writeSuiteResults(out, header, results, parallel, wall); err != nil {
					return err
				}
			}
			if intr.interrupted() {
				return intr.err(fmt.Sprintf("%d of %d runs finished", len(results), len(scs)*len(protos)))
			}
			if out != "" {
				if err := writeReports(out, tables); err != nil {
					return usageErr("--out %s: %v", out, err)
				}
				var sweeps []reports.IndexSweep
				if withSweeps {
					var sweepFailed int
					if sweeps, sweepFailed, err = writeSweeps(out, parallel, cmd.ErrOrStderr(), intr.Done()); err != nil {
						return err
					}
					if intr.interrupted() {
						header := fmt.Sprintf("INTERRUPTED during the report's sweeps (%d of %d written): every scenario run below finished; no index was written\n\n",
							len(sweeps), len(builtinSweepNames()))
						if err := writeSuiteResults(out, header, results, parallel, wall); err != nil {
							return err
						}
						return intr.err("during the report's sweeps")
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%d sweeps (figures 3-7) written to %s, %d sweep runs failed\n",
						len(sweeps), filepath.Join(out, "figures"), sweepFailed)
					failed += sweepFailed
				}
				if err := reports.WriteIndex(out, filepath.Join(out, "figures"), results, sweeps); err != nil {
					return usageErr("--out %s: %v", out, err)
				}
			}
			if failed > 0 {
				return failErr("%d runs failed", failed)
			}
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "write the report into DIR (an earlier suite's output there is replaced)")
	c.Flags().BoolVar(&force, "force", false, "with --out, write into a non-empty directory that is not an earlier suite's output")
	c.Flags().IntVar(&parallel, "parallel", runtime.NumCPU(), "number of runs at a time")
	c.Flags().StringSliceVar(&protocols, "protocols", nil, "comma-separated protocols to run (default: every registered one but mutant/*)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the results as one JSON array instead of the table")
	c.Flags().BoolVar(&determinism, "check-determinism", false, "run every scenario twice and check the trace hashes agree")
	c.Flags().BoolVar(&withSweeps, "sweeps", true, "with --out, also run the report's sweeps (figures 3 to 7; see simrun sweep --builtin)")
	return c
}

// writeSuiteResults writes results.json, summary.txt (header, then the table)
// and wall-clock.json into DIR. Wall-clock times go to wall-clock.json only:
// every other file of the suite's output is the same, byte for byte, when the
// same suite runs again.
func writeSuiteResults(out, header string, results []*scenarios.Result, workers int, wall time.Duration) error {
	if err := writeJSONFile(out, "results.json", withoutWallClock(results)); err != nil {
		return err
	}
	var untimed bytes.Buffer
	untimed.WriteString(header)
	writeSummary(&untimed, results, workers, 0)
	if err := writeOut(out, "summary.txt", untimed.Bytes()); err != nil {
		return err
	}
	return writeWallClock(out, results, workers, wall)
}

// suiteProtocols validates the protocols asked for, or lists the default ones.
func suiteProtocols(asked []string) ([]string, error) {
	if len(asked) == 0 {
		var names []string
		for _, n := range checkpoint.Names() {
			if !strings.HasPrefix(n, mutantPrefix) {
				names = append(names, n)
			}
		}
		return names, nil
	}
	seen := map[string]bool{}
	var names []string
	for _, n := range asked {
		if _, err := checkpoint.Lookup(n); err != nil {
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
// cannot start or panics is a failed result. With traceDir, each run's Chrome
// trace is written there. A progress bar goes to progressTo when it is a terminal.
//
// Once stop is closed no new run starts; the results are then those of the runs
// that finished, still in order.
func runSuite(scs []*scenarios.Scenario, protos []string, workers int, determinism bool, traceDir string, progressTo io.Writer, stop <-chan struct{}) ([]*scenarios.Result, *reports.Tables) {
	type job struct {
		sc    *scenarios.Scenario
		proto string
	}
	jobs := make([]job, 0, len(scs)*len(protos))
	for _, sc := range scs {
		for _, p := range protos {
			if !scenarios.AppliesTo(sc, p) {
				continue // e.g. a rescale under a protocol that refuses rescaling
			}
			jobs = append(jobs, job{sc, p})
		}
	}
	results := make([]*scenarios.Result, len(jobs))
	perRun := make([]reports.Tables, len(jobs)) // one per run: workers share nothing
	// a scenario's protocols share its fault-free reference; jobs come scenario by
	// scenario, so a few entries per worker hold every reference still needed
	refs := scenarios.NewReferenceCache(4 * max(workers, 1))
	started := forEach(len(jobs), workers, progressTo, stop, func(i int) {
		j := jobs[i]
		var tl *reports.Timeline
		var log []faults.Injected
		var trace *reports.ChromeTrace
		if traceDir != "" {
			trace = &reports.ChromeTrace{Scenario: j.sc.Name, Protocol: j.proto} // Seed: the run's, at Attach
		}
		results[i] = suiteRun(j.sc, j.proto, scenarios.RunOptions{
			CheckDeterminism: determinism,
			References:       refs,
			Attach: func(rt *engine.Runtime) {
				tl = reports.AttachTimeline(rt, 0)
				if trace != nil {
					trace.Seed = rt.World().Seed()
					trace.Attach(rt)
				}
			},
			ObserveFaults: func(l []faults.Injected) {
				log = l
				if trace != nil {
					trace.SetFaults(l)
				}
			},
			Observe: func(rt *engine.Runtime) {
				perRun[i].Add(j.sc.Name, j.proto, rt)
				perRun[i].Timeline = tl.Rows(j.sc.Name, j.proto)
			},
		})
		if n := len(perRun[i].Timeline); n > 0 {
			perRun[i].Faults = reports.FaultWindows(j.sc.Name, j.proto, log, perRun[i].Timeline[n-1].EndMS)
		}
		if trace != nil && results[i].TraceHash != "" {
			name := filepath.Join(traceDir, reports.FigureName(j.sc.Name, j.proto, "trace")+".json")
			if err := trace.WriteFile(name); err != nil {
				results[i].Checks = append(results[i].Checks, scenarios.Check{Name: "trace", Detail: err.Error()})
				results[i].OK = false
			}
		}
	})
	var all reports.Tables
	for i := range perRun[:started] {
		all.Append(&perRun[i])
	}
	return results[:started], &all
}

// writeReports writes the tidy tables under DIR/data and, under DIR/figures, per
// scenario the checkpoint-duration figure (protocols overlaid) and the alignment /
// start-delay box plots, and per run its timeline.
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
		if err := reports.CheckpointDurations(figs, reports.FigureName(r.Scenario, "", "checkpoint-durations"), r.Scenario, t.Checkpoints); err != nil &&
			!strings.Contains(err.Error(), "no completed checkpoint") {
			return err
		}
		if err := reports.AlignmentAndStartDelay(figs, reports.FigureName(r.Scenario, "", "alignment"), r.Scenario, t.Subtasks); err != nil &&
			!strings.Contains(err.Error(), "no subtask checkpoint") {
			return err
		}
	}
	return writeTimelines(figs, t)
}

// writeTimelines draws figure 1 for every run that has a timeline.
func writeTimelines(figs string, t *reports.Tables) error {
	type run struct{ scenario, protocol string }
	buckets := map[run][]reports.TimelineRow{}
	var order []run
	for _, r := range t.Timeline {
		k := run{r.Scenario, r.Protocol}
		if buckets[k] == nil {
			order = append(order, k)
		}
		buckets[k] = append(buckets[k], r)
	}
	cps := map[run][]reports.CheckpointRow{}
	for _, c := range t.Checkpoints {
		k := run{c.Scenario, c.Protocol}
		cps[k] = append(cps[k], c)
	}
	fws := map[run][]reports.FaultWindow{}
	for _, f := range t.Faults {
		k := run{f.Scenario, f.Protocol}
		fws[k] = append(fws[k], f)
	}
	for _, k := range order {
		title := fmt.Sprintf("Run timeline — %s, %s", k.scenario, k.protocol)
		if err := reports.TimelineFigure(figs, reports.FigureName(k.scenario, k.protocol, "timeline"), title,
			buckets[k], cps[k], fws[k]); err != nil {
			return err
		}
	}
	return nil
}

// writeSweeps runs the report's sweeps (figures 3 to 7) and writes their data and
// figures into DIR/figures; it returns them for the index and how many runs failed.
//
// Once stop is closed it returns the sweeps written so far.
func writeSweeps(dir string, workers int, progressTo io.Writer, stop <-chan struct{}) ([]reports.IndexSweep, int, error) {
	sws, err := scenarios.BuiltinSweeps()
	if err != nil {
		return nil, 0, err
	}
	for _, sw := range sws { // every point resolves before any runs
		if _, err := sw.Runs(scenarios.DefaultMaxRuns); err != nil {
			return nil, 0, err
		}
		if err := sw.Check(); err != nil {
			return nil, 0, err
		}
	}
	figs := filepath.Join(dir, "figures")
	var out []reports.IndexSweep
	failed := 0
	for _, sw := range sws {
		rows, f, err := runSweep(sw, sw.Scenario.Name, workers, scenarios.DefaultMaxRuns, progressTo, stop)
		if err != nil {
			return nil, 0, err
		}
		if isClosed(stop) {
			return out, failed, nil
		}
		failed += f
		names, err := reports.SweepFigures(figs, sw.Name, rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, reports.IndexSweep{Name: sw.Name, Description: sweepDescription(sw), Command: sw.Command(),
			Rows: rows, Figures: names, Headline: sweepHeadline[sw.Name]})
	}
	return out, failed, nil
}

// sweepHeadline is the figure each built-in sweep is run for.
var sweepHeadline = map[string]string{"backpressure": "backpressure--duration", "inflight-buffers": "inflight-buffers--size",
	"recovery-interval": "recovery-interval--recovery", "checkpoint-overhead": "checkpoint-overhead--overhead",
	scenarios.CheckmateSweep: scenarios.CheckmateSweep + "--costs"}

// sweepDescription says what a built-in sweep shows.
func sweepDescription(sw *scenarios.Sweep) string {
	switch sw.Name {
	case "backpressure":
		return "Figure 3: end-to-end checkpoint duration against backpressure (the sink's cost per record) in Flink's " +
			"checkpointing benchmark. Aligned barriers queue behind the in-flight data of both exchanges and follow the " +
			"analytical model (dashed); unaligned ones overtake it and stay flat; hybrid (aligned, unaligned after a 50 ms timeout) sits in between."
	case "inflight-buffers":
		return "Figure 4: checkpoint size (state + persisted in-flight data) against the floating buffers per input gate. " +
			"Unaligned checkpoints store the in-flight data they overtake, so they grow with the buffers; aligned ones store state only."
	case "recovery-interval":
		return "Figure 5: recovery after a worker crash against the checkpoint interval: the time to restore and the records reprocessed since the restored checkpoint."
	case "checkpoint-overhead":
		return "Figure 6: throughput lost to checkpointing against the checkpoint interval, relative to the same run without checkpoints, " +
			"for a saturated keyed aggregation whose synchronous snapshots copy about a megabyte per subtask."
	case scenarios.CheckmateSweep:
		return "Figure 7: CheckMate's comparison (docs/checkmate.md): coordinated (aligned, unaligned), uncoordinated " +
			"and communication-induced checkpointing of a running sum of bids per auction against the share of the hot key, " +
			"with one worker failure: checkpoint duration, bytes written, protocol messages, latency and replay."
	}
	return "Sweep of " + sw.Scenario.Name
}

// suiteRun runs one scenario under one protocol and always returns a result.
func suiteRun(sc *scenarios.Scenario, proto string, opts scenarios.RunOptions) *scenarios.Result {
	start := time.Now()
	setup, err := sc.Setup(proto)
	if err == nil {
		var res *scenarios.Result
		opts.Seed = setup.Seed
		if res, err = runSetup(setup, sc.Name, opts); err == nil {
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
// commands, and returns how many runs failed. With wall 0 it leaves out every
// wall-clock time (summary.txt, which must be reproducible).
func writeSummary(w io.Writer, results []*scenarios.Result, workers int, wall time.Duration) int {
	timed := wall > 0
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "scenario\tprotocol\tresult\toutcome\tcheckpoints\tp50 checkpoint ms\trestarts"
	if timed {
		header += "\twall ms"
	}
	fmt.Fprintln(tw, header)
	failed := 0
	for _, r := range results {
		verdict := "ok"
		switch {
		case !r.OK:
			verdict = "FAIL"
			failed++
		case r.Outcome == scenarios.OutcomeNotApplicable:
			verdict = "n/a"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%d", r.Scenario, r.Protocol, verdict, r.Outcome,
			r.Checkpoints.Completed, num(r.Checkpoints.DurationMS.P50), r.Restarts)
		if timed {
			fmt.Fprintf(tw, "\t%s", num(r.WallMS))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d runs, %d ok, %d failed", len(results), len(results)-failed, failed)
	if timed {
		fmt.Fprintf(w, "; %d workers, wall %v", workers, wall.Round(time.Millisecond))
	}
	fmt.Fprintln(w)
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
