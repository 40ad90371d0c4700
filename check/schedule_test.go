package check

import (
	"bytes"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
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

// TestSeedInputsReachTheNarrowLoop: the last seed input is a narrow cyclic loop
// (one select task for several join subtasks), on which mutant/cic-skip-forced
// takes a useless checkpoint and cic does not.
func TestSeedInputsReachTheNarrowLoop(t *testing.T) {
	in := SeedInputs()[len(SeedInputs())-1]
	for _, name := range []string{"cic", "mutant/cic-skip-forced"} {
		p, err := checkpoint.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		c, err := DecodeSchedule(in, p)
		if err != nil {
			t.Fatal(err)
		}
		par := map[string]int{}
		for _, v := range c.Setup.NewJob().Vertices {
			par[v.Name] = v.Parallelism
		}
		if c.Setup.Name != "random/cycle" || par["select"] != 1 || par["join"] < 2 {
			t.Fatalf("%s: not a narrow loop: %s, parallelism %v", name, c, par)
		}
		ch := CheckSchedule(c)
		switch {
		case name == "cic" && ch != nil:
			t.Errorf("cic failed %s: %s", ch.Name, clip(ch.Detail, 300))
		case name != "cic" && (ch == nil || ch.Name != "no-useless-checkpoints"):
			t.Errorf("%s: got %+v, want no-useless-checkpoints to fail", name, ch)
		}
		t.Logf("%s: join at parallelism %d: %v", name, par["join"], ch)
	}
}
