package faults

import (
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	_ "github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/google/go-cmp/cmp"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		spec Spec
		err  string
	}{
		{"ok crash", Spec{Kind: CrashWorker, Worker: "worker-0"}, ""},
		{"unknown kind", Spec{Kind: "meteor"}, "unknown fault kind"},
		{"negative at", Spec{Kind: StorageOutage, At: -1}, "negative"},
		{"task needed", Spec{Kind: CrashTask}, "needs a task"},
		{"task from trigger", Spec{Kind: CrashTask, When: &When{Phase: PhaseAlignment, Task: "sum[0]"}}, ""},
		{"bad phase", Spec{Kind: CrashWorker, When: &When{Phase: "lunch"}}, "unknown trigger phase"},
		{"step phase", Spec{Kind: CrashCoordinator, When: &When{Phase: StepAcknowledged, Checkpoint: 2, Task: "sum[1]", Nth: 1}}, ""},
		{"negative nth", Spec{Kind: CrashCoordinator, When: &When{Phase: StepBarrier, Nth: -1}}, "nth"},
		{"store crash", Spec{Kind: CrashStore, When: &When{Phase: StepUploaded}}, ""},
		{"partition needs two", Spec{Kind: Partition, Between: [2]string{"worker-0", "worker-0"}}, "two different nodes"},
		{"straggler factor", Spec{Kind: Straggler, Task: "map[0]", Factor: 0.5}, "factor"},
		{"disk probability", Spec{Kind: DiskErrors, Worker: "worker-0", Probability: 2}, "probability"},
		{"negative count", Spec{Kind: SinkCommitFailure, Count: -1}, "count"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.spec.Validate()
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("error %v, want one containing %q", err, c.err)
			}
		})
	}
}

func TestRandomIsAFunctionOfTheSeed(t *testing.T) {
	targets := Targets{Tasks: []string{"src[0]", "sum[0]"}, Workers: []string{"worker-0", "worker-1"}, Window: 2 * sim.Second, Sinks: true}
	for seed := uint64(1); seed <= 50; seed++ {
		sw1, s1 := Random(sim.NewRand(seed, "f"), targets)
		sw2, s2 := Random(sim.NewRand(seed, "f"), targets)
		if d := cmp.Diff(s1, s2); d != "" || sw1.String() != sw2.String() {
			t.Fatalf("seed %d gave two schedules:\n%s", seed, d)
		}
		if err := s1.Validate(); err != nil {
			t.Fatalf("seed %d: random schedule invalid: %v", seed, err)
		}
		for _, s := range s1 {
			if s.When == nil && (s.At < 0 || s.At > targets.Window) {
				t.Fatalf("seed %d: fault at %v outside the window", seed, s.At)
			}
		}
	}
}

func testRuntime(t *testing.T) *engine.Runtime {
	p, _ := checkpoint.Lookup("aligned")
	j := engine.NewJob("t")
	j.Source("src", engine.SourceSpec{Splits: 2, Records: 500, Rate: 1000}).Parallelism(2).
		KeyBy().Sum("sum").Parallelism(2).Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit})
	rt, err := engine.NewRuntime(sim.NewWorld(1), j, engine.Config{Workers: 2, Protocol: p,
		Checkpoint: engine.CheckpointConfig{Interval: 100 * sim.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func TestInstallChecksTargets(t *testing.T) {
	for _, s := range []Spec{
		{Kind: CrashTask, Task: "nope[0]"},
		{Kind: CrashTask, Task: "sum[7]"},
		{Kind: CrashWorker, Worker: "worker-9"},
		{Kind: Partition, Between: [2]string{"worker-0", "moon"}},
	} {
		if _, err := Install(testRuntime(t), Schedule{s}); err == nil {
			t.Errorf("%v: installed a fault on a target that does not exist", s)
		}
	}
}

func TestInjectedFaultsHappenAndHeal(t *testing.T) {
	rt := testRuntime(t)
	in, err := Install(rt, Schedule{
		{Kind: Partition, At: 100 * sim.Millisecond, Between: [2]string{"worker-0", "worker-1"}, For: 200 * sim.Millisecond},
		{Kind: CrashWorker, When: &When{Checkpoint: 2, Phase: PhaseAfterComplete}, Worker: "worker-1", RestartAfter: 100 * sim.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rt.RunToCompletion(sim.Time(sim.Minute)) {
		t.Fatal("job did not finish")
	}
	var kinds []string
	for _, f := range in.Log() {
		kinds = append(kinds, string(f.Kind)+" "+f.Detail)
	}
	want := []string{"partition worker-0 <-> worker-1", "partition healed", "crash-worker worker-1"}
	for _, w := range want {
		found := false
		for _, k := range kinds {
			found = found || k == w
		}
		if !found {
			t.Fatalf("log %v lacks %q", kinds, w)
		}
	}
	if rt.Network().Partitioned(rt.Workers()[0].ID(), rt.Workers()[1].ID()) {
		t.Fatal("the partition did not heal")
	}
	if rt.Restarts() == 0 {
		t.Fatal("the crash did not restart the job")
	}
	if in.Reached["crash-before-notify"] != 1 {
		t.Fatalf("coverage %v lacks crash-before-notify", in.Reached)
	}
}
