package scenarios

import (
	"os"
	"runtime/debug"
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

// exploreGC counts the explorations running, so that overlapping ones (tests
// run in parallel) restore the collector's target once, when the last ends.
var exploreGC struct {
	mu      sync.Mutex
	running int
	prev    int
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
	}
	exploreGC.running++
	return func() {
		exploreGC.mu.Lock()
		defer exploreGC.mu.Unlock()
		exploreGC.running--
		if exploreGC.running == 0 {
			debug.SetGCPercent(exploreGC.prev)
		}
	}
}
