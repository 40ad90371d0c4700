package simrun

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/ckptsim/ckptsim/reports"
	"github.com/ckptsim/ckptsim/scenarios"
	"github.com/spf13/cobra"
)

// runFlags are the flags of run and replay.
type runFlags struct {
	file        string
	protocol    string
	seed        uint64
	out         string
	json        bool
	determinism bool
	trace       string
	sets        []string
	expectHash  string // replay only
	profile     profileFlags
}

func (f *runFlags) register(c *cobra.Command) {
	c.Flags().StringVarP(&f.file, "file", "f", "", "run the scenario in this YAML file instead of a named one")
	c.Flags().StringVarP(&f.protocol, "protocol", "p", "", "checkpoint protocol (simrun protocols); default: the one the scenario's config selects")
	c.Flags().Uint64Var(&f.seed, "seed", 0, "root seed of the run (default: the scenario's seed)")
	c.Flags().StringVar(&f.out, "out", "", "also write the result to DIR/result.json")
	c.Flags().BoolVar(&f.json, "json", false, "print the result as one JSON object instead of a summary")
	c.Flags().BoolVar(&f.determinism, "check-determinism", false, "run twice and check both runs have the same trace hash")
	c.Flags().StringVar(&f.trace, "trace", "", "also write a Chrome trace of the run with faults to FILE (open it in ui.perfetto.dev)")
	c.Flags().StringArrayVar(&f.sets, "set", nil, "KEY=VALUE: override one value of the scenario (repeatable; see simrun sweep --help for the keys)")
	f.profile.register(c)
}

// applySets applies --set KEY=VALUE overrides to a copy of the scenario.
func applySets(sc *scenarios.Scenario, sets []string) (*scenarios.Scenario, error) {
	if len(sets) == 0 {
		return sc, nil
	}
	sc = sc.Clone()
	for _, s := range sets {
		p, err := parseSet(s)
		if err != nil {
			return nil, err
		}
		if err := sc.Override(p.Key, p.Values[0]); err != nil {
			return nil, usageErr("--set %s: %v", s, err)
		}
	}
	return sc, nil
}

// parseSet reads one --set KEY=VALUE (the value is taken whole, commas and all).
func parseSet(s string) (scenarios.Param, error) {
	key, value, ok := strings.Cut(s, "=")
	if key = strings.TrimSpace(key); !ok || key == "" {
		return scenarios.Param{}, usageErr("--set %q: expected KEY=VALUE", s)
	}
	return scenarios.Param{Key: key, Values: []string{strings.TrimSpace(value)}}, nil
}

const traceHelp = `
With --trace FILE, the run with faults is also written to FILE in the Chrome Trace
Event format (JSON), in simulated time: a process per worker and a thread per
subtask with its checkpoints' alignment, sync and async phases and its restores,
the checkpoints on the job manager, barriers as arrows between subtasks, faults,
crashes and restarts as instants, and in-flight bytes and busy/backpressured
counters per subtask. Open it in https://ui.perfetto.dev ("Open trace file") or in
chrome://tracing. Recording does not change the run: the trace hash is the same.`

const exitCodesHelp = `
Exit status: 0 when every check the protocol promises passed (or the scenario's
expected failure happened), 1 when a check failed (the output names it and the
command that replays it), 2 for usage and input errors.`

func runCmd() *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run NAME | --file F",
		Short: "Run one scenario and check every oracle its protocol promises",
		Long: `Run one named scenario (simrun list) or a scenario file under a checkpoint
protocol, check every oracle the protocol promises, and print a summary: the
checks, the key metrics and the one-line command that replays the run exactly.
` + traceHelp + "\n" + exitCodesHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScenario(cmd, args, &f, false)
		},
	}
	f.register(c)
	return c
}

func replayCmd() *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "replay NAME | --file F [--seed N] [--protocol P] [--expect-hash H]",
		Short: "Replay a run exactly; with --expect-hash, also fail when the trace hash differs",
		Long: `Replay a run: the same scenario, protocol and seed give the same trace hash on
any machine. With --expect-hash, a different trace hash is a failure (exit 1) and
both hashes are printed.
` + traceHelp + "\n" + exitCodesHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScenario(cmd, args, &f, true)
		},
	}
	f.register(c)
	c.Flags().StringVar(&f.expectHash, "expect-hash", "", "the trace hash the run must reproduce (hex)")
	return c
}

// scenarioArg resolves the scenario of run and replay: a NAME argument or --file,
// exactly one. It also returns how a replay command names it.
func scenarioArg(args []string, file string) (*scenarios.Scenario, string, error) {
	switch {
	case len(args) == 1 && file != "":
		return nil, "", usageErr("give a scenario NAME or --file F, not both")
	case len(args) == 1:
		sc, err := lookupScenario(args[0])
		return sc, args[0], err
	case file != "":
		sc, err := scenarios.Load(file)
		if err != nil {
			return nil, "", usageErr("%v", err)
		}
		return sc, "--file " + scenarios.ShellWord(file), nil
	}
	return nil, "", usageErr("give a scenario NAME (simrun list) or --file F")
}

func runScenario(cmd *cobra.Command, args []string, f *runFlags, replay bool) error {
	if replay && f.expectHash != "" && !isHex(f.expectHash) {
		return usageErr("--expect-hash %q is not a hexadecimal trace hash", f.expectHash)
	}
	sc, ref, err := scenarioArg(args, f.file)
	if err != nil {
		return err
	}
	if sc, err = applySets(sc, f.sets); err != nil {
		return err
	}
	setup, err := sc.Setup(f.protocol)
	if err != nil {
		if f.file != "" {
			return usageErr("%s: %v", f.file, err)
		}
		return usageErr("%v", err) // the error names the scenario
	}
	if cmd.Flags().Changed("seed") {
		setup.Seed = f.seed
	}
	opts := scenarios.RunOptions{Seed: setup.Seed, CheckDeterminism: f.determinism}
	if err := checkOutputs(outFile{"--trace", f.trace}, outDir{"--out", f.out}); err != nil {
		return err
	}
	var trace *reports.ChromeTrace
	if f.trace != "" {
		trace = &reports.ChromeTrace{Scenario: setup.Name, Protocol: setup.Protocol, Seed: setup.Seed}
		opts.Attach, opts.ObserveFaults = trace.Attach, trace.SetFaults
	}
	stopProfile, err := f.profile.start()
	if err != nil {
		return err
	}
	heap := startHeapSampler()
	res, err := runSetup(setup, ref, opts)
	peak := heap.Stop()
	if perr := stopProfile(); err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	res.PeakHeapBytes = peak
	for _, kv := range f.sets { // the replay command carries the overrides
		res.Replay += " --set " + scenarios.ShellWord(kv)
	}
	if trace != nil {
		if err := trace.WriteFile(f.trace); err != nil {
			return usageErr("--trace %s: %v", f.trace, err)
		}
	}

	out := cmd.OutOrStdout()
	if f.json {
		if err := writeJSON(out, res); err != nil {
			return err
		}
	} else {
		printResult(out, res)
		if trace != nil {
			fmt.Fprintf(out, "chrome trace   %s (open it in ui.perfetto.dev)\n", f.trace)
		}
	}
	if f.out != "" {
		if err := writeJSONFile(f.out, "result.json", res); err != nil {
			return err
		}
	}

	var problems []string
	if !res.OK {
		problems = append(problems, failureText(res))
	}
	if replay && f.expectHash != "" && !sameHash(res.TraceHash, f.expectHash) {
		problems = append(problems, fmt.Sprintf("trace hash %s differs from the expected %s", res.TraceHash, f.expectHash))
	}
	if len(problems) > 0 {
		return failErr("%s\nreplay: %s", strings.Join(problems, "; "), res.Replay)
	}
	return nil
}

// runSetup runs one resolved scenario. ref is how a replay command names the
// scenario (a registry name, or --file PATH). Run only returns errors for setups
// it cannot start (a task a fault names does not exist, say): input errors, exit
// status 2. A panic of the run becomes an error with exit status 1 that names the
// replay command.
func runSetup(setup *scenarios.Setup, ref string, opts scenarios.RunOptions) (res *scenarios.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, failErr("%s under %s (seed %d) panicked: %v\nreplay: %s", setup.Name, setup.Protocol,
				setup.Seed, r, scenarios.ReplayCommand(ref, setup.Protocol, setup.Seed, ""))
		}
	}()
	res, err = scenarios.Run(setup, opts)
	if err != nil {
		return nil, usageErr("%s: %v", setup.Name, err)
	}
	// For a scenario file, the replay command names the file, not the scenario.
	res.Replay = scenarios.ReplayCommand(ref, res.Protocol, res.Seed, res.TraceHash)
	return res, nil
}

// failureText says in one line why a result is not OK: the checks that failed, or
// the outcome that was not the expected one. The details are in the result.
func failureText(res *scenarios.Result) string {
	var failed []string
	for _, c := range res.Checks {
		if !c.OK {
			failed = append(failed, c.Name)
		}
	}
	head := fmt.Sprintf("%s under %s (seed %d): ", res.Scenario, res.Protocol, res.Seed)
	if len(failed) > 0 {
		return head + "failed " + strings.Join(failed, ", ")
	}
	return head + fmt.Sprintf("expected outcome %s, got %s", res.Expected, res.Outcome)
}

// writeCheck writes one check's verdict, its detail's further lines indented.
func writeCheck(w io.Writer, indent string, c scenarios.Check) {
	mark := "✓"
	switch {
	case !c.OK:
		mark = "✗"
	case c.Skipped:
		mark = "–"
	}
	line := indent + mark + " " + c.Name
	if c.Detail != "" {
		line += ": " + strings.ReplaceAll(c.Detail, "\n", "\n"+indent+"    ")
	}
	fmt.Fprintln(w, line)
}

// printResult writes the readable summary of one run.
func printResult(w io.Writer, r *scenarios.Result) {
	verdict := "OK"
	switch {
	case !r.OK:
		verdict = "FAILED"
	case r.Outcome == scenarios.OutcomeNotApplicable:
		verdict = "NOT APPLICABLE (nothing failed, nothing of the scenario tested)"
	}
	fmt.Fprintf(w, "%s under %s, seed %d: %s\n", r.Scenario, r.Protocol, r.Seed, verdict)
	fmt.Fprintf(w, "  outcome      %s (expected %s)\n", r.Outcome, r.Expected)
	if r.GuaranteeNote != "" {
		fmt.Fprintf(w, "  guarantee    %s: %s\n", r.Guarantee, r.GuaranteeNote)
	}
	fmt.Fprintln(w, "checks")
	for _, c := range r.Checks {
		writeCheck(w, "  ", c)
	}
	cp := &r.Checkpoints
	fmt.Fprintln(w, "metrics")
	fmt.Fprintf(w, "  simulated    %s s, %d events, %d records, %s records/s\n",
		num(r.SimTimeMS/1000), r.Events, r.Records, num(r.ThroughputRPS))
	fmt.Fprintf(w, "  wall         %s ms, %s simulated s per wall s", num(r.WallMS), num(r.SimSecondsPerWallSecond))
	if r.PeakHeapBytes > 0 {
		fmt.Fprintf(w, ", peak heap %s", bytesText(float64(r.PeakHeapBytes)))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  checkpoints  %d triggered, %d completed, %d failed", cp.Triggered, cp.Completed, cp.Failed)
	if cp.Lost > 0 {
		fmt.Fprintf(w, ", %d lost when the job manager crashed", cp.Lost)
	}
	if cp.InProgress > 0 {
		fmt.Fprintf(w, ", %d in progress when the run ended", cp.InProgress)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "    duration   p50 %s ms, p99 %s ms, max %s ms\n", num(cp.DurationMS.P50), num(cp.DurationMS.P99), num(cp.DurationMS.Max))
	fmt.Fprintf(w, "    alignment  p50 %s ms, max %s ms; start delay p50 %s ms, max %s ms\n",
		num(cp.AlignmentMS.P50), num(cp.AlignmentMS.Max), num(cp.StartDelayMS.P50), num(cp.StartDelayMS.Max))
	fmt.Fprintf(w, "    size       p50 %s, max %s; in-flight data p50 %s, max %s\n",
		bytesText(cp.CheckpointedBytes.P50), bytesText(cp.CheckpointedBytes.Max),
		bytesText(cp.PersistedInflightBytes.P50), bytesText(cp.PersistedInflightBytes.Max))
	fmt.Fprintf(w, "  failures     %d, restarts %d, downtime p50 %s ms, max %s ms; caught up p50 %s ms, max %s ms; %d records reprocessed\n",
		r.Failures, r.Restarts, num(r.RecoveryMS.P50), num(r.RecoveryMS.Max), num(r.CatchUpMS.P50), num(r.CatchUpMS.Max),
		r.ReprocessedRecords)
	fmt.Fprintf(w, "  latency      p50 %s ms, p99 %s ms\n", num(r.LatencyMS.P50), num(r.LatencyMS.P99))
	printCosts(w, &r.Costs)
	if sp := r.Savepoints; sp != nil {
		fmt.Fprintf(w, "  savepoints   %d triggered, %d completed, %d failed; duration p50 %s ms, max %s ms; alignment max %s ms; %d restores\n",
			sp.Triggered, sp.Completed, sp.Failed, num(sp.DurationMS.P50), num(sp.DurationMS.Max), num(sp.AlignmentMS.Max), sp.Restores)
	}
	if len(r.Actions) > 0 {
		fmt.Fprintln(w, "actions")
		for _, a := range r.Actions {
			fmt.Fprintln(w, "  "+a)
		}
	}
	if len(r.Faults) > 0 {
		fmt.Fprintln(w, "faults")
		for _, f := range r.Faults {
			fmt.Fprintln(w, "  "+f)
		}
	}
	fmt.Fprintf(w, "trace hash     %s\n", r.TraceHash)
	fmt.Fprintf(w, "replay         %s\n", r.Replay)
}

// num prints a metric with at most two decimals and no trailing zeros.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

// bytesText prints a byte count with a binary unit.
func bytesText(b float64) string {
	const unit = 1024
	if b < unit {
		return num(b) + " B"
	}
	for i, suffix := range []string{"KiB", "MiB", "GiB"} {
		v := b / math.Pow(unit, float64(i+1))
		if v < unit || suffix == "GiB" {
			return num(v) + " " + suffix
		}
	}
	return num(b) + " B"
}

func isHex(s string) bool {
	s = strings.TrimPrefix(strings.ToLower(s), "0x")
	if s == "" {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func sameHash(got, want string) bool {
	norm := func(s string) string { return strings.TrimPrefix(strings.ToLower(s), "0x") }
	return norm(got) == norm(want)
}

// printCosts writes the protocol's costs (scenarios.Costs), skipping what the
// protocol does not have (no logs, no piggyback, no forced checkpoints).
func printCosts(w io.Writer, c *scenarios.Costs) {
	fmt.Fprintf(w, "  protocol     %d messages, %s (piggybacked %s); pause p50 %s ms, max %s ms\n", c.ProtocolMessages,
		bytesText(float64(c.ProtocolBytes)), bytesText(float64(c.PiggybackBytes)), num(c.PauseMS.P50), num(c.PauseMS.Max))
	fmt.Fprintf(w, "    written    %s: state %s, in-flight data %s, message logs %s\n", bytesText(float64(c.WrittenBytes)),
		bytesText(float64(c.StateBytes)), bytesText(float64(c.ChannelStateBytes)), bytesText(float64(c.LogBytes)))
	if c.LogAppendedBytes > 0 {
		fmt.Fprintf(w, "    logs       %s appended, %s held at the end\n", bytesText(float64(c.LogAppendedBytes)), bytesText(float64(c.LogHeldBytes)))
	}
	if c.ForcedCheckpoints > 0 || c.UselessCheckpoints > 0 {
		fmt.Fprintf(w, "    local      %d forced checkpoints, %d useless\n", c.ForcedCheckpoints, c.UselessCheckpoints)
	}
	if c.ReplayedRecords > 0 {
		fmt.Fprintf(w, "    replayed   %d records from in-flight data or message logs\n", c.ReplayedRecords)
	}
}
