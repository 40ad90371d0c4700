package simrun

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/scenarios"
	"github.com/spf13/cobra"
)

// benchmarkCommand is the command that regenerates docs/flink-benchmark.md.
const benchmarkCommand = "go run ./cmd/simrun flink-benchmark --write docs/flink-benchmark.md"

// benchSetting is one row group of Flink's benchmark table: a scenario, the
// overrides that make the setting, and Flink's published figures.
type benchSetting struct {
	label    string
	scenario string
	sets     [][2]string
	flink    map[string]string // protocol -> published figure
}

func benchSettings() []benchSetting {
	long := [][2]string{{"source.records", "0"}, {"duration", "5 min"}}
	return []benchSetting{
		{label: "1 ms/record", scenario: "flink-checkpointing-benchmark-1ms"},
		{label: "1 ms/record, debloat 300 ms", scenario: "flink-checkpointing-benchmark-1ms-debloat",
			flink: map[string]string{protocol.AlignedName: "879 ms (model 600 ms)", protocol.UnalignedName: "2.5 ms", protocol.HybridName: "133 ms"}},
		{label: "10 ms/record", scenario: "flink-checkpointing-benchmark-10ms",
			flink: map[string]string{protocol.AlignedName: "≈ 13 s", protocol.UnalignedName: "≈ 45 ms"}},
		{label: "10 ms/record, debloat 300 ms", scenario: "flink-checkpointing-benchmark-1ms-debloat",
			sets: append([][2]string{{"sink.cost", "10 ms"}}, long...)},
	}
}

// benchRun is one protocol under one setting.
type benchRun struct {
	setting benchSetting
	proto   string
	setup   *scenarios.Setup
	model   scenarios.Model
	res     *scenarios.Result
	replay  string
}

func flinkBenchmarkCmd() *cobra.Command {
	var (
		write    string
		parallel int
	)
	c := &cobra.Command{
		Use:   "flink-benchmark [--write FILE]",
		Short: "Reproduce Flink's CheckpointingTimeBenchmark table in simulation, with the analytical model",
		Long: `Run flink-benchmarks' CheckpointingTimeBenchmark (source → rebalance → map →
rebalance → slow sink, parallelism 4) under aligned, unaligned and hybrid
checkpoints, with and without buffer debloating, with the sink at 1 ms and 10 ms
per record, and print a Markdown report: the simulated p50 end-to-end checkpoint
duration beside the analytical model and Flink's published figures. With --write
FILE the report goes to FILE (atomically) instead; docs/flink-benchmark.md is
produced by:

  ` + benchmarkCommand + `

Exit status: 0 when every run passed its checks, 1 when one did not.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkReportFlags(parallel, write); err != nil {
				return err
			}
			runs, err := runBenchmark(parallel, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			var b bytes.Buffer
			writeBenchmark(&b, runs)
			if err := writeReport(cmd, write, b.Bytes()); err != nil {
				return err
			}
			for _, r := range runs {
				if !r.res.OK {
					return failErr("%s under %s failed a check\nreplay: %s", r.setting.label, r.proto, r.replay)
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&write, "write", "", "write the report to FILE instead of standard output")
	c.Flags().IntVar(&parallel, "parallel", runtime.NumCPU(), "number of runs at a time")
	return c
}

// runBenchmark runs every setting under every protocol.
func runBenchmark(workers int, progressTo io.Writer) ([]benchRun, error) {
	var runs []benchRun
	for _, s := range benchSettings() {
		sc, err := scenarios.Lookup(s.scenario)
		if err != nil {
			return nil, err
		}
		sc = sc.Clone()
		replaySets := ""
		for _, kv := range s.sets {
			if err := sc.Override(kv[0], kv[1]); err != nil {
				return nil, err
			}
			replaySets += " " + scenarios.Param{Key: kv[0], Values: []string{kv[1]}}.Flag("--set")
		}
		for _, proto := range []string{protocol.AlignedName, protocol.UnalignedName, protocol.HybridName} {
			setup, err := sc.Setup(proto)
			if err != nil {
				return nil, err
			}
			m, err := setup.AlignedModel()
			if err != nil {
				return nil, err
			}
			runs = append(runs, benchRun{setting: s, proto: proto, setup: setup, model: m, replay: replaySets})
		}
	}
	forEach(len(runs), workers, progressTo, nil, func(i int) {
		r := &runs[i]
		res, err := runSetup(r.setup, r.setting.scenario, scenarios.RunOptions{Seed: r.setup.Seed})
		if err != nil {
			res = &scenarios.Result{Outcome: "error", Checks: []scenarios.Check{{Name: "run", Detail: err.Error()}}}
		}
		r.res = res
		r.replay = res.Replay + r.replay
	})
	return runs, nil
}

// writeBenchmark writes the Markdown report.
func writeBenchmark(w io.Writer, runs []benchRun) {
	fmt.Fprintf(w, `# Flink's checkpointing benchmark, reproduced in simulation

Produced by `+"`%s`"+` (do not edit by hand; the
numbers are deterministic, so the command rewrites this file identically until the
engine changes).

The job is flink-benchmarks' CheckpointingTimeBenchmark: source → rebalance → map →
rebalance → sink that costs 1 ms or 10 ms of CPU per record, parallelism 4, one
subtask per worker, 4 kb network buffers, 2 exclusive buffers per channel and 56
floating per gate (64 per gate), a checkpoint every second. Sources emit as fast as
the backpressured pipeline lets them. Each figure is the median end-to-end duration
(trigger to the last acknowledgement) of the completed checkpoints of one run.

**The analytical model.** An aligned barrier waits behind the in-flight data of every
exchange between the sources and the bottleneck, which drains at the bottleneck's
rate: aligned ≈ Σ over exchanges of in-flight bytes ÷ consumption rate, where the
in-flight bytes of an exchange, per consumer subtask, are its input gate's buffers
plus its share of the producers' output buffers (both full under backpressure). With
buffer debloating each buffer shrinks to the size that makes a gate hold the target's
worth of data, but not below `+"`taskmanager.memory.min-segment-size`"+` (256 b);
Flink's own, simpler debloat model is the number of exchanges × the target (its
column below). Unaligned barriers overtake the in-flight data, so their model is
about zero: what remains is persisting the overtaken data and the upload to the
checkpoint store, local here as in the benchmark's mini cluster (1 ms, 1 GB/s).

| setting | protocol | simulated p50 | model | simulated ÷ model | Flink's debloat model | Flink's figure | checkpoints | persisted in-flight p50 |
|---|---|---:|---:|---:|---:|---|---:|---:|
`, benchmarkCommand)
	for _, r := range runs {
		model, ratio, target := "–", "–", "–"
		if r.proto == protocol.AlignedName && r.model.Aligned > 0 {
			model = msText(r.model.Aligned.Milliseconds())
			ratio = fmt.Sprintf("%.2f", r.res.Checkpoints.DurationMS.P50/r.model.Aligned.Milliseconds())
			if r.model.TargetModel > 0 {
				target = msText(r.model.TargetModel.Milliseconds())
			}
		}
		flink := r.setting.flink[r.proto]
		if flink == "" {
			flink = "–"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %d | %s |\n", r.setting.label, r.proto,
			msText(r.res.Checkpoints.DurationMS.P50), model, ratio, target, flink, r.res.Checkpoints.Completed,
			bytesText(r.res.Checkpoints.PersistedInflightBytes.P50))
	}
	fmt.Fprintf(w, "\nHybrid is aligned checkpoints with `execution.checkpointing.aligned-checkpoint-timeout: 50 ms` "+
		"(Flink's \"aligned-timeout\" column).\n\n## The model, exchange by exchange\n\n")
	seen := map[string]bool{}
	for _, r := range runs {
		if r.proto != protocol.AlignedName || seen[r.setting.label] {
			continue
		}
		seen[r.setting.label] = true
		fmt.Fprintf(w, "- %s: %s\n", r.setting.label, r.model.String())
	}
	fmt.Fprintf(w, `
## Reading the table

- Without debloating the simulated aligned checkpoints follow the model closely: they
  are bounded by the time to drain two exchanges' worth of full buffers, and that time
  scales with the sink's cost per record. Flink measured about 13 s at 10 ms/record.
- With debloating, Flink's model (exchanges × target) counts the input gates only.
  The producers' output buffers shrink too but still hold about as much again, so the
  full model is about twice Flink's at 1 ms/record; Flink's own measurement (879 ms)
  also lies above its 600 ms model. At 10 ms/record the debloated size would fall
  below the minimum segment size, so the 256 b floor, not the target, bounds the
  in-flight data, and aligned checkpoints take seconds even with debloating. The
  first checkpoint of a run also waits behind the full-size buffers queued before
  debloating shrank them (it counts in the median of a short run).
- Unaligned checkpoints do not depend on backpressure: the barrier overtakes the
  queued buffers and the in-flight data it overtook is persisted with the state
  (the last column), so their duration follows the amount of that data (megabytes
  without debloating, hundreds of kilobytes with it) written to the store.
- Hybrid checkpoints start aligned and switch to unaligned after the 50 ms timeout,
  so under backpressure they take the timeout plus an unaligned checkpoint.

## Replay any row

`)
	for _, r := range runs {
		fmt.Fprintf(w, "- %s, %s: `%s`\n", r.setting.label, r.proto, r.replay)
	}
}

// msText prints a duration in ms as ms or s.
func msText(ms float64) string {
	if ms >= 1000 {
		return strings.TrimSuffix(fmt.Sprintf("%.2f", ms/1000), "0") + " s"
	}
	return fmt.Sprintf("%.1f ms", ms)
}
