package check

import (
	"bytes"
	"testing"

	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/scenarios"
	"pgregory.net/rapid"
)

// TestSeedInputsReachTheirMoments: every fault of every seed input fires, so the
// corpus starts at the moments it is meant to.
func TestSeedInputsReachTheirMoments(t *testing.T) {
	for i, in := range SeedInputs() {
		c, err := DecodeSchedule(in, nil)
		if err != nil {
			t.Fatal(err)
		}
		var fired int
		res, err := scenarios.Run(c.Setup, scenarios.RunOptions{ObserveFaults: func(l []faults.Injected) {
			for _, f := range l {
				if f.Detail != "healed" {
					fired++
				}
			}
		}})
		if err != nil || !res.OK {
			t.Fatalf("seed input %d: %s\n  err %v, outcome %v", i, c, err, res)
		}
		if fired != len(c.Setup.Faults) {
			t.Errorf("seed input %d: %d of %d faults fired: %s", i, fired, len(c.Setup.Faults), c)
		}
	}
}

// TestDecodeScheduleTakesAnyBytes: any input decodes to a valid schedule of at
// most maxFaults faults, the same each time; the bytes choose the protocol only
// when none is given.
func TestDecodeScheduleTakesAnyBytes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		data := rapid.SliceOfN(rapid.Byte(), 0, 80).Draw(t, "data")
		a, err := DecodeSchedule(data, nil)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		b, _ := DecodeSchedule(bytes.Clone(data), nil)
		if a.String() != b.String() {
			t.Fatalf("two decodings:\n%s\n%s", a, b)
		}
		if err := a.Setup.Faults.Validate(); err != nil || len(a.Setup.Faults) > maxFaults {
			t.Fatalf("%d faults, %v: %s", len(a.Setup.Faults), err, a)
		}
	})
}
