package scenarios

import (
	"slices"
	"testing"
)

// Every built-in sweep resolves: its keys exist and every point sets up.
func TestBuiltinSweepsResolve(t *testing.T) {
	sws, err := BuiltinSweeps()
	if err != nil {
		t.Fatal(err)
	}
	if len(sws) != 5 {
		t.Fatalf("%d built-in sweeps, want 5 (figures 3 to 7)", len(sws))
	}
	for _, sw := range sws {
		pts, err := sw.Points()
		if err != nil {
			t.Errorf("%s: %v", sw.Name, err)
			continue
		}
		want := len(sw.Params[0].Values) * len(sw.Protocols)
		if sw.Baseline {
			want += len(sw.Params[0].Values)
		}
		if len(pts) != want {
			t.Errorf("%s: %d points, want %d", sw.Name, len(pts), want)
		}
	}
}

func TestGridAndParseParam(t *testing.T) {
	p, err := ParseParam("a.cost= 1 ms, 2 ms")
	if err != nil || p.Key != "a.cost" || !slices.Equal(p.Values, []string{"1 ms", "2 ms"}) {
		t.Fatalf("ParseParam: %+v %v", p, err)
	}
	for _, bad := range []string{"", "=1", "k", "k=1,,2"} {
		if _, err := ParseParam(bad); err == nil {
			t.Errorf("ParseParam(%q) accepted", bad)
		}
	}
	sw := &Sweep{Params: []Param{{"a", []string{"1", "2"}}, {"b", []string{"x", "y", "z"}}}}
	if n := sw.gridSize(); n != 6 || !slices.Equal(sw.gridPoint(0), []string{"1", "x"}) ||
		!slices.Equal(sw.gridPoint(1), []string{"1", "y"}) || !slices.Equal(sw.gridPoint(5), []string{"2", "z"}) {
		t.Fatalf("grid of %d: %v %v %v", n, sw.gridPoint(0), sw.gridPoint(1), sw.gridPoint(5))
	}
}

// Overrides reach the setup, and the original scenario is untouched.
func TestOverride(t *testing.T) {
	sc, err := Lookup("steady")
	if err != nil {
		t.Fatal(err)
	}
	c := sc.Clone()
	for _, kv := range [][2]string{{"totals.cost", "1 ms"}, {"orders.records", "10"}, {"execution.checkpointing.interval", "2 s"},
		{"duration", "5 s"}, {"seed", "9"}} {
		if err := c.Override(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	st, err := c.Setup("aligned")
	if err != nil {
		t.Fatal(err)
	}
	if st.Seed != 9 || st.Config.Checkpoint.Interval.Seconds() != 2 || st.Limit.Seconds() != 5 {
		t.Fatalf("overrides not applied: seed %d, interval %v, limit %v", st.Seed, st.Config.Checkpoint.Interval, st.Limit)
	}
	if sc.Job.Operators[1].Cost == "1 ms" || sc.Job.Sources[0].Records == 10 || sc.Seed == 9 {
		t.Fatal("Override changed the original scenario")
	}
	for _, bad := range []string{"nope", "nope.cost", "totals.nope", "faults.0.at", "seed"} {
		if err := c.Override(bad, "x"); err == nil {
			t.Errorf("Override(%q) accepted", bad)
		}
	}
}

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"a/b-c_1.yaml": "a/b-c_1.yaml",
		"my file.yaml": "'my file.yaml'",
		"it's":         `'it'\''s'`,
		"":             "''",
	} {
		if got := ShellWord(in); got != want {
			t.Errorf("ShellWord(%q) = %s, want %s", in, got, want)
		}
	}
}
