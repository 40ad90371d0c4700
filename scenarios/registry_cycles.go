package scenarios

// cycleScenarios are the scenarios of jobs with a back edge.
func cycleScenarios() []*Scenario {
	return []*Scenario{
		{
			Name: "cyclic-reachability",
			Description: "CheckMate's cyclic query: incremental reachability. Links (2 splits) and start nodes are joined per " +
				"node by a path join; its new paths go through select (slow: 400 us a record) and project to the sink and " +
				"back to the join, keyed by their end, until no new path appears. Worker 1 crashes 1.5 s in, mid-iteration, " +
				"while a join subtask logs the paths coming back on the feedback edge after its snapshot (ABS Algorithm 2 " +
				"under aligned): the log must be replayed on restore, or the paths in flight on the loop are lost. " +
				"unaligned persists the back edge as input channel state until its barrier comes back; uncoordinated " +
				"and cic replay it from their message logs; hybrid and atleastonce refuse the job, naming the edge.",
			Seed:     13,
			Duration: "1 min",
			Job:      reachabilityJob(),
			Cluster:  cluster3(),
			Config:   config("execution.checkpointing.interval", "200 ms"),
			Faults: []FaultSpec{
				{At: "1500 ms", Kind: "crash-worker", Worker: "worker-1", RestartAfter: "500 ms"},
			},
		},
		{
			Name: "cyclic-narrow-loop",
			Description: "The cyclic query with its loop through one select task (parallelism 1) for the two join " +
				"subtasks: a join subtask sends only to select, so on what comes back from select HMNR's first forcing " +
				"condition cannot fire, and only its second one (m.ckpt[i] = ckpt[i] and m.taken[i]) keeps select's " +
				"checkpoints off Z-cycles: cic must take no useless checkpoint. (In cyclic-reachability the loop is " +
				"chained to the join, every loop task also sends to itself, and the first condition covers it.) " +
				"Worker 1 crashes 1.5 s in, mid-iteration.",
			Seed:     13,
			Duration: "1 min",
			Job: func() JobSpec {
				j := reachabilityJob()
				j.Operators[1].Parallelism = 1
				return j
			}(),
			Cluster: cluster3(),
			Config:  config("execution.checkpointing.interval", "200 ms"),
			Faults: []FaultSpec{
				{At: "1500 ms", Kind: "crash-worker", Worker: "worker-1", RestartAfter: "500 ms"},
			},
		},
	}
}

// reachabilityJob is the cyclic query: links and starts -> join (path join,
// feedback from project) -> select -> project -> out.
func reachabilityJob() JobSpec {
	return JobSpec{
		Sources: []SourceSpec{
			{Name: "links", Splits: 2, Rate: "100/s", Records: 300, Keys: &KeySpec{Count: 200}, RecordSize: "16 B"},
			{Name: "starts", Splits: 1, Rate: "10/s", Records: 20, Keys: &KeySpec{Count: 200}, RecordSize: "16 B"},
		},
		Operators: []OperatorSpec{
			{Name: "join", Type: "path-join", Inputs: []string{"links", "starts"}, Nodes: 200, Feedback: "project", Parallelism: 2, Cost: "20 us"},
			{Name: "select", Type: "map", Input: "join", Cost: "400 us"},
			{Name: "project", Type: "map", Input: "select", Cost: "5 us"},
			{Name: "out", Type: "sink", Input: "project", Parallelism: 1, Cost: "10 us"},
		},
	}
}
