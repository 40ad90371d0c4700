package simrun

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptsim/ckptsim/reports"
	"github.com/ckptsim/ckptsim/scenarios"
)

// TestSummaryCountsEqualTrace: for every named scenario under every protocol, the
// checkpoint counts of the run's summary are those of its Chrome trace (one
// checkpoint slice per triggered checkpoint, ending with its status).
func TestSummaryCountsEqualTrace(t *testing.T) {
	protos, err := suiteProtocols(nil)
	if err != nil {
		t.Fatal(err)
	}
	// and a job manager that crashes while a checkpoint is in flight
	cc, err := scenarios.Lookup("coordinator-crash")
	if err != nil {
		t.Fatal(err)
	}
	cc = cc.Clone()
	cc.Name += "-mid-checkpoint"
	cc.Faults = []scenarios.FaultSpec{{At: "1510 ms", Kind: "crash-coordinator", RestartAfter: "1 s"}}
	dir := t.TempDir()
	results, _ := runSuite(append(scenarios.Registry(), cc), protos, 2, false, dir, io.Discard, nil)
	lost := 0
	for _, r := range results {
		lost += r.Checkpoints.Lost
		data, err := os.ReadFile(filepath.Join(dir, reports.FigureName(r.Scenario, r.Protocol, "trace")+".json"))
		if err != nil {
			t.Errorf("%s under %s: %v", r.Scenario, r.Protocol, err)
			continue
		}
		var trace struct {
			TraceEvents []struct {
				Ph   string `json:"ph"`
				Cat  string `json:"cat"`
				Args struct {
					Status string `json:"status"`
				} `json:"args"`
			} `json:"traceEvents"`
		}
		if err := json.Unmarshal(data, &trace); err != nil {
			t.Fatal(err)
		}
		status := map[string]int{}
		total := 0
		for _, e := range trace.TraceEvents {
			if e.Cat == "checkpoint" && e.Ph == "e" {
				status[e.Args.Status]++
				total++
			}
		}
		c := r.Checkpoints
		if c.Triggered != total || c.Completed != status["COMPLETED"] || c.Failed != status["FAILED"] ||
			c.Lost != status["LOST"] || c.InProgress != status["IN_PROGRESS"] {
			t.Errorf("%s under %s: summary %d triggered, %d completed, %d failed, %d lost, %d in progress; trace %d checkpoints %v",
				r.Scenario, r.Protocol, c.Triggered, c.Completed, c.Failed, c.Lost, c.InProgress, total, status)
		}
	}
	if lost == 0 {
		t.Error("no run lost a checkpoint with its job manager: the test no longer covers lost checkpoints")
	}
}
