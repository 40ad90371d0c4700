package scenarios

import (
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/google/go-cmp/cmp"
)

// windowJoins is a small valid scenario with a window join and a co-group.
const windowJoins = `name: joins
job:
  sources:
    - {name: a, splits: 2, records: 100}
    - {name: b, splits: 1, records: 50}
  operators:
    - {name: j, type: window-join, inputs: [a, b], size: 100 ms, parallelism: 2}
    - {name: g, type: co-group, inputs: [a, b], window: sliding, size: 100 ms, slide: 50 ms, allowed-lateness: 10 ms, aggregate: sum}
    - {name: out, type: sink, input: j}
    - {name: out2, type: sink, input: g}
`

func TestWindowJoinScenarioBuilds(t *testing.T) {
	sc, err := Parse([]byte(windowJoins), "joins.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sc.Setup("")
	if err != nil {
		t.Fatal(err)
	}
	j := st.NewJob()
	byName := map[string]*engine.Vertex{}
	for _, v := range j.Vertices {
		byName[v.Name] = v
	}
	for name, want := range map[string]engine.WindowJoinSpec{
		"j": {Size: 100 * sim.Millisecond},
		"g": {Size: 100 * sim.Millisecond, Slide: 50 * sim.Millisecond, AllowedLateness: 10 * sim.Millisecond, CoGroup: true, Aggregate: "sum"},
	} {
		v := byName[name]
		if v.Kind != engine.KindWindowJoin || v.Parallelism != 2 {
			t.Errorf("%s: kind %v parallelism %d", name, v.Kind, v.Parallelism)
			continue
		}
		if d := cmp.Diff(want, *v.WindowJoin); d != "" {
			t.Errorf("%s: spec (-want +got):\n%s", name, d)
		}
		if len(v.Inputs) != 2 || v.Inputs[0].From.Name != "a" || v.Inputs[1].From.Name != "b" || v.Inputs[1].Input != 1 ||
			v.Inputs[0].Part != engine.Hash || v.Inputs[1].Part != engine.Hash {
			t.Errorf("%s: inputs %+v", name, v.Inputs)
		}
	}
	res, err := Run(st, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK {
		t.Fatalf("checks: %+v", res.Checks)
	}
}

func TestWindowJoinBadInput(t *testing.T) {
	for _, c := range []struct{ name, old, new, pos, msg string }{
		{"one input", "inputs: [a, b], size: 100 ms, parallelism", "input: a, size: 100 ms, parallelism", "7:7",
			"a window-join takes two inputs"},
		{"no size", "size: 100 ms, parallelism", "parallelism", "7:7", "a window needs a size"},
		{"join aggregate", "size: 100 ms, parallelism", "size: 100 ms, aggregate: sum, parallelism", "7:66", "does not take aggregate"},
		{"co-group lower", "aggregate: sum}", "aggregate: sum, lower: 1 s}", "8:135", "does not take lower"},
		{"co-group aggregate", "aggregate: sum}", "aggregate: max}", "8:130", "window aggregate must be count or sum"},
		{"slide", "slide: 50 ms", "slide: 150 ms", "8:87", "longer than the window size"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(windowJoins, c.old) {
				t.Fatalf("case does not apply: %q", c.old)
			}
			_, err := Parse([]byte(strings.Replace(windowJoins, c.old, c.new, 1)), "bad.yaml")
			if err == nil {
				t.Fatal("parsed; want an error")
			}
			first := strings.SplitN(err.Error(), "\n", 2)[0]
			if !strings.HasPrefix(first, "bad.yaml:"+c.pos) || !strings.Contains(first, c.msg) {
				t.Errorf("error %q, want it at %s saying %q", first, c.pos, c.msg)
			}
		})
	}
}

// TestFamilyDrawsWindowJoins: explore's join cases are window joins or coGroups
// about half the time, and the cases that stay interval joins keep their draws.
func TestFamilyDrawsWindowJoins(t *testing.T) {
	kinds := map[string]int{}
	for i := 0; i < 200; i++ {
		c, err := NewRandomCase(CaseSeed(1, i), "aligned")
		if err != nil {
			t.Fatal(err)
		}
		switch c.Shape {
		case "join":
			kinds["interval join"]++
		case "window-join":
			for _, v := range c.Setup.NewJob().Vertices {
				if v.Kind == engine.KindWindowJoin && v.WindowJoin.CoGroup {
					kinds["co-group"]++
				} else if v.Kind == engine.KindWindowJoin {
					kinds["window join"]++
				}
			}
		}
	}
	for _, k := range []string{"interval join", "window join", "co-group"} {
		if kinds[k] < 5 {
			t.Errorf("200 cases drew %d %s jobs, want at least 5 (%v)", kinds[k], k, kinds)
		}
	}
}
