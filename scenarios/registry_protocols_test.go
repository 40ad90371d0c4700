package scenarios

import (
	"testing"
)

// classMutants names, per scenario of protocolScenarios, the mutants it must
// catch.
var classMutants = map[string][]string{
	"overtaken-output-under-backpressure": {"mutant/unaligned-drop-output-state", "mutant/unaligned-overtaken-drop-last"},
	"early-release-fan-in":                {"mutant/aligned-early-release", "mutant/aligned-no-block"},
	"late-acknowledgement":                {"mutant/complete-without-all-acks"},
	"metadata-store-crash":                {"mutant/notify-before-metadata"},
}

// TestClassScenariosCatchTheirMutants runs each bug-class scenario under the
// mutants of its class (it must fail a check) and under every correct protocol
// (it must pass), as `simrun suite --protocols mutant/NAME` does.
func TestClassScenariosCatchTheirMutants(t *testing.T) {
	for name, mutants := range classMutants {
		s, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, proto := range append([]string{"aligned", "unaligned", "hybrid", "atleastonce"}, mutants...) {
			setup, err := s.Setup(proto)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(setup, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			mutant := len(proto) > 7 && proto[:7] == "mutant/"
			switch {
			case mutant && res.OK:
				t.Errorf("%s under %s passed every check: the mutant survived", name, proto)
			case mutant:
				for _, c := range res.Checks {
					if !c.OK {
						t.Logf("%s under %s: %s failed", name, proto, c.Name)
					}
				}
			case !mutant && !res.OK:
				t.Errorf("%s under %s: %s %+v", name, proto, res.Outcome, res.Checks)
			}
		}
	}
}
