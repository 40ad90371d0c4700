package scenarios

import (
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/sim"
)

// flagBlind is unaligned checkpointing whose handlers never look at
// BarrierInfo.Savepoint: it takes savepoints unaligned, as examples/myprotocol's
// capped handler once did.
type flagBlind struct{ checkpoint.Protocol }

func (flagBlind) Name() string { return "flag-blind" }
func (p flagBlind) NewHandler(cfg checkpoint.HandlerConfig) checkpoint.BarrierHandler {
	return blindHandler{p.Protocol.NewHandler(cfg)}
}

type blindHandler struct{ checkpoint.BarrierHandler }

func (h blindHandler) Barrier(ch int, b checkpoint.BarrierInfo, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	b.Savepoint = false
	return h.BarrierHandler.Barrier(ch, b, now, out)
}

// TestBrokenSavepointContractIsNamed: a protocol that takes a savepoint unaligned
// fails stop-with-savepoint-drain by the check protocol-contract, which names the
// savepoint, the task and the rule, and by nothing else (no "did not finish").
func TestBrokenSavepointContractIsNamed(t *testing.T) {
	inner, err := checkpoint.Lookup("unaligned")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := Lookup("stop-with-savepoint-drain")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sc.SetupWith(flagBlind{inner})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(st, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || res.Outcome != "check-failed" {
		t.Fatalf("outcome %s, ok %v, checks %+v", res.Outcome, res.OK, res.Checks)
	}
	var failed []Check
	for _, c := range res.Checks {
		if !c.OK {
			failed = append(failed, c)
		}
	}
	if len(failed) != 1 || failed[0].Name != "protocol-contract" {
		t.Fatalf("failed checks %+v, want protocol-contract alone", failed)
	}
	c := failed[0]
	for _, want := range []string{"protocol flag-blind", "taken unaligned by task", "savepoints must be aligned (checkpoint.BarrierInfo.Savepoint)"} {
		if !strings.Contains(c.Detail, want) {
			t.Errorf("detail %q does not say %q", c.Detail, want)
		}
	}
}
