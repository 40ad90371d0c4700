package check

import (
	"flag"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/protocol/mutant"
)

// long runs the whole default battery under every correct protocol (make
// check-long); by default each protocol gets a few scenarios and random cases,
// as package scenarios runs every named scenario under every protocol already.
var long = flag.Bool("long", false, "run check's whole default battery under every built-in protocol")

// TestBuiltinProtocols: the battery passes for every correct built-in protocol,
// given as a value (nothing is looked up by name).
func TestBuiltinProtocols(t *testing.T) {
	for _, p := range []checkpoint.Protocol{protocol.Aligned{}, protocol.Unaligned{}, protocol.Hybrid{}, protocol.AtLeastOnceProtocol{}} {
		t.Run(p.Name(), func(t *testing.T) {
			var opts []Option // -long: the default battery
			if !*long {
				switch p.Name() {
				case "aligned", "unaligned": // crash points of the small job: aligned and in-flight state
					opts = []Option{Budget(4), Scenarios("steady", "crash-during-alignment", "coordinator-crash")}
				default:
					opts = []Option{Budget(2), Scenarios("crash-during-alignment"), CrashPoints("")}
				}
			}
			Protocol(t, p, opts...)
		})
	}
}

// TestMutantsAreCaught: the battery catches every built-in mutant, and the case a
// failure names fails the same check when replayed alone.
func TestMutantsAreCaught(t *testing.T) {
	for _, m := range mutant.All {
		t.Run(m.Name(), func(t *testing.T) {
			opts := []Option{FailFast(), Scenarios(), Budget(0)}
			if m.Cyclic {
				// only a job with a back edge can catch it: the cyclic scenario
				opts = []Option{FailFast(), Scenarios("cyclic-reachability"), Budget(0), CrashPoints("")}
			}
			rep, err := Run(m, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatalf("%s survived: %s", m.Name(), rep.Summary())
			}
			f := rep.Failures[0]
			if !strings.Contains(f.Replay, "-ckptsim.replay="+f.Case) {
				t.Fatalf("replay %q does not name case %q", f.Replay, f.Case)
			}
			again, err := Run(m, Replay(f.Case))
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Failures) != 1 || again.Failures[0].Check != f.Check {
				t.Fatalf("case %s failed %s; replayed alone: %+v", f.Case, f.Check, again.Failures)
			}
			t.Logf("caught: %s", f)
		})
	}
}
