package scenarios

// Result is the outcome of one scenario run under one protocol: what the CLI prints
// (as one JSON object with --json) and what suites aggregate. Field names are part
// of simrun's contract.
type Result struct {
	Scenario  string  `json:"scenario"`
	Protocol  string  `json:"protocol"`
	Seed      uint64  `json:"seed"`
	TraceHash string  `json:"trace_hash"`
	SimTimeMS float64 `json:"sim_time_ms"`
	// WallMS is how long the run took on this machine (reporting only). It is
	// left out of the files a suite writes, which are reproducible byte for
	// byte; suite --out keeps it in wall-clock.json.
	WallMS float64 `json:"wall_ms,omitempty"`
	// SimSecondsPerWallSecond is the simulated time of the run with faults per
	// second of WallMS (every oracle's runs included): how much faster than real
	// time this machine simulates the job. Reporting only, like WallMS.
	SimSecondsPerWallSecond float64 `json:"sim_seconds_per_wall_second,omitempty"`
	// PeakHeapBytes is the largest the process's heap grew while simrun run
	// ran the scenario (runtime/metrics' heap objects, sampled every few
	// milliseconds outside the simulation). Only simrun run and replay set it (a
	// suite's runs share one heap); reporting only, like WallMS.
	PeakHeapBytes uint64 `json:"peak_heap_bytes,omitempty"`
	Events        uint64 `json:"events"`
	Records       int64  `json:"records"`
	// Checkpoints counts every checkpoint the run triggered: triggered =
	// completed + failed + lost (with a crashed job manager) + in progress at the
	// end of the run, as the run's trace shows them.
	Checkpoints struct {
		Triggered              int     `json:"triggered"`
		Completed              int     `json:"completed"`
		Failed                 int     `json:"failed"`
		Lost                   int     `json:"lost"`
		InProgress             int     `json:"in_progress"`
		DurationMS             Summary `json:"duration_ms"`
		AlignmentMS            Summary `json:"alignment_ms"`
		StartDelayMS           Summary `json:"start_delay_ms"`
		CheckpointedBytes      Summary `json:"checkpointed_bytes"`
		FullBytes              Summary `json:"full_bytes"`
		PersistedInflightBytes Summary `json:"persisted_inflight_bytes"`
	} `json:"checkpoints"`
	Failures int `json:"failures"`
	Restarts int `json:"restarts"`
	// RecoveryMS is the downtime of each restart: failure to redeployment.
	RecoveryMS Summary `json:"recovery_ms"`
	// CatchUpMS is, per restart, the time from the failure until every source was
	// back where it was at the failure.
	CatchUpMS Summary `json:"catch_up_ms"`
	// ReprocessedRecords is the number of source records read again after restores.
	ReprocessedRecords int64   `json:"reprocessed_records"`
	ThroughputRPS      float64 `json:"throughput_rps"`
	// ProcessedRPS is the records the sink tasks of the last attempt processed,
	// committed or not, per simulated second of the run: the steady throughput of a
	// run without failures, unbiased by when the sink commits.
	ProcessedRPS float64 `json:"processed_rps"`
	LatencyMS    Summary `json:"latency_ms"`
	// Guarantee is what the output oracles checked: the protocol's guarantee, or
	// at least once under an at-least-once sink (GuaranteeNote says why).
	Guarantee     string `json:"guarantee"`
	GuaranteeNote string `json:"guarantee_note,omitempty"`
	// Costs are the checkpoint protocol's costs, defined alike for every protocol.
	Costs  Costs   `json:"costs"`
	Checks []Check `json:"checks"`
	// Expected is the scenario's expected outcome: pass, job-fails or detected.
	Expected string `json:"expected"`
	// Outcome is what happened: pass, job-fails or detected.
	Outcome string `json:"outcome"`
	OK      bool   `json:"ok"`
	Replay  string `json:"replay"`
	// Faults lists the faults injected, in order, one line each.
	Faults []string `json:"faults,omitempty"`
	// Savepoints summarises the savepoints the run's actions took (also counted
	// among the checkpoints; their durations only here).
	Savepoints *SavepointSummary `json:"savepoints,omitempty"`
	// Actions lists the actions carried out, in order, one line each.
	Actions []string `json:"actions,omitempty"`
	// Coverage names the interesting situations the run reached.
	Coverage []string `json:"coverage,omitempty"`
}

// Summary is a distribution: median, 99th percentile and maximum.
type Summary struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Check is one oracle's verdict.
type Check struct {
	Name string `json:"name"`
	// OK is false when the check failed the run.
	OK bool `json:"ok"`
	// Skipped is set on a check that had nothing to check (checkpointing off, no
	// output to compare): it fails nothing and its detail says why.
	Skipped bool   `json:"skipped,omitempty"`
	Detail  string `json:"detail,omitempty"`
	// Diff is the full difference behind a failed comparison, one item a line;
	// Detail shows its first items.
	Diff string `json:"diff,omitempty"`
}

// SavepointSummary is what the savepoints of a run took: counts, end-to-end
// duration and alignment per subtask, and the restores from savepoints and
// retained checkpoints.
type SavepointSummary struct {
	Triggered   int     `json:"triggered"`
	Completed   int     `json:"completed"`
	Failed      int     `json:"failed"`
	DurationMS  Summary `json:"duration_ms"`
	AlignmentMS Summary `json:"alignment_ms"`
	Restores    int     `json:"restores"`
}
