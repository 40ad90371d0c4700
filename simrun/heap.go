package simrun

import (
	"runtime/metrics"
	"time"
)

// heapObjectsMetric is the memory the heap's objects occupy, live or not yet
// swept: what a run's data structures cost the process.
const heapObjectsMetric = "/memory/classes/heap/objects:bytes"

// heapSampleEvery is how often a heapSampler reads the heap's size. A run's
// heap grows and shrinks over many milliseconds (a checkpoint copies its state,
// a garbage collection frees it), so a peak shorter than this is all it misses.
const heapSampleEvery = 2 * time.Millisecond

// heapSampler follows the largest heap the process had while it ran: a
// goroutine of the harness reading runtime/metrics, outside every simulated
// world (it reads the Go runtime's counters only, so no trace can depend on it).
type heapSampler struct {
	stop chan struct{}
	done chan uint64
}

// startHeapSampler starts sampling the heap until Stop.
func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan uint64, 1)}
	go h.loop()
	return h
}

func (h *heapSampler) loop() {
	sample := []metrics.Sample{{Name: heapObjectsMetric}}
	var peak uint64
	read := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			peak = max(peak, sample[0].Value.Uint64())
		}
	}
	tick := time.NewTicker(heapSampleEvery)
	defer tick.Stop()
	for {
		read()
		select {
		case <-tick.C:
		case <-h.stop:
			read()
			h.done <- peak
			return
		}
	}
}

// Stop ends the sampling and returns the largest heap seen, in bytes.
func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	return <-h.done
}
