package localcheck_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/checkpoint/recoveryline"
	"github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/protocol/localcheck"
)

var (
	unc = func(cfg checkpoint.LocalConfig) checkpoint.LocalHandler {
		return protocol.Uncoordinated{}.NewLocal(cfg)
	}
	cic = func(cfg checkpoint.LocalConfig) checkpoint.LocalHandler { return protocol.CIC{}.NewLocal(cfg) }
)

// zCycle is the smallest useless checkpoint: process 1 sends m2 to process 0,
// which processes it and checkpoints (C), then sends m1 back; process 1 processes
// m1 in the interval in which it sent m2. The Z-path m1·m2 leads from after C to
// before C, so no consistent cut contains C.
func zCycle(t *testing.T) localcheck.Case {
	evs, err := localcheck.ParseEvents("send 1, deliver 1, timer 0, send 0, deliver 0")
	if err != nil {
		t.Fatal(err)
	}
	return localcheck.Case{Processes: 2, Channels: [][2]int{{0, 1}, {1, 0}}, Events: evs}
}

func TestUncoordinatedTakesTheUselessCheckpoint(t *testing.T) {
	c := zCycle(t)
	got := localcheck.Useless(c, unc)
	if diff := cmp.Diff([]recoveryline.Node{{Task: 0, X: 1}}, got); diff != "" {
		t.Fatalf("useless checkpoints (-want +got):\n%s", diff)
	}
	r := localcheck.Run(c, unc)
	if n := len(r.History.Points[0]); n != 2 {
		t.Fatalf("process 0 has %d checkpoints (initial + timer), want 2", n)
	}
	if diff := cmp.Diff([]int{0, 0}, r.Forced); diff != "" {
		t.Fatalf("uncoordinated forced checkpoints (-want +got):\n%s", diff)
	}
}

func TestCICForcesACheckpointBreakingTheZCycle(t *testing.T) {
	c := zCycle(t)
	if ns := localcheck.Useless(c, cic); len(ns) != 0 {
		t.Fatalf("cic left useless checkpoints %v", ns)
	}
	r := localcheck.Run(c, cic)
	if diff := cmp.Diff([]int{0, 1}, r.Forced); diff != "" {
		t.Fatalf("forced checkpoints per process (-want +got):\n%s", diff)
	}
	cur := r.History.Current[1]
	if cur.Processed[0] != 1 || cur.Sent[0] != 1 {
		t.Fatalf("process 1 ends with sent %v processed %v, want 1 and 1", cur.Sent, cur.Processed)
	}
}

func TestParseEventsRoundTrip(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		c := localcheck.Random(seed)
		got, err := localcheck.ParseEvents(fmt.Sprint(c.Events))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if diff := cmp.Diff(c.Events, got); diff != "" {
			t.Fatalf("seed %d: printed and parsed schedule differs (-want +got):\n%s", seed, diff)
		}
	}
	for _, bad := range []string{"send", "jump 1", "send x", "deliver -1"} {
		if _, err := localcheck.ParseEvents(bad); err == nil {
			t.Errorf("ParseEvents(%q) accepted", bad)
		}
	}
}

func TestRandomIsDeterministic(t *testing.T) {
	a, b := localcheck.Random(7), localcheck.Random(7)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("same seed, different cases:\n%s", diff)
	}
	if cmp.Equal(a, localcheck.Random(8)) {
		t.Fatal("seeds 7 and 8 drew the same case")
	}
}

// TestShrinkKeepsOnlyTheNeededSteps pads the Z-cycle with steps that do not
// matter: Shrink removes every one of them.
func TestShrinkKeepsOnlyTheNeededSteps(t *testing.T) {
	c := zCycle(t)
	pad, _ := localcheck.ParseEvents("timer 1, send 0, deliver 0, timer 1")
	c.Events = append(append(append([]localcheck.Event(nil), pad...), c.Events...), pad...)
	fails := func(c localcheck.Case) bool { return len(localcheck.Useless(c, unc)) > 0 }
	got := localcheck.Shrink(c, fails)
	if !fails(got) {
		t.Fatal("shrunk case passes")
	}
	if len(got.Events) > len(zCycle(t).Events) {
		t.Fatalf("shrunk to %d steps, the Z-cycle needs %d: %v", len(got.Events), len(zCycle(t).Events), got)
	}
}
