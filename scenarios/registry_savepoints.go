package scenarios

// savepointScenarios are the built-in scenarios of savepoints, rescaling and
// window joins (issue 17), after the core ones.
func savepointScenarios() []*Scenario {
	return []*Scenario{
		{
			Name: "rescale-by-savepoint",
			Description: "The orders pipeline under load (4 splits at 1000/s, the sink near capacity) is stopped with a " +
				"savepoint at 2 s and restarted a second later with enrich and totals at parallelism 3, stopped again at " +
				"5 s and restarted at 6, as an operator rescales a Flink job; a task of the rescaled job then fails. " +
				"Savepoints are aligned whatever the protocol, so even unaligned checkpointing restores at the new " +
				"parallelism; state and output end as in the uninterrupted run.",
			Seed:     89,
			Duration: "1 min",
			Job: JobSpec{
				Sources: []SourceSpec{{Name: "orders", Splits: 4, Rate: "1000/s", Records: 8000,
					Keys: &KeySpec{Distribution: "zipf", Count: 1000}, Disorder: "50 ms", RecordSize: "64 B"}},
				Operators: []OperatorSpec{
					{Name: "enrich", Type: "map", Input: "orders", Parallelism: 4, Cost: "20 us"},
					{Name: "totals", Type: "sum", Input: "enrich", KeyBy: "key", Parallelism: 4, Cost: "100 us"},
					{Name: "out", Type: "sink", Input: "totals", Parallelism: 2, Cost: "400 us"},
				},
			},
			Cluster: cluster3(),
			Config:  config(),
			Actions: []ActionSpec{
				{At: "2 s", Kind: "stop-with-savepoint"},
				{After: "1 s", Kind: "restore", Parallelism: map[string]int{"enrich": 3, "totals": 3}},
				{At: "5 s", Kind: "stop-with-savepoint"},
				{After: "500 ms", Kind: "restore", Parallelism: map[string]int{"enrich": 6, "totals": 6}},
			},
			Faults: []FaultSpec{
				{At: "7 s", Kind: "crash-task", Task: "totals[2]"},
			},
		},
		{
			Name: "stop-with-savepoint-drain",
			Description: "Event-time windows (tumbling 500 ms, summing) and a running count over a keyed stream; at 2.5 s " +
				"the job is stopped with a savepoint and --drain: the sources emit the final watermark before the " +
				"barrier, every window fires, the sinks commit the savepoint's transactions and the job ends. The output " +
				"is that of a run whose input ends where the savepoint's offsets are, exactly once.",
			Seed:     97,
			Duration: "1 min",
			Job: JobSpec{
				Sources: []SourceSpec{{Name: "events", Splits: 4, Rate: "1000/s", Records: 6000,
					Keys: &KeySpec{Count: 200}, Disorder: "30 ms", RecordSize: "64 B"}},
				Operators: []OperatorSpec{
					{Name: "windows", Type: "window", Input: "events", KeyBy: "key", Parallelism: 4, Cost: "20 us",
						Size: "500 ms", Aggregate: "sum"},
					{Name: "counts", Type: "count", Input: "events", KeyBy: "key", Parallelism: 3, Cost: "20 us"},
					{Name: "out", Type: "sink", Input: "windows", Parallelism: 2, Cost: "50 us"},
					{Name: "audit", Type: "sink", Input: "counts", Parallelism: 2, Cost: "20 us"},
				},
			},
			Cluster: cluster3(),
			Config:  config("pipeline.auto-watermark-interval", "100 ms"),
			Actions: []ActionSpec{
				{At: "2500 ms", Kind: "stop-with-savepoint", Drain: true},
			},
			Faults: []FaultSpec{
				{At: "1200 ms", Kind: "crash-task", Task: "windows[3]"},
			},
		},
		{
			Name: "savepoint-during-backpressure",
			Description: "Flink's checkpointing benchmark job (source → map → sink at 1 ms per record, backpressured) " +
				"with unaligned checkpoints every second: the checkpoints take milliseconds, but the savepoint taken at " +
				"3 s is aligned (Flink never takes savepoints unaligned) and waits for the in-flight buffers to drain " +
				"through the slow sink: its duration is in the run's savepoints summary. Its first try fails (the " +
				"checkpoint store is down while it uploads) and the second savepoint's second try loses a worker during " +
				"its alignment: both are asked again, and every completed savepoint is a valid restore point.",
			Seed:     101,
			Duration: "1 min",
			Job:      benchmarkJob(12000, "1 kb", "1 ms"),
			Cluster:  benchmarkCluster(),
			Config: benchmarkConfig(
				"execution.checkpointing.unaligned.enabled", "true",
				"execution.checkpointing.aligned-checkpoint-timeout", "0 s",
			),
			Actions: []ActionSpec{
				{At: "3 s", Kind: "savepoint"},
				{After: "1 s", Kind: "savepoint"},
			},
			Faults: []FaultSpec{
				{When: &WhenSpec{Savepoint: 1, Phase: "after-sync", Task: "sink[0]"}, Kind: "storage-outage", For: "300 ms"},
				{When: &WhenSpec{Savepoint: 3, Phase: "alignment", Task: "sink[1]"}, Kind: "crash-worker", RestartAfter: "500 ms"},
			},
		},
		{
			Name: "window-join-crash",
			Description: "Orders (4 splits) and shipments (1 split) window-joined per key in tumbling 500 ms event-time " +
				"windows and co-grouped in sliding 1 s windows every 250 ms: both buffer each window's records of both " +
				"inputs in keyed state. A task of the join fails in the middle of a window and a worker crashes later; " +
				"the restored windows emit every pair and every co-group result exactly once.",
			Seed:     83,
			Duration: "1 min",
			Job: JobSpec{
				Sources: []SourceSpec{
					{Name: "orders", Splits: 4, Rate: "1000/s", Records: 3000, Keys: &KeySpec{Count: 500}, Disorder: "20 ms", RecordSize: "64 B"},
					{Name: "shipments", Splits: 1, Rate: "400/s", Records: 1200, Keys: &KeySpec{Count: 500}, Disorder: "20 ms", RecordSize: "64 B"},
				},
				Operators: []OperatorSpec{
					{Name: "matched", Type: "window-join", Inputs: []string{"orders", "shipments"}, KeyBy: "key", Parallelism: 4,
						Cost: "20 us", Size: "500 ms"},
					{Name: "per-key", Type: "co-group", Inputs: []string{"orders", "shipments"}, KeyBy: "key", Parallelism: 3,
						Cost: "20 us", Window: "sliding", Size: "1 s", Slide: "250 ms", Aggregate: "sum"},
					{Name: "pairs", Type: "sink", Input: "matched", Parallelism: 2, Cost: "20 us"},
					{Name: "groups", Type: "sink", Input: "per-key", Parallelism: 2, Cost: "20 us"},
				},
			},
			Cluster: cluster3(),
			Config:  config("pipeline.auto-watermark-interval", "100 ms"),
			Faults: []FaultSpec{
				{At: "1250 ms", Kind: "crash-task", Task: "matched[1]"},
				{At: "2600 ms", Kind: "crash-worker", Worker: "worker-2", RestartAfter: "500 ms"},
			},
		},
	}
}
