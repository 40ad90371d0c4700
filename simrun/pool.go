package simrun

import (
	"io"
	"sync"
)

// afterRun, when set (by tests), is called after each run of forEach.
var afterRun func()

// forEach calls fn(i) for every i in [0, n) on a pool of workers goroutines, each
// run independent of the others, with a progress bar on progressTo when it is a
// terminal. fn must only write to its own index's slots. Once stop is closed (nil:
// never) no new run starts; the runs in progress finish. It returns how many runs
// started: indices 0 to started-1, every one of them finished on return.
func forEach(n, workers int, progressTo io.Writer, stop <-chan struct{}, fn func(i int)) (started int) {
	prog := newProgress(progressTo, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
				prog.done()
				if afterRun != nil {
					afterRun()
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case <-stop:
			break feed
		default:
		}
		select {
		case next <- i:
			started++
		case <-stop:
			break feed
		}
	}
	close(next)
	wg.Wait()
	prog.finish()
	return started
}
