package scenarios

import (
	"testing"
)

// TestYAMLRoundTripSameTraceHash: every built-in scenario, printed as YAML and
// loaded back, runs to the same trace hash as the original.
func TestYAMLRoundTripSameTraceHash(t *testing.T) {
	for _, sc := range Registry() {
		t.Run(sc.Name, func(t *testing.T) {
			data, err := sc.YAML()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(data, sc.Name+".yaml")
			if err != nil {
				t.Fatalf("the printed YAML does not load: %v", err)
			}
			hash := func(s *Scenario) uint64 {
				setup, err := s.Setup("")
				if err != nil {
					t.Fatal(err)
				}
				o, err := Execute(setup, setup.Seed, true)
				if err != nil {
					t.Fatal(err)
				}
				return o.Hash
			}
			if a, b := hash(sc), hash(back); a != b {
				t.Fatalf("trace hash %016x from the registry, %016x from its YAML", a, b)
			}
		})
	}
}
