package simrun

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// interruption catches SIGINT and SIGTERM during a long command (suite, sweep):
// the first signal stops new runs from starting while the runs in progress finish,
// so the command can write what it has and say it was interrupted; a second
// signal ends the process at once (the default handling is back by then).
type interruption struct {
	ch     chan os.Signal
	done   chan struct{}
	quit   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	sig    os.Signal
	stderr io.Writer
}

// catchInterrupts starts catching SIGINT and SIGTERM; stop ends it.
func catchInterrupts(stderr io.Writer) *interruption {
	in := &interruption{ch: make(chan os.Signal, 1), done: make(chan struct{}), quit: make(chan struct{}), stderr: stderr}
	signal.Notify(in.ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-in.ch:
			in.trip(s)
		case <-in.quit:
		}
	}()
	return in
}

// trip records the signal and stops new runs.
func (in *interruption) trip(s os.Signal) {
	in.once.Do(func() {
		signal.Stop(in.ch) // a second signal kills the process
		in.mu.Lock()
		in.sig = s
		in.mu.Unlock()
		fmt.Fprintln(in.stderr, "\nsimrun: interrupted: finishing the runs in progress, then writing what is done (interrupt again to quit at once)")
		close(in.done)
	})
}

// stop restores the default handling of the signals.
func (in *interruption) stop() {
	signal.Stop(in.ch)
	select {
	case <-in.quit:
	default:
		close(in.quit)
	}
}

// Done is closed once a signal arrived.
func (in *interruption) Done() <-chan struct{} { return in.done }

// interrupted reports whether a signal arrived.
func (in *interruption) interrupted() bool {
	select {
	case <-in.done:
		return true
	default:
		return false
	}
}

// err is the error of an interrupted command: exit status 128 + the signal's
// number (130 for SIGINT), as a shell reports a process killed by it.
func (in *interruption) err(what string) error {
	in.mu.Lock()
	s := in.sig
	in.mu.Unlock()
	code := 130
	if s == syscall.SIGTERM {
		code = 143
	}
	return &exitError{code: code, err: fmt.Errorf("interrupted: %s", what)}
}
