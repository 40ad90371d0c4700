package scenarios

// protocolScenarios are the scenarios aimed at one class of protocol bug each: the
// moments in which the output channel state, the alignment and the durability of
// a checkpoint's metadata matter. Every correct protocol passes them; the mutants
// of the class fail them (TestClassScenariosCatchTheirMutants).
func protocolScenarios() []*Scenario {
	return []*Scenario{
		{
			Name: "overtaken-output-under-backpressure",
			Description: "Tiny network buffers (1 kb, one per channel, none floating) and a sink slower than the " +
				"sources, as Flink's UnalignedCheckpointITCase: output queues are full when a barrier arrives, so an " +
				"unaligned barrier overtakes buffers at its sender and they become output channel state. A worker " +
				"crashes once checkpoint 3 completed, and the restore must send exactly the overtaken buffers again.",
			Seed:     61,
			Duration: "1 min",
			Job: JobSpec{
				Sources: []SourceSpec{{Name: "orders", Splits: 4, Rate: "500/s", Records: 1500,
					Keys: &KeySpec{Count: 200}, RecordSize: "64 B"}},
				Operators: []OperatorSpec{
					{Name: "enrich", Type: "map", Input: "orders", Partitioning: "rebalance", Parallelism: 3, Cost: "20 us"},
					{Name: "totals", Type: "sum", Input: "enrich", KeyBy: "key", Parallelism: 3, Cost: "50 us"},
					{Name: "out", Type: "sink", Input: "totals", Parallelism: 2, Cost: "1500 us"},
				},
			},
			Cluster: cluster3(),
			Config: config(
				"execution.checkpointing.interval", "300 ms",
				"taskmanager.memory.segment-size", "1 kb",
				"taskmanager.network.memory.buffers-per-channel", "1",
				"taskmanager.network.memory.floating-buffers-per-gate", "0",
				"execution.buffer-timeout", "5 ms",
			),
			Faults: []FaultSpec{
				{When: &WhenSpec{Checkpoint: 3, Phase: "after-complete"}, Kind: "crash-worker", Worker: "worker-2", RestartAfter: "500 ms"},
			},
		},
		{
			Name: "early-release-fan-in",
			Description: "A fast stream (four subtasks) and a slow one (two) unioned into one keyed count: its " +
				"six channels deliver barriers at different times, more so while the link between two workers is " +
				"100 ms slower, and the channels that delivered theirs keep data waiting behind them. A channel " +
				"released before the alignment completes lets records after the barrier into the snapshot; a worker " +
				"crashes once checkpoint 4 completed, and the restore replays them.",
			Seed:     67,
			Duration: "1 min",
			Job: JobSpec{
				Sources: []SourceSpec{
					{Name: "fast", Splits: 4, Parallelism: 4, Rate: "500/s", Records: 1000, Keys: &KeySpec{Count: 100}, RecordSize: "64 B"},
					{Name: "slow", Splits: 2, Parallelism: 2, Rate: "100/s", Records: 200, Keys: &KeySpec{Count: 100}, RecordSize: "64 B"},
				},
				Operators: []OperatorSpec{
					{Name: "both", Type: "union", Inputs: []string{"fast", "slow"}},
					{Name: "counts", Type: "count", Input: "both", KeyBy: "key", Parallelism: 1, Cost: "50 us"},
					{Name: "out", Type: "sink", Input: "counts", Parallelism: 1, Cost: "500 us"},
				},
			},
			Cluster: cluster3(),
			Config: config(
				"execution.checkpointing.interval", "300 ms",
				"execution.buffer-timeout", "1 ms",
			),
			Faults: []FaultSpec{
				{At: "400 ms", Kind: "latency-spike", Between: []string{"worker-0", "worker-1"}, Extra: "100 ms", For: "2 s"},
				{When: &WhenSpec{Checkpoint: 4, Phase: "after-complete"}, Kind: "crash-worker", Worker: "worker-1", RestartAfter: "500 ms"},
			},
		},
		{
			Name: "late-acknowledgement",
			Description: "The keyed aggregation holds the largest state and the checkpoint store is slow (2 MB/s), " +
				"so its upload is the last acknowledgement of every checkpoint. A checkpoint completed without it " +
				"would restore the aggregation empty: a worker crashes once checkpoint 3 completed.",
			Seed:     71,
			Duration: "1 min",
			Job: JobSpec{
				Sources: []SourceSpec{{Name: "orders", Splits: 2, Rate: "1000/s", Records: 3000,
					Keys: &KeySpec{Count: 20000}, RecordSize: "64 B"}},
				Operators: []OperatorSpec{
					{Name: "totals", Type: "sum", Input: "orders", KeyBy: "key", Parallelism: 2, Cost: "20 us"},
					{Name: "out", Type: "sink", Input: "totals", Parallelism: 2, Cost: "20 us"},
				},
			},
			Cluster: ClusterSpec{Workers: 3, SlotsPerWorker: 4,
				Network:           &LinkSpec{Latency: "1 ms", Jitter: "200 us", Bandwidth: "1 Gbit/s"},
				CheckpointStorage: &StorageSpec{Latency: "20 ms", Bandwidth: "2 MB/s"}},
			Config: config("execution.checkpointing.interval", "500 ms"),
			Faults: []FaultSpec{
				{When: &WhenSpec{Checkpoint: 3, Phase: "after-complete"}, Kind: "crash-worker", Worker: "worker-1", RestartAfter: "500 ms"},
			},
		},
		{
			Name: "overlapping-hybrid-checkpoints",
			Description: "Hybrid checkpoints (aligned for 15 ms, then unaligned) every 70 ms, up to four in flight, " +
				"over tiny network buffers with the sum slowed down: barriers time out in the output queues and " +
				"overtake buffers at their senders, which the consumers must persist as input state until the last " +
				"of them arrived, while the next checkpoint already persists the same channels. A worker crashes " +
				"once checkpoint 8 completed.",
			Seed:     13,
			Duration: "1 min",
			Job: JobSpec{
				Sources: []SourceSpec{{Name: "orders", Splits: 3, Parallelism: 4, Rate: "900/s", Records: 800,
					Keys: &KeySpec{Count: 175}, RecordSize: "64 B"}},
				Operators: []OperatorSpec{
					{Name: "enrich", Type: "map", Input: "orders", Partitioning: "rebalance", Parallelism: 3},
					{Name: "totals", Type: "sum", Input: "enrich", KeyBy: "key", Parallelism: 3, Cost: "200 us"},
					{Name: "out", Type: "sink", Input: "totals", Parallelism: 3, Cost: "1 ms"},
				},
			},
			Cluster: cluster3(),
			Config: config(
				"execution.checkpointing.interval", "70 ms",
				"execution.checkpointing.max-concurrent-checkpoints", "4",
				"execution.checkpointing.aligned-checkpoint-timeout", "15 ms",
				"taskmanager.memory.segment-size", "512 b",
				"taskmanager.network.memory.buffers-per-channel", "2",
				"taskmanager.network.memory.floating-buffers-per-gate", "4",
				"execution.buffer-timeout", "20 ms",
			),
			Faults: []FaultSpec{
				{When: &WhenSpec{Checkpoint: 8, Phase: "after-complete"}, Kind: "crash-worker", Worker: "worker-1", RestartAfter: "300 ms"},
			},
		},
		{
			Name: "metadata-store-crash",
			Description: "The checkpoint store crashes while the coordinator writes checkpoint 3's metadata: every task " +
				"acknowledged it, yet it never completes, so its sink transactions must not be committed. A worker " +
				"crashes while checkpoint 4 aligns and the job restores checkpoint 2.",
			Seed:     73,
			Duration: "1 min",
			Job: func() JobSpec {
				j := ordersJob(3000, "1000/s")
				j.Operators[2].Sink = "two-phase-commit"
				return j
			}(),
			Cluster: cluster3(),
			Config:  config("execution.checkpointing.tolerable-failed-checkpoints", "10"),
			Faults: []FaultSpec{
				{When: &WhenSpec{Checkpoint: 3, Phase: "metadata"}, Kind: "crash-store", For: "300 ms"},
				{When: &WhenSpec{Checkpoint: 4, Phase: "alignment"}, Kind: "crash-worker", Worker: "worker-1", RestartAfter: "500 ms"},
			},
		},
	}
}
