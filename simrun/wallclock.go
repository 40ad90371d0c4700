package simrun

import (
	"time"

	"github.com/ckptsim/ckptsim/scenarios"
)

// wallClockFile is the one file of a suite's output that differs from one run
// of the same suite to the next: how long the runs took on this machine. Every
// other file (results.json, summary.txt, the tables, the figures, the HTML
// report) is a function of the scenarios and seeds only, byte for byte.
const wallClockFile = "wall-clock.json"

// wallClock is the content of wall-clock.json.
type wallClock struct {
	Note    string        `json:"note"`
	Workers int           `json:"workers"`
	SuiteMS float64       `json:"suite_wall_ms"`
	Runs    []wallClockMS `json:"runs"`
}

type wallClockMS struct {
	Scenario string  `json:"scenario"`
	Protocol string  `json:"protocol"`
	WallMS   float64 `json:"wall_ms"`
	// SimSecondsPerWallSecond is the run's simulated time per wall second.
	SimSecondsPerWallSecond float64 `json:"sim_seconds_per_wall_second"`
}

// writeWallClock writes DIR/wall-clock.json: the suite's and every run's
// wall-clock time (measured for reporting only; never part of a trace).
func writeWallClock(dir string, results []*scenarios.Result, workers int, wall time.Duration) error {
	w := wallClock{Note: "wall-clock times of this machine: the only file of this folder that differs between two runs of the same suite",
		Workers: workers, SuiteMS: float64(wall.Microseconds()) / 1000, Runs: make([]wallClockMS, len(results))}
	for i, r := range results {
		w.Runs[i] = wallClockMS{Scenario: r.Scenario, Protocol: r.Protocol, WallMS: r.WallMS,
			SimSecondsPerWallSecond: r.SimSecondsPerWallSecond}
	}
	return writeJSONFile(dir, wallClockFile, w)
}

// withoutWallClock copies results with their wall-clock times cleared (omitted
// from JSON), for the files that must be reproducible.
func withoutWallClock(results []*scenarios.Result) []*scenarios.Result {
	out := make([]*scenarios.Result, len(results))
	for i, r := range results {
		c := *r
		c.WallMS, c.SimSecondsPerWallSecond, c.PeakHeapBytes = 0, 0, 0
		out[i] = &c
	}
	return out
}
