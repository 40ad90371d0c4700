package scenarios

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"
	"pgregory.net/rapid"
)

// TestMain keeps the property tests CI-sized unless -rapid.checks is given
// (make check-long gives a large budget).
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		_ = flag.Set("rapid.checks", "30")
	}
	os.Exit(m.Run())
}

// drawSchedule draws a fault schedule rapid can shrink: fewer faults, earlier
// times, smaller parameters.
func drawSchedule(t *rapid.T, tasks, workers []string) faults.Schedule {
	kinds := []faults.Kind{faults.CrashTask, faults.CrashWorker, faults.CrashCoordinator, faults.Partition,
		faults.Straggler, faults.StorageOutage, faults.SinkCommitFailure}
	n := rapid.IntRange(0, 4).Draw(t, "faults")
	var sched faults.Schedule
	nodes := append(append([]string(nil), workers...), "jobmanager")
	for i := 0; i < n; i++ {
		s := faults.Spec{
			Kind: rapid.SampledFrom(kinds).Draw(t, "kind"),
			At:   sim.Duration(rapid.Int64Range(0, int64(2*sim.Second)).Draw(t, "at")),
		}
		switch s.Kind {
		case faults.CrashTask, faults.Straggler:
			s.Task = rapid.SampledFrom(tasks).Draw(t, "task")
			s.Factor = 5
		case faults.CrashWorker:
			s.Worker = rapid.SampledFrom(workers).Draw(t, "worker")
		case faults.Partition:
			a := rapid.IntRange(0, len(nodes)-1).Draw(t, "a")
			b := rapid.IntRange(0, len(nodes)-2).Draw(t, "b")
			if b >= a {
				b++
			}
			s.Between = [2]string{nodes[a], nodes[b]}
		case faults.SinkCommitFailure:
			s.Count = rapid.IntRange(1, 5).Draw(t, "count")
		}
		s.For = sim.Duration(rapid.Int64Range(int64(50*sim.Millisecond), int64(2*sim.Second)).Draw(t, "for"))
		s.RestartAfter = sim.Duration(rapid.Int64Range(int64(50*sim.Millisecond), int64(2*sim.Second)).Draw(t, "restart"))
		sched = append(sched, s)
	}
	return sched
}

// TestPropertyExactlyOnce: for random jobs of the family, random correct
// protocols and configurations, and random fault schedules, every oracle the
// protocol promises holds. A failure shrinks to a minimal schedule and prints the
// checks, the schedule and a replay command; rapid's failfile replays it too.
func TestPropertyExactlyOnce(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		seed := rapid.Uint64().Draw(rt, "case")
		proto := rapid.SampledFrom([]string{"aligned", "unaligned", "hybrid", "atleastonce"}).Draw(rt, "protocol")
		c, err := NewRandomCase(seed, proto)
		if err != nil {
			rt.Fatal(err)
		}
		targets, err := faultTargets(c.Setup.NewJob, c.Setup.Config)
		if err != nil {
			rt.Fatal(err)
		}
		c.Setup.Faults = drawSchedule(rt, targets.Tasks, targets.Workers)
		res, err := Run(c.Setup, RunOptions{FaultsMayNotFire: true}) // a drawn fault may come after the end
		if err != nil {
			rt.Fatal(err)
		}
		if !res.OK {
			var b strings.Builder
			for _, ch := range res.Checks {
				if !ch.OK {
					fmt.Fprintf(&b, "\n  ✗ %s: %s", ch.Name, ch.Detail)
				}
			}
			for _, s := range c.Setup.Faults {
				fmt.Fprintf(&b, "\n  fault: %s", s)
			}
			rt.Fatalf("%s under %s (case %d) failed:%s\n  replay: go test ./scenarios -run TestPropertyExactlyOnce -rapid.failfile=<the failfile above>",
				c.Setup.Name, proto, seed, b.String())
		}
	})
}
