package scenarios

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// exploreGCPercent is the garbage collector's target (GOGC) while an exploration
// runs. Explore's random cases are small and short: each allocates a few MB and
// drops all of it when it ends, so the live heap stays a few tens of MB whatever
// the number of cases, and the default target (100) collects so often that the
// collector and the return of freed pages to the OS took about a quarter of the
// CPU (docs/performance.md, explore and BenchmarkPropertyRun). 400 lets the heap
// grow to five times the live data before a collection: a peak RSS of about 150
// MB instead of 80 for two workers, for about 25% less CPU per case. Above 400 the
// CPU saved stops growing while the heap still does. The collector never touches a
// simulation's trace: only when, not what, memory is reclaimed.
const exploreGCPercent = 400

// exploreHeapFloor is the smallest heap goal per concurrent run an exploration
// lets the collector aim at. The live heap between cases is only a few MB, so 400%
// of it still meant a collection every few tens of MB allocated: 200-250
// collections per 1000 cases at --parallel 1 and 100-125 at 2, with the collector
// and the return of pages to the OS (system time) on the second core at
// --parallel 1 but taken from the runs at --parallel 2. With the floor, 1000 cases
// collect about 60 and 35 times, for 4-7% less CPU and system time from 0.5 to 0.2
// s (docs/performance.md), the peak RSS of two workers from about 155 to 195 MB.
const exploreHeapFloor = 64 << 20

// exploreGC counts the explorations running, so that overlapping ones (tests
// run in parallel) restore the collector's target once, when the last ends, and
// holds what tickExploreGC last read.
var exploreGC struct {
	mu      sync.Mutex
	running int
	prev    int
	tuned   bool // the target is ours to change (GOGC was not set by the user)
	percent int  // the target as last set
	cycles  uint64
	samples []metrics.Sample
}

// tuneExploreGC sets the collector's target to exploreGCPercent for the duration
// of an exploration, unless the GOGC environment variable chooses one (then it is
// left as the user set it); the returned function restores the previous target.
func tuneExploreGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	exploreGC.mu.Lock()
	defer exploreGC.mu.Unlock()
	if exploreGC.running == 0 {
		exploreGC.prev = debug.SetGCPercent(exploreGCPercent)
		exploreGC.tuned, exploreGC.percent = true, exploreGCPercent
	}
	exploreGC.running++
	return func() {
		exploreGC.mu.Lock()
		defer exploreGC.mu.Unlock()
		exploreGC.running--
		if exploreGC.running == 0 {
			debug.SetGCPercent(exploreGC.prev)
			exploreGC.tuned = false
		}
	}
}

// tickExploreGC, called by an exploration's workers between cases, raises the
// collector's target above exploreGCPercent when that would aim at a heap below
// exploreHeapFloor per worker: after each collection, the target becomes the
// larger of exploreGCPercent and the percentage of the live heap that reaches
// the floor. It reads the runtime's metrics once per case and changes the target
// at most once per collection; it does nothing when the user's GOGC rules.
func tickExploreGC(workers int) {
	exploreGC.mu.Lock()
	defer exploreGC.mu.Unlock()
	if !exploreGC.tuned {
		return
	}
	if exploreGC.samples == nil {
		exploreGC.samples = []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
	}
	metrics.Read(exploreGC.samples)
	cycles, live := exploreGC.samples[0].Value.Uint64(), exploreGC.samples[1].Value.Uint64()
	if cycles == exploreGC.cycles || live == 0 {
		return
	}
	exploreGC.cycles = cycles
	if p := gcPercentFor(live, uint64(max(workers, 1))*exploreHeapFloor); p != exploreGC.percent {
		debug.SetGCPercent(p)
		exploreGC.percent = p
	}
}

// gcPercentFor is the collector target (at least exploreGCPercent) whose heap
// goal, live × (1 + target/100), is at least floor, rounded up to a multiple of
// 100 so that small changes of the live heap do not change it.
func gcPercentFor(live, floor uint64) int {
	if live == 0 || live*(1+exploreGCPercent/100) >= floor {
		return exploreGCPercent
	}
	return int((floor-1)/live) * 100 // ceil((floor-live)/live) hundreds
}
