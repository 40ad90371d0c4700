package scenarios

import (
	"fmt"
	"strings"
	"testing"
)

// TestSavepointScenariosPass runs the savepoint, rescale and window-join
// scenarios under every protocol: each passes every check its protocol promises.
func TestSavepointScenariosPass(t *testing.T) {
	for _, sc := range savepointScenarios() {
		for _, proto := range allProtocols {
			t.Run(sc.Name+"/"+proto, func(t *testing.T) {
				st, err := sc.Setup(proto)
				if err != nil {
					t.Fatal(err)
				}
				res, err := Run(st, RunOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !res.OK {
					msg := ""
					for _, c := range res.Checks {
						if !c.OK {
							msg += fmt.Sprintf("\n  %s: %s", c.Name, c.Detail)
						}
					}
					t.Fatalf("outcome %s:%s\n  replay: %s", res.Outcome, msg, res.Replay)
				}
				for _, a := range res.Actions {
					if !strings.Contains(a, ", done ") || strings.Contains(a, "skipped") {
						t.Errorf("action did not run to its end: %s", a)
					}
				}
				if sc.Name == "savepoint-during-backpressure" && proto == "unaligned" {
					// the point of the scenario: the aligned savepoint waits for the
					// in-flight data the unaligned checkpoints overtake
					sp, ck := res.Savepoints.DurationMS.P50, res.Checkpoints.DurationMS.P50
					if sp < 20*ck || res.Savepoints.Completed < 2 {
						t.Errorf("savepoint p50 %.1f ms, checkpoint p50 %.1f ms; %d savepoints", sp, ck, res.Savepoints.Completed)
					}
				}
			})
		}
	}
}
