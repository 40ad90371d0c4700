package scenarios

import (
	"flag"
	"testing"
)

// benchScenarios are the named scenarios BenchmarkScenario runs, each with its
// sources unbounded, for a stretch of simulated time (docs/performance.md quotes
// 5-minute runs of the first two from simrun run --json).
var benchScenarios = []struct{ name, protocol, duration string }{
	{"steady", "", "1 min"},
	{"flink-checkpointing-benchmark-1ms", "aligned", "1 min"},
	// a million keys copied by every synchronous snapshot, 5 per second
	{"checkpoint-overhead", "", "10 s"},
}

// benchDuration overrides the simulated time of every BenchmarkScenario run; a
// longer one (-scenario.duration '10 min') gives a CPU profile more samples.
var benchDuration = flag.String("scenario.duration", "", "simulated time of each BenchmarkScenario run (default: each scenario's)")

// benchSetup is a named scenario made unbounded and duration long.
func benchSetup(b *testing.B, name, protocol, duration string) *Setup {
	sc, err := Lookup(name)
	if err != nil {
		b.Fatal(err)
	}
	sc = sc.Clone()
	for _, src := range sc.Job.Sources {
		if err := sc.Override(src.Name+".records", "0"); err != nil {
			b.Fatal(err)
		}
	}
	if *benchDuration != "" {
		duration = *benchDuration
	}
	if err := sc.Override("duration", duration); err != nil {
		b.Fatal(err)
	}
	setup, err := sc.Setup(protocol)
	if err != nil {
		b.Fatal(err)
	}
	return setup
}

// BenchmarkScenario runs whole named scenarios (the run with faults and every
// oracle) and reports simulated seconds per wall second.
func BenchmarkScenario(b *testing.B) {
	for _, bs := range benchScenarios {
		b.Run(bs.name, func(b *testing.B) {
			setup := benchSetup(b, bs.name, bs.protocol, bs.duration)
			var simSec float64
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := Run(setup, RunOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if !res.OK {
					b.Fatalf("%s: %+v", bs.name, res.Checks)
				}
				simSec += res.SimTimeMS / 1000
			}
			b.ReportMetric(simSec/b.Elapsed().Seconds(), "simsec/s")
		})
	}
}

// propertyRunCases is the number of explore cases one BenchmarkPropertyRun op
// runs: always the same cases, so that every op costs the same and figures of
// different -benchtime or -count compare.
const propertyRunCases = 100

// BenchmarkPropertyRun runs explore's random cases (a random job, configuration,
// protocol and swarm fault schedule, then every oracle: reference, exactly-once
// state and output, verifying sink, two restore points) and reports runs per wall
// second on one core, with the collector's target Explore runs with (gc.go;
// GOGC=100 in the environment measures the default's). One op is the cases 0 to
// propertyRunCases-1 of root seed 1.
func BenchmarkPropertyRun(b *testing.B) {
	defer tuneExploreGC()()
	opts := ExploreOptions{}
	b.ReportAllocs()
	runs := 0
	for b.Loop() {
		runs += propertyRunCases
		for i := 0; i < propertyRunCases; i++ {
			if f, _, _, _ := exploreOne(CaseSeed(1, i), opts); f != nil {
				b.Fatalf("case %d failed %s: %s", f.Seed, f.Check, f.Detail)
			}
			tickExploreGC(1)
		}
	}
	b.ReportMetric(float64(runs)/b.Elapsed().Seconds(), "runs/s")
}
