package scenarios

// familyScenarios are the scenarios that compare the three families of
// checkpoint protocols (coordinated, uncoordinated, communication-induced) on
// equal terms.
func familyScenarios() []*Scenario {
	return []*Scenario{
		{
			Name: "checkmate",
			Description: "CheckMate's comparison (ICDE 2024) in small: a NEXMark-like running sum of bids per auction " +
				"(4 splits at 500 bids/s each, 1000 auctions, a two-phase-commit sink, 4 workers), checkpoints every 5 s " +
				"(jittered per subtask under uncoordinated and cic), one worker failure 15 s in. bids.hot-key-ratio " +
				"(0 = uniform) sends that share of the bids to one auction, so one subtask of the sum does most of the " +
				"work; simrun sweep --builtin checkmate sweeps it from 0 to 0.9 (docs/checkmate.md).",
			Seed:     101,
			Duration: "1 min",
			Job: JobSpec{
				Sources: []SourceSpec{{Name: "bids", Splits: 4, Rate: "500/s", Records: 15000,
					Keys: &KeySpec{Count: 1000}, RecordSize: "100 B"}},
				Operators: []OperatorSpec{
					{Name: "parse", Type: "map", Input: "bids", Cost: "20 us"},
					{Name: "totals", Type: "sum", Input: "parse", KeyBy: "key", Parallelism: 4, Cost: "450 us"},
					{Name: "out", Type: "sink", Input: "totals", Parallelism: 4, Cost: "20 us"},
				},
			},
			Cluster: ClusterSpec{Workers: 4, SlotsPerWorker: 4,
				Network:           &LinkSpec{Latency: "1 ms", Jitter: "200 us", Bandwidth: "1 Gbit/s"},
				CheckpointStorage: &StorageSpec{Latency: "20 ms", Bandwidth: "200 MB/s"}},
			Config: config("execution.checkpointing.interval", "5 s"),
			Faults: []FaultSpec{
				{At: "15 s", Kind: "crash-worker", Worker: "worker-1", RestartAfter: "1 s"},
			},
		},
	}
}
