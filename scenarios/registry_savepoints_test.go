package scenarios

import (
	"fmt"
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
			})
		}
	}
}
