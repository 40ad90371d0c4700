package simrun

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"

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

Exit status: 0 when every run is OK, 1 when any is not, 2 for usage errors.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if parallel < 1 {
				return usageErr("--parallel must be at least 1, got %d", parallel)
			}
			if seeds < 1 {
				return usageErr("--seeds must be at least 1, got %d", seeds)
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
				sw.Protocols = []string{"aligned", "unaligned", "hybrid"}
			}
			rows, failed, err := runSweep(sw, ref, parallel, cmd.ErrOrStderr())
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
			if out != "" {
				figs, err := reports.SweepFigures(out, sw.Name, rows)
				if err != nil {
					return usageErr("--out: %v", err)
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
	failed := 0
	for _, sw := range sws {
		rows, f, err := runSweep(sw, sw.Scenario.Name, parallel, cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		failed += f
		fmt.Fprintf(cmd.OutOrStdout(), "== sweep %s\n", sw.Name)
		printSweep(cmd.OutOrStdout(), sw, rows)
		if out != "" {
			if _, err := reports.SweepFigures(out, sw.Name, rows); err != nil {
				return usageErr("--out: %v", err)
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
// run, in grid order, and how many runs were not OK. A point that cannot be set up
// is a usage error before anything runs.
func runSweep(sw *scenarios.Sweep, ref string, workers int, progressTo io.Writer) ([]reports.SweepRow, int, error) {
	pts, err := sw.Points()
	if err != nil {
		return nil, 0, usageErr("%v", err)
	}
	rows := make([]reports.SweepRow, len(pts))
	forEach(len(pts), workers, progressTo, func(i int) {
		pt := &pts[i]
		res, err := runSetup(pt.Setup, ref, scenarios.RunOptions{Seed: pt.Seed})
		if err != nil {
			res = &scenarios.Result{Scenario: sw.Scenario.Name, Protocol: pt.Setup.Protocol, Seed: pt.Seed,
				Outcome: "error", Checks: []scenarios.Check{{Name: "run", Detail: err.Error()}}}
		}
		rows[i] = reports.NewSweepRow(sw, pt, res)
		rows[i].Replay = pt.Replay(ref, res.TraceHash)
	})
	reports.FillOverhead(rows)
	failed := 0
	for _, r := range rows {
		if !r.OK {
			failed++
		}
	}
	return rows, failed, nil
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
		if r.ModelAlignedMS > 0 && r.Protocol == "aligned" {
			model = num(r.ModelAlignedMS)
		}
		if r.BaselineRPS > 0 && r.Protocol != "none" {
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
