package simrun

import (
	"io"
	"sync"
)

// forEach calls fn(i) for every i in [0, n) on a pool of workers goroutines, each
// run independent of the others, with a progress bar on progressTo when it is a
// terminal. fn must only write to its own index's slots.
func forEach(n, workers int, progressTo io.Writer, fn func(i int)) {
	prog := newProgress(progressTo, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
				prog.done()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	prog.finish()
}
