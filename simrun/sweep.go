package simrun

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/reports"
	"github.com/ckptsim/ckptsim/scenarios"
	"github.com/spf13/cobra"
)

func sweepCmd() *cobra.Command {
	var (
		file, name, out string
		params, sets    []string
		protocols       []string
		seeds, parallel int
		baseline        bool
		asJSON          bool
		builtin         string
		maxRuns         int
	)
	c := &cobra.Command{
		Use:   "sweep NAME --param KEY=V1,V2,... [--param ...]",
		Short: "Run a scenario over a grid of values under several protocols; write the data and figures",
		Long: `Run a scenario (by name, or --file) for every combination of the swept values,
under every protocol asked for, for --seeds seeds each, in parallel; print one
line per run and, with --out DIR, write DIR/NAME.csv and DIR/NAME.json (one row
per run) and the figures the data supports, as PNG and SVG:
  NAME--duration   end-to-end checkpoint duration against the first key (log y),
                   with the analytical model of an aligned checkpoint;
  NAME--size       checkpoint size (state + persisted in-flight data);
  NAME--recovery   time from a failure until caught up, and records reprocessed
                   (when runs restarted);
  NAME--overhead   throughput lost against runs without checkpoints (--baseline).

KEY is ` + scenarios.OverrideKeys + `.
--set KEY=VALUE fixes a value for every run (e.g. --set source.records=0 --set
'duration=30 s' turns a bounded benchmark into a 30-second unbounded one).

Example (figure 3 of the report):
  simrun sweep flink-checkpointing-benchmark-1ms --set source.records=0 --set 'duration=30 s' \
    --param 'sink.cost=100 us,1 ms,10 ms' --protocols aligned,unaligned,hybrid --out out/sweeps

A sweep of more than --max-runs runs (100000 unless raised) is refused before
anything runs; points are resolved one at a time as they run. With --out, what an
earlier sweep of the same name wrote there (NAME.csv, NAME.json, NAME--*) is
removed first. An interrupt (Ctrl-C) lets the runs in progress finish, prints
their rows with INTERRUPTED, writes nothing to --out and exits 130.

Exit status: 0 when every run is OK, 1 when any is not, 2 for usage errors, 130
when interrupted.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if parallel < 1 {
				return usageErr("--parallel must be at least 1, got %d", parallel)
			}
			if seeds < 1 {
				return usageErr("--seeds must be at least 1, got %d", seeds)
			}
			if err := checkOutputs(outDir{"--out", out}); err != nil {
				return err
			}
			if builtin != "" {
				if len(args) > 0 || file != "" || len(params) > 0 || len(sets) > 0 {
					return usageErr("--builtin runs the report's own sweeps: give no scenario, --file, --param or --set")
				}
				return runBuiltinSweeps(cmd, builtin, parallel, out)
			}
			sc, ref, err := scenarioArg(args, file)
			if err != nil {
				return err
			}
			sw := &scenarios.Sweep{Name: name, Scenario: sc, Seeds: seeds, Baseline: baseline}
			if sw.Name == "" {
				sw.Name = sc.Name + "-sweep"
			}
			if strings.ContainsAny(sw.Name, `/\`) {
				return usageErr("--name %q: a name, not a path", sw.Name)
			}
			for _, s := range sets {
				p, err := parseSet(s)
				if err != nil {
					return err
				}
				sw.Set = append(sw.Set, p)
			}
			for _, s := range params {
				p, err := scenarios.ParseParam(s)
				if err != nil {
					return usageErr("--param %v", err)
				}
				sw.Params = append(sw.Params, p)
			}
			if len(sw.Params) == 0 {
				return usageErr("sweep needs at least one --param KEY=V1,V2,...")
			}
			if sw.Protocols, err = suiteProtocols(protocols); err != nil {
				return err
			}
			if len(protocols) == 0 {
				sw.Protocols = []string{protocol.AlignedName, protocol.UnalignedName, protocol.HybridName}
			}
			if maxRuns < 1 {
				return usageErr("--max-runs must be at least 1, got %d", maxRuns)
			}
			if _, err := sw.Runs(maxRuns); err != nil {
				return usageErr("%v", err)
			}
			if out != "" {
				if err := clearSweepOutputs(out, sw.Name); err != nil {
					return err
				}
			}
			intr := catchInterrupts(cmd.ErrOrStderr())
			defer intr.stop()
			rows, failed, err := runSweep(sw, ref, parallel, maxRuns, cmd.ErrOrStderr(), intr.Done())
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), rows); err != nil {
					return err
				}
			} else {
				printSweep(cmd.OutOrStdout(), sw, rows)
			}
			if intr.interrupted() {
				n, _ := sw.Runs(maxRuns)
				fmt.Fprintf(cmd.OutOrStdout(), "INTERRUPTED after %d of %d runs: the rows above finished; nothing was written to --out\n", len(rows), n)
				return intr.err(fmt.Sprintf("%d of %d sweep runs finished", len(rows), n))
			}
			if out != "" {
				figs, err := reports.SweepFigures(out, sw.Name, rows)
				if err != nil {
					return usageErr("--out %s: %v", out, err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s/%s.csv, %s.json and %d figures\n", out, sw.Name, sw.Name, len(figs))
			}
			if failed > 0 {
				return failErr("%d of %d sweep runs failed a check (see the replay column)", failed, len(rows))
			}
			return nil
		},
	}
	c.Flags().StringVar(&file, "file", "", "run the scenario in this YAML file instead of a named one")
	c.Flags().StringVar(&name, "name", "", "name of the sweep's outputs (default NAME-sweep)")
	c.Flags().StringArrayVar(&params, "param", nil, "KEY=V1,V2,... to sweep (repeat for a grid; the first is the x axis)")
	c.Flags().StringArrayVar(&sets, "set", nil, "KEY=VALUE fixed for every run (repeatable)")
	c.Flags().StringSliceVar(&protocols, "protocols", nil, "comma-separated protocols (default aligned,unaligned,hybrid)")
	c.Flags().IntVar(&seeds, "seeds", 1, "seeds per point, from the scenario's seed up (figures show medians)")
	c.Flags().BoolVar(&baseline, "baseline", false, "also run every point without checkpoints, for the throughput overhead")
	c.Flags().StringVar(&out, "out", "", "write DIR/NAME.csv, DIR/NAME.json and the figures")
	c.Flags().IntVar(&parallel, "parallel", runtime.NumCPU(), "number of runs at a time")
	c.Flags().BoolVar(&asJSON, "json", false, "print the rows as one JSON array instead of the table")
	c.Flags().IntVar(&maxRuns, "max-runs", scenarios.DefaultMaxRuns, "refuse a sweep of more runs than this (values × protocols × seeds)")
	c.Flags().StringVar(&builtin, "builtin", "", "run one of the report's sweeps by name, or all ("+strings.Join(builtinSweepNames(), ", ")+")")
	return c
}

func builtinSweepNames() []string {
	sws, err := scenarios.BuiltinSweeps()
	if err != nil {
		return nil
	}
	var names []string
	for _, sw := range sws {
		names = append(names, sw.Name)
	}
	return names
}

// runBuiltinSweeps runs the report's sweeps (one by name, or all) and prints them;
// with out, writes their data and figures there.
func runBuiltinSweeps(cmd *cobra.Command, which string, parallel int, out string) error {
	sws, err := selectBuiltinSweeps(which)
	if err != nil {
		return err
	}
	if out != "" {
		for _, sw := range sws {
			if err := clearSweepOutputs(out, sw.Name); err != nil {
				return err
			}
		}
	}
	intr := catchInterrupts(cmd.ErrOrStderr())
	defer intr.stop()
	failed := 0
	for _, sw := range sws {
		rows, f, err := runSweep(sw, sw.Scenario.Name, parallel, scenarios.DefaultMaxRuns, cmd.ErrOrStderr(), intr.Done())
		if err != nil {
			return err
		}
		failed += f
		fmt.Fprintf(cmd.OutOrStdout(), "== sweep %s\n", sw.Name)
		printSweep(cmd.OutOrStdout(), sw, rows)
		if intr.interrupted() {
			fmt.Fprintf(cmd.OutOrStdout(), "INTERRUPTED in sweep %s after %d runs: nothing more was written to --out\n", sw.Name, len(rows))
			return intr.err("during sweep " + sw.Name)
		}
		if out != "" {
			if _, err := reports.SweepFigures(out, sw.Name, rows); err != nil {
				return usageErr("--out %s: %v", out, err)
			}
		}
	}
	if failed > 0 {
		return failErr("%d sweep runs failed a check", failed)
	}
	return nil
}

// selectBuiltinSweeps finds a built-in sweep by name, or all of them.
func selectBuiltinSweeps(which string) ([]*scenarios.Sweep, error) {
	sws, err := scenarios.BuiltinSweeps()
	if err != nil {
		return nil, err
	}
	if which == "all" {
		return sws, nil
	}
	for _, sw := range sws {
		if sw.Name == which {
			return []*scenarios.Sweep{sw}, nil
		}
	}
	return nil, usageErr("--builtin %q: no such sweep (%s, or all)", which, strings.Join(builtinSweepNames(), ", "))
}

// runSweep runs every point of a sweep on a pool of workers and returns one row per
// run, in grid order, and how many runs were not OK. A sweep of more than maxRuns
// runs, or with a point that cannot be set up, is a usage error before anything
// runs. Points are resolved as they run. Once stop is closed no new run starts
// and the rows are those of the runs that finished.
func runSweep(sw *scenarios.Sweep, ref string, workers, maxRuns int, progressTo io.Writer, stop <-chan struct{}) ([]reports.SweepRow, int, error) {
	n, err := sw.Runs(maxRuns)
	if err != nil {
		return nil, 0, usageErr("%v", err)
	}
	if err := sw.Check(); err != nil {
		return nil, 0, usageErr("%v", err)
	}
	rows := make([]reports.SweepRow, n)
	// the protocols of one point and seed share its fault-free reference; points
	// come value by value, then protocol, then seed
	refs := scenarios.NewReferenceCache(2*max(sw.Seeds, 1) + 4*max(workers, 1))
	started := forEach(n, workers, progressTo, stop, func(i int) {
		pt, err := sw.Point(i)
		if err != nil { // Check resolved every point: not expected
			rows[i] = reports.SweepRow{Scenario: sw.Scenario.Name, Values: err.Error()}
			return
		}
		res, err := runSetup(pt.Setup, ref, scenarios.RunOptions{Seed: pt.Seed, References: refs})
		if err != nil {
			res = &scenarios.Result{Scenario: sw.Scenario.Name, Protocol: pt.Setup.Protocol, Seed: pt.Seed,
				Outcome: "error", Checks: []scenarios.Check{{Name: "run", Detail: err.Error()}}}
		}
		rows[i] = reports.NewSweepRow(sw, &pt, res)
		rows[i].Replay = pt.Replay(ref, res.TraceHash)
	})
	rows = rows[:started]
	reports.FillOverhead(rows)
	failed := 0
	for _, r := range rows {
		if !r.OK {
			failed++
		}
	}
	return rows, failed, nil
}

// isClosed reports whether ch is closed (nil: never).
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// printSweep writes one line per run.
func printSweep(w io.Writer, sw *scenarios.Sweep, rows []reports.SweepRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "values\tprotocol\tseed\tresult\tcheckpoints\tp50 ms\tmodel ms\tsize\trestarts\tcaught up ms\treprocessed\trecords/s\toverhead")
	for _, r := range rows {
		verdict := "ok"
		if !r.OK {
			verdict = "FAIL"
		}
		model, overhead := "-", "-"
		if r.ModelAlignedMS > 0 && r.Protocol == protocol.AlignedName {
			model = num(r.ModelAlignedMS)
		}
		if r.BaselineRPS > 0 && r.Protocol != reports.NoCheckpoints {
			overhead = fmt.Sprintf("%.1f%%", r.OverheadPct)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", r.Values, r.Protocol, r.Seed, verdict,
			r.Completed, num(r.DurationP50MS), model, bytesText(r.CheckpointBytes), r.Restarts, num(r.CatchUpP50MS),
			r.Reprocessed, num(r.ProcessedRPS), overhead)
	}
	tw.Flush()
	for _, r := range rows {
		if !r.OK && r.Replay != "" {
			fmt.Fprintf(w, "FAIL %s %s\n  replay: %s\n", r.Values, r.Protocol, r.Replay)
		}
	}
	fmt.Fprintf(w, "\nreproduce: %s\n", sw.Command())
}
