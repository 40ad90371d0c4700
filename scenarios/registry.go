package scenarios

import (
	"fmt"
	"strings"
)

// Registry returns the built-in scenarios in a fixed order. Each call returns
// fresh values the caller may change.
func Registry() []*Scenario {
	return builtins()
}

// Names lists the built-in scenarios' names in registry order.
func Names() []string {
	var out []string
	for _, s := range builtins() {
		out = append(out, s.Name)
	}
	return out
}

// Lookup returns the built-in scenario with the given name; an unknown name is an
// error that lists the close names (or all of them).
func Lookup(name string) (*Scenario, error) {
	all := builtins()
	names := make([]string, len(all))
	for i, s := range all {
		if s.Name == name {
			return s, nil
		}
		names[i] = s.Name
	}
	if c := closeNames(name, names); len(c) > 0 {
		if len(c) > 5 {
			c = c[:5]
		}
		return nil, fmt.Errorf("unknown scenario %q; did you mean %s?", name, quoteList(c))
	}
	return nil, fmt.Errorf("unknown scenario %q; the scenarios are: %s", name, strings.Join(names, ", "))
}

// The pieces the built-in scenarios share.

// cluster3 is three workers of four slots on a 1 Gbit/s network, with a
// checkpoint store of 20 ms latency and 200 MB/s.
func cluster3() ClusterSpec {
	return ClusterSpec{Workers: 3, SlotsPerWorker: 4,
		Network:           &LinkSpec{Latency: "1 ms", Jitter: "200 us", Bandwidth: "1 Gbit/s"},
		CheckpointStorage: &StorageSpec{Latency: "20 ms", Bandwidth: "200 MB/s"}}
}

// config is the common configuration: aligned checkpoints every 500 ms (with a
// 50 ms aligned-checkpoint timeout for runs under hybrid), fixed-delay restarts,
// overridden and extended by kv pairs (an empty value removes a key).
func config(kv ...string) map[string]string {
	c := map[string]string{
		"execution.checkpointing.interval":                   "500 ms",
		"execution.checkpointing.mode":                       "EXACTLY_ONCE",
		"execution.checkpointing.unaligned.enabled":          "false",
		"execution.checkpointing.aligned-checkpoint-timeout": "50 ms",
		"restart-strategy.type":                              "fixed-delay",
		"restart-strategy.fixed-delay.attempts":              "10",
		"restart-strategy.fixed-delay.delay":                 "500 ms",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(c, kv[i])
		} else {
			c[kv[i]] = kv[i+1]
		}
	}
	return c
}

// ordersJob is the pipeline most scenarios run: orders (4 splits) → enrich (map)
// → totals (sum by key) → out (sink), records per split at rate per split.
func ordersJob(records int64, rate string) JobSpec {
	return JobSpec{
		Sources: []SourceSpec{{Name: "orders", Splits: 4, Rate: rate, Records: records,
			Keys: &KeySpec{Distribution: "zipf", Count: 1000, Exponent: 1.1}, Disorder: "50 ms", RecordSize: "64 B"}},
		Operators: []OperatorSpec{
			{Name: "enrich", Type: "map", Input: "orders", Parallelism: 4, Cost: "20 us"},
			{Name: "totals", Type: "sum", Input: "enrich", KeyBy: "key", Parallelism: 4, Cost: "50 us"},
			{Name: "out", Type: "sink", Input: "totals", Parallelism: 2, Cost: "100 us"},
		},
	}
}

// benchmarkJob is flink-benchmarks' CheckpointingTimeBenchmark: source →
// rebalance → map → rebalance → sink costing sinkCost per record, parallelism 4,
// a source as fast as possible that stops after records per split.
func benchmarkJob(records int64, recordSize, sinkCost string) JobSpec {
	return JobSpec{
		Sources: []SourceSpec{{Name: "source", Splits: 4, Parallelism: 4, Records: records, RecordSize: recordSize,
			Keys: &KeySpec{Count: 1000}}},
		Operators: []OperatorSpec{
			{Name: "map", Type: "map", Input: "source", Partitioning: "rebalance", Parallelism: 4},
			{Name: "sink", Type: "sink", Input: "map", Partitioning: "rebalance", Parallelism: 4, Cost: sinkCost},
		},
	}
}

// benchmarkConfig is the benchmark's network: 4 kb segments, 2 exclusive buffers
// per channel and 56 floating per gate (64 buffers per gate of 4 channels).
func benchmarkConfig(kv ...string) map[string]string {
	return config(append([]string{
		"execution.checkpointing.interval", "1 s",
		"taskmanager.memory.segment-size", "4 kb",
		"taskmanager.network.memory.buffers-per-channel", "2",
		"taskmanager.network.memory.floating-buffers-per-gate", "56",
	}, kv...)...)
}

// benchmarkCluster is four workers of one slot each on a local network, with a
// local checkpoint store (1 ms, 1 GB/s): flink-benchmarks runs in a mini cluster
// that checkpoints to local storage, not to a remote object store.
func benchmarkCluster() ClusterSpec {
	return ClusterSpec{Workers: 4, SlotsPerWorker: 1,
		Network:           &LinkSpec{Latency: "100 us", Bandwidth: "10 Gbit/s"},
		CheckpointStorage: &StorageSpec{Latency: "1 ms", Bandwidth: "1 GB/s"}}
}

func builtins() []*Scenario {
	return append(append(append(append(coreScenarios(), protocolScenarios()...), savepointScenarios()...), familyScenarios()...), cycleScenarios()...)
}

func coreScenarios() []*Scenario {
	return []*Scenario{
		{
			Name:        "steady",
			Description: "The orders pipeline without faults: checkpoints complete every 500 ms and the bounded job finishes with the reference state and output.",
			Seed:        1,
			Duration:    "1 min",
			Job:         ordersJob(4000, "1000/s"),
			Cluster:     cluster3(),
			Config:      config(),
		},
		{
			Name: "flink-checkpointing-benchmark-1ms",
			Description: "flink-benchmarks' CheckpointingTimeBenchmark: source → rebalance → map → rebalance → sink " +
				"costing 1 ms per record, parallelism 4, 64 buffers per gate of 4 kb, 1 kb records. The sink backpressures " +
				"the pipeline; aligned barriers wait behind the in-flight data of two exchanges, unaligned ones overtake it.",
			Seed:     1,
			Duration: "1 min",
			Job:      benchmarkJob(20000, "1 kb", "1 ms"),
			Cluster:  benchmarkCluster(),
			Config:   benchmarkConfig(),
		},
		{
			Name: "flink-checkpointing-benchmark-10ms",
			Description: "The checkpointing-time benchmark with a sink costing 10 ms per record: ten times the in-flight " +
				"time, so aligned checkpoints take seconds while unaligned ones take milliseconds.",
			Seed:     1,
			Duration: "1 min",
			Job:      benchmarkJob(3000, "1 kb", "10 ms"),
			Cluster:  benchmarkCluster(),
			Config:   benchmarkConfig(),
		},
		{
			Name: "flink-checkpointing-benchmark-1ms-debloat",
			Description: "The 1 ms checkpointing-time benchmark with buffer debloating (FLIP-183) at a 300 ms target, 64 B " +
				"records, a 256 b minimum segment and Flink's default debloat period and samples: in-flight data in each " +
				"input gate shrinks to about 300 ms of consumption, so an aligned checkpoint takes about 2 × 300 ms " +
				"(Flink's model) plus the producers' output buffers, once the first full-size buffers have drained.",
			Seed:     1,
			Duration: "1 min",
			Job:      benchmarkJob(40000, "64 B", "1 ms"),
			Cluster:  benchmarkCluster(),
			Config: benchmarkConfig(
				"taskmanager.network.memory.buffer-debloat.enabled", "true",
				"taskmanager.network.memory.buffer-debloat.target", "300 ms",
				"taskmanager.memory.min-segment-size", "256 b",
			),
		},
		{
			Name: "crash-during-alignment",
			Description: "A worker crashes while the keyed aggregation aligns the barriers of checkpoint 3; the job must " +
				"restore and end with exactly-once state and output. The sinks take 1 ms a record, half the rate they " +
				"are sent, so the job runs backpressured: aligned barriers wait behind full buffers and unaligned " +
				"checkpoints persist in-flight input and output data, which a restore must replay exactly once. Buffers " +
				"leave after at most 5 ms (execution.buffer-timeout), so records can reach the aggregation while its " +
				"snapshot uploads (20 ms): a snapshot that is not a copy of the state at the barrier shows.",
			Seed:     42,
			Duration: "1 min",
			Job: func() JobSpec {
				j := ordersJob(4000, "1000/s")
				j.Operators[2].Cost = "1 ms"
				return j
			}(),
			Cluster: cluster3(),
			// with the default 100 ms buffer timeout the sources flush at the barrier and
			// then not again until every upload ended: nothing was processed while a
			// snapshot uploaded, and no crash point caught mutant/snapshot-by-reference.
			// The sources wake every tenth of the buffer timeout (engine pollAt): at
			// 10 ms or 15 ms they send in bursts too far apart for data to come
			// between the aggregation's barriers, and no crash point catches
			// mutant/aligned-early-release; at 5 ms one does (docs/exploration.md).
			Config: config("execution.buffer-timeout", "5 ms"),
			Faults: []FaultSpec{
				{When: &WhenSpec{Checkpoint: 3, Phase: "alignment", Task: "totals[1]"}, Kind: "crash-worker", RestartAfter: "2 s"},
				{At: "6 s", Kind: "crash-worker", Worker: "worker-2", RestartAfter: "1 s"},
			},
		},
		{
			Name: "crash-during-async-upload",
			Description: "A worker crashes after the keyed aggregation took its synchronous snapshot of checkpoint 2, " +
				"while the upload to a slow checkpoint store is not durable yet: the checkpoint must not complete, and " +
				"the job restores from the one before.",
			Seed:     7,
			Duration: "1 min",
			Job:      ordersJob(4000, "1000/s"),
			Cluster: ClusterSpec{Workers: 3, SlotsPerWorker: 4,
				Network:           &LinkSpec{Latency: "1 ms", Jitter: "200 us", Bandwidth: "1 Gbit/s"},
				CheckpointStorage: &StorageSpec{Latency: "200 ms", Bandwidth: "20 MB/s"}},
			Config: config(),
			Faults: []FaultSpec{
				{When: &WhenSpec{Checkpoint: 2, Phase: "after-sync", Task: "totals[2]"}, Kind: "crash-worker", RestartAfter: "1 s"},
			},
		},
		{
			Name: "crash-between-precommit-and-commit",
			Description: "The worker of a two-phase-commit sink crashes after the sink pre-committed checkpoint 3's " +
				"transaction and before the commit: on restore the pre-committed transaction of the restored checkpoint " +
				"is committed again (idempotently) and nothing is lost or duplicated.",
			Seed:     3,
			Duration: "1 min",
			Job: func() JobSpec {
				j := ordersJob(4000, "1000/s")
				j.Operators[2].Sink = "two-phase-commit"
				return j
			}(),
			Cluster: cluster3(),
			Config:  config(),
			Faults: []FaultSpec{
				{When: &WhenSpec{Checkpoint: 3, Phase: "pre-commit", Task: "out[0]"}, Kind: "crash-worker", RestartAfter: "1 s"},
			},
		},
		{
			Name: "coordinator-crash",
			Description: "The job manager crashes right after checkpoint 3 completed, before the tasks heard of it; the " +
				"restarted coordinator recovers the latest completed checkpoint from the durable store (HA) and restarts " +
				"the job from it.",
			Seed:     5,
			Duration: "1 min",
			Job:      ordersJob(4000, "1000/s"),
			Cluster:  cluster3(),
			Config:   config(),
			Faults: []FaultSpec{
				{When: &WhenSpec{Checkpoint: 3, Phase: "after-complete"}, Kind: "crash-coordinator", RestartAfter: "1 s"},
			},
		},
		{
			Name: "crash-before-notify",
			Description: "A sink's worker crashes after checkpoint 2 completed and before its notification reached the " +
				"tasks: the sink never committed that checkpoint's transaction, so the restore must commit it.",
			Seed:     11,
			Duration: "1 min",
			Job: func() JobSpec {
				j := ordersJob(4000, "1000/s")
				j.Operators[2].Sink = "two-phase-commit"
				return j
			}(),
			Cluster: cluster3(),
			Config:  config(),
			Faults: []FaultSpec{
				{When: &WhenSpec{Checkpoint: 2, Phase: "after-complete"}, Kind: "crash-worker", Worker: "worker-1", RestartAfter: "1 s"},
			},
		},
		{
			Name: "cascading-failure",
			Description: "A worker crashes; while the job is being restored (before in-flight data is replayed) a second " +
				"worker crashes, so recovery itself fails and starts over.",
			Seed:     9,
			Duration: "1 min",
			Job:      ordersJob(4000, "1000/s"),
			Cluster:  cluster3(),
			Config:   config(),
			Faults: []FaultSpec{
				{At: "1500 ms", Kind: "crash-worker", Worker: "worker-1", RestartAfter: "1 s"},
				{When: &WhenSpec{Phase: "recovery"}, Kind: "crash-worker", Worker: "worker-2", RestartAfter: "1 s"},
			},
		},
		{
			Name: "network-partition",
			Description: "The network between two workers is cut for a second: the tasks at both ends of the broken " +
				"channels fail, and the job restarts (possibly more than once) until the partition heals.",
			Seed:     13,
			Duration: "1 min",
			Job:      ordersJob(4000, "1000/s"),
			Cluster:  cluster3(),
			Config:   config(),
			Faults: []FaultSpec{
				{At: "1500 ms", Kind: "partition", Between: []string{"worker-0", "worker-1"}, For: "1 s"},
			},
		},
		{
			Name: "latency-spike",
			Description: "The link between two workers gets 300 ms slower for two seconds: barriers crossing it arrive " +
				"late, alignment (or the aligned-checkpoint timeout of hybrid) kicks in, and nothing fails.",
			Seed:     17,
			Duration: "1 min",
			Job:      ordersJob(4000, "1000/s"),
			Cluster:  cluster3(),
			Config: config(
				"execution.checkpointing.unaligned.enabled", "true",
			),
			Faults: []FaultSpec{
				{At: "1 s", Kind: "latency-spike", Between: []string{"worker-0", "worker-2"}, Extra: "300 ms", For: "2 s"},
			},
		},
		{
			Name: "straggler",
			Description: "One subtask of the keyed aggregation runs 20 times slower for three seconds: backpressure builds " +
				"up behind it and aligned barriers queue behind the in-flight data; unaligned ones overtake it.",
			Seed:     19,
			Duration: "1 min",
			Job:      ordersJob(4000, "1000/s"),
			Cluster:  cluster3(),
			Config: config(
				"execution.checkpointing.unaligned.enabled", "true",
				"execution.checkpointing.aligned-checkpoint-timeout", "0 ms",
			),
			Faults: []FaultSpec{
				{At: "1 s", Kind: "straggler", Task: "totals[3]", Factor: 20, For: "3 s"},
			},
		},
		{
			Name: "hot-key-skew",
			Description: "90% of the records carry one key, so one subtask of the aggregation does most of the work and " +
				"backpressures the rest; a task failure then restores the skewed state.",
			Seed:     23,
			Duration: "1 min",
			Job: JobSpec{
				Sources: []SourceSpec{{Name: "orders", Splits: 4, Rate: "1000/s", Records: 4000,
					Keys: &KeySpec{Distribution: "hot", Count: 1000, Ratio: 0.9}, RecordSize: "64 B"}},
				Operators: []OperatorSpec{
					{Name: "enrich", Type: "map", Input: "orders", Parallelism: 4, Cost: "20 us"},
					{Name: "totals", Type: "sum", Input: "enrich", KeyBy: "key", Parallelism: 4, Cost: "300 us"},
					{Name: "out", Type: "sink", Input: "totals", Parallelism: 2, Cost: "50 us"},
				},
			},
			Cluster: cluster3(),
			Config:  config(),
			Faults: []FaultSpec{
				{At: "2500 ms", Kind: "crash-task", Task: "enrich[2]"},
			},
		},
		{
			Name: "checkpoint-storage-outage",
			Description: "The checkpoint store fails every operation for two seconds: checkpoints fail (tolerated), " +
				"and once it is back a checkpoint completes.",
			Seed:     29,
			Duration: "1 min",
			Job:      ordersJob(4000, "1000/s"),
			Cluster:  cluster3(),
			Config: config(
				"execution.checkpointing.tolerable-failed-checkpoints", "10",
			),
			Faults: []FaultSpec{
				{At: "1 s", Kind: "storage-outage", For: "2 s"},
			},
		},
		{
			Name: "slow-checkpoint-storage",
			Description: "The checkpoint store becomes 20 times slower for three seconds, so uploads and checkpoints take " +
				"long; then a task fails and the job restores from the latest checkpoint that did complete.",
			Seed:     31,
			Duration: "1 min",
			Job:      ordersJob(4000, "1000/s"),
			Cluster:  cluster3(),
			Config:   config(),
			Faults: []FaultSpec{
				{At: "1 s", Kind: "storage-slow", Factor: 20, For: "3 s"},
				{At: "3 s", Kind: "crash-task", Task: "enrich[1]"},
			},
		},
		{
			Name: "disk-fault",
			Description: "With the pebble state backend and incremental checkpoints, one worker's local disk fails a " +
				"fifth of its operations for half a second: state access fails, tasks fail, and the job restores from " +
				"the remote checkpoint once the disk is healthy again.",
			Seed:     37,
			Duration: "1 min",
			Job:      ordersJob(2000, "1000/s"),
			Cluster:  cluster3(),
			Config: config(
				"state.backend.type", "pebble",
				"execution.checkpointing.incremental", "true",
				"restart-strategy.fixed-delay.delay", "1 s",
			),
			Faults: []FaultSpec{
				{At: "1 s", Kind: "disk-errors", Worker: "worker-1", Probability: 0.2, For: "500 ms"},
			},
		},
		{
			Name: "checkpoint-timeout-under-backpressure",
			Description: "A sink costing 2 ms per record backpressures the job; with a 1 s checkpoint timeout aligned " +
				"checkpoints expire behind the in-flight data (tolerated: up to 50 in a row) while unaligned ones complete, " +
				"and the job still finishes exactly once.",
			Seed:     41,
			Duration: "1 min",
			Job: JobSpec{
				Sources: []SourceSpec{{Name: "orders", Splits: 4, Rate: "1000/s", Records: 2000,
					Keys: &KeySpec{Count: 1000}, RecordSize: "64 B"}},
				Operators: []OperatorSpec{
					{Name: "enrich", Type: "map", Input: "orders", Parallelism: 4, Cost: "20 us"},
					{Name: "totals", Type: "sum", Input: "enrich", KeyBy: "key", Parallelism: 4, Cost: "50 us"},
					{Name: "out", Type: "sink", Input: "totals", Parallelism: 2, Cost: "2 ms"},
				},
			},
			Cluster: cluster3(),
			Config: config(
				"execution.checkpointing.timeout", "1 s",
				"execution.checkpointing.tolerable-failed-checkpoints", "50",
			),
		},
		{
			Name: "rescale-on-restore",
			Description: "After a task failure the job restores its aligned checkpoint with the aggregation at " +
				"parallelism 2 instead of 4: keyed state is redistributed by key group. (An unaligned checkpoint holds " +
				"in-flight data, which ckptsim refuses to redistribute.)",
			Seed:     43,
			Duration: "1 min",
			Job:      ordersJob(4000, "1000/s"),
			Cluster:  cluster3(),
			Config:   config(),
			Rescale:  map[string]int{"totals": 2},
			Faults: []FaultSpec{
				{At: "2 s", Kind: "crash-task", Task: "enrich[0]"},
			},
		},
		{
			Name: "window-timer-storm",
			Description: "Sliding event-time windows of 50 ms every 10 ms over 5000 keys: every watermark fires timers " +
				"for thousands of windows at once, delaying barriers behind the timer storm; a window task then fails " +
				"and its timers and window state are restored.",
			Seed:     47,
			Duration: "1 min",
			Job: JobSpec{
				Sources: []SourceSpec{{Name: "events", Splits: 4, Rate: "1000/s", Records: 3000,
					Keys: &KeySpec{Count: 5000}, Disorder: "20 ms", RecordSize: "64 B"}},
				Operators: []OperatorSpec{
					{Name: "windows", Type: "window", Input: "events", KeyBy: "key", Parallelism: 4, Cost: "20 us",
						Window: "sliding", Size: "50 ms", Slide: "10 ms", Lateness: "10 ms", Aggregate: "count"},
					{Name: "out", Type: "sink", Input: "windows", Parallelism: 2, Cost: "20 us"},
				},
			},
			Cluster: cluster3(),
			Config:  config("pipeline.auto-watermark-interval", "50 ms"),
			Faults: []FaultSpec{
				{At: "2 s", Kind: "crash-task", Task: "windows[1]"},
			},
		},
		{
			Name: "join-imbalanced",
			Description: "An interval join (±500 ms) of a fast click stream (4 splits at 1000/s) with a slow order " +
				"stream (1 split at 20/s): the join buffers many clicks per key, and a join task failure restores them.",
			Seed:     53,
			Duration: "1 min",
			Job: JobSpec{
				Sources: []SourceSpec{
					{Name: "clicks", Splits: 4, Rate: "1000/s", Records: 3000, Keys: &KeySpec{Count: 50}, RecordSize: "64 B"},
					{Name: "orders", Splits: 1, Rate: "20/s", Records: 60, Keys: &KeySpec{Count: 50}, RecordSize: "64 B"},
				},
				Operators: []OperatorSpec{
					{Name: "joined", Type: "join", Inputs: []string{"orders", "clicks"}, KeyBy: "key", Parallelism: 4,
						Cost: "20 us", Lower: "-500 ms", Upper: "500 ms"},
					{Name: "out", Type: "sink", Input: "joined", Parallelism: 2, Cost: "10 us"},
				},
			},
			Cluster: cluster3(),
			Config:  config(),
			Faults: []FaultSpec{
				{At: "1500 ms", Kind: "crash-task", Task: "joined[2]"},
			},
		},
		{
			Name: "repeated-crashes",
			Description: "A task fails every second, more often than the restart strategy allows (fixed-delay, 2 " +
				"attempts): the job fails for good, and that is the expected outcome.",
			Seed:     59,
			Duration: "1 min",
			Job:      ordersJob(5000, "1000/s"),
			Cluster:  cluster3(),
			Config: config(
				"restart-strategy.fixed-delay.attempts", "2",
				"restart-strategy.fixed-delay.delay", "200 ms",
			),
			Faults: []FaultSpec{
				{At: "1 s", Kind: "crash-task", Task: "totals[0]"},
				{At: "2 s", Kind: "crash-task", Task: "totals[1]"},
				{At: "3 s", Kind: "crash-task", Task: "totals[2]"},
				{At: "4 s", Kind: "crash-task", Task: "totals[3]"},
			},
			Expect: ExpectSpec{Outcome: OutcomeJobFails},
		},
		{
			Name: "sink-commit-failure",
			Description: "The external system rejects the next five transaction commits: the two-phase-commit sink " +
				"retries them until they succeed, and every record is committed exactly once.",
			Seed:     61,
			Duration: "1 min",
			Job: func() JobSpec {
				j := ordersJob(4000, "1000/s")
				j.Operators[2].Sink = "two-phase-commit"
				return j
			}(),
			Cluster: cluster3(),
			Config:  config(),
			Faults: []FaultSpec{
				{At: "1 s", Kind: "sink-commit-failure", Count: 5},
			},
		},
		{
			Name: "worker-crash",
			Description: "One worker crashes in the middle of a steady run and comes back a second later: the job restores " +
				"from the latest completed checkpoint and reprocesses what came after it. The sweep over the checkpoint " +
				"interval (simrun suite --out) plots recovery time and reprocessed records against the interval.",
			Seed:     71,
			Duration: "1 min",
			Job:      ordersJob(8000, "1000/s"),
			Cluster:  cluster3(),
			Config:   config(),
			Faults: []FaultSpec{
				{At: "5300 ms", Kind: "crash-worker", Worker: "worker-1", RestartAfter: "1 s"},
			},
		},
		{
			Name: "checkpoint-overhead",
			Description: "A saturated keyed aggregation over a million keys, as fast as the operators go: every synchronous " +
				"snapshot copies the keyed state and every aligned checkpoint blocks channels, so frequent checkpoints " +
				"cost throughput. The sweep over the checkpoint interval (unbounded, 8 s each) plots the overhead against a run without checkpoints.",
			Seed:     73,
			Duration: "1 min",
			Job: JobSpec{
				Sources: []SourceSpec{{Name: "events", Splits: 4, Records: 30000,
					Keys: &KeySpec{Count: 1000000}, RecordSize: "64 B"}},
				Operators: []OperatorSpec{
					{Name: "totals", Type: "sum", Input: "events", KeyBy: "key", Parallelism: 4, Cost: "100 us"},
					{Name: "out", Type: "sink", Input: "totals", Parallelism: 4, Cost: "10 us"},
				},
			},
			Cluster: cluster3(),
			Config:  config("execution.checkpointing.interval", "200 ms"),
		},
		{
			Name: "fifo-violation",
			Description: "Breaks an assumption every checkpoint protocol relies on: one source task's output channels " +
				"reorder queued buffers for three seconds. The job keeps each split on one path (keyed by split), so the " +
				"verifying sink sees records out of order and the checkers must flag it.",
			Seed:     67,
			Duration: "1 min",
			Job: JobSpec{
				Sources: []SourceSpec{{Name: "orders", Splits: 4, Parallelism: 4, Rate: "2000/s", Records: 3000,
					Keys: &KeySpec{Count: 100}, RecordSize: "64 B"}},
				Operators: []OperatorSpec{
					{Name: "per-split", Type: "sum", Input: "orders", KeyBy: "split", Parallelism: 4, Cost: "1 ms"},
					{Name: "out", Type: "sink", Input: "per-split", Partitioning: "forward", Parallelism: 4, Sink: "two-phase-commit"},
				},
			},
			Cluster: cluster3(),
			Config:  config(),
			Faults: []FaultSpec{
				{At: "500 ms", Kind: "fifo-violation", Task: "orders[1]", For: "3 s"},
			},
			Expect: ExpectSpec{Outcome: OutcomeDetected},
		},
	}
}
