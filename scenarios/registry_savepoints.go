package scenarios

// savepointScenarios are the built-in scenarios of savepoints, rescaling and
// window joins (issue 17), after the core ones.
func savepointScenarios() []*Scenario {
	return []*Scenario{
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
